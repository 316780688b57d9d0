"""Credential numbers in each issuer's canonical form: spellings of one number are one, look-alikes none."""

import pytest
import sqlalchemy as sa

from directory.catalog.models import Issuer
from directory.credentials import numbers
from directory.credentials.models import Credential
from directory.extensions import db


def fmt(slug: str) -> numbers.NumberFormat:
    return numbers.NumberFormat.of(db.session.scalar(sa.select(Issuer).where(Issuer.slug == slug)))


@pytest.mark.parametrize(
    ("slug", "typed", "key"),
    [
        ("camtc", "CMT-1001", "CMT1001"),
        ("camtc", "cmt 1001", "CMT1001"),
        ("camtc", "  CMT1001 ", "CMT1001"),
        ("tx-tdlr", "mt-123456", "MT123456"),
        ("fl-bmt", "MA 12345", "MA12345"),
        ("ny-sed", "012345", "012345"),
        ("wa-doh", "MA60123456", "MA60123456"),
        ("il-idfpr", "227.012345", "227012345"),
        ("il-idfpr", "227 012345", "227012345"),
        ("ncbtmb", "123456-00", "12345600"),
        # Where an issuer's format is unknown: letters and digits, hyphens kept as they are.
        ("nmt-center", "nmt-7", "NMT-7"),
        ("namtpt", "CMTPT-2020-0042", "CMTPT-2020-0042"),
    ],
)
def test_spellings_of_one_number_are_one(app, slug, typed, key):
    assert numbers.canonical(typed, fmt(slug)) == key


@pytest.mark.parametrize(
    ("slug", "typed", "why"),
    [
        ("camtc", "СМТ-1001", "U+0421"),  # Cyrillic ES and EM look like C and M
        ("camtc", "CMT-１００１", "U+FF11"),  # full-width digits
        ("camtc", "CMT-1OO1", "not how"),  # the letter O for a zero
        ("camtc", "CMT-10\u200b01", "U+200B"),  # a zero-width space
        ("camtc", "CMT-1001\u0301", "U+0301"),  # a combining accent
        ("camtc", "CMT-1\x0001", "U+0000"),
        ("camtc", "CMT-12", "not how"),  # too short for this issuer
        ("camtc", "1001", "not how"),  # the issuer's prefix is part of the number
        ("camtc", "CMT  1001", "more than one space"),
        ("ny-sed", "01234", "not how"),
        ("il-idfpr", "228.012345", "not how"),
        ("nmt-center", "NMT_7", "not how"),  # an underscore is not a hyphen
        ("nmt-center", "NMT--7", "not how"),
        ("nmt-center", "", "Give the number"),
    ],
)
def test_look_alikes_and_malformed_numbers_are_refused(app, slug, typed, why):
    with pytest.raises(numbers.NumberRefused) as refused:
        numbers.canonical(typed, fmt(slug), "The issuer")
    assert why in str(refused.value)


@pytest.mark.parametrize(
    "typed",
    [
        "СМТ-1001",
        "CMT-１００１",
        "CMT-1OO1",
        "CMT-10\u200b01",
        "CMT-12",
        "ＣＭＴ-1001",
        "CMT-1001/",
        "x" * 81,
    ],
)
def test_a_claim_with_such_a_number_is_a_422_naming_number(practitioner, submit, typed):
    response = submit(practitioner.headers, number=typed)

    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]) == ["number"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Credential)) == 0


@pytest.mark.parametrize("typed", ["СМТ-1001", "CMT-１００１", "CMT 1OO1"])
def test_the_lookup_refuses_look_alikes_rather_than_finding_a_holder(client, typed):
    response = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": typed})

    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["number"]


def test_issuers_publish_their_number_format(client):
    issuers = {i["slug"]: i for i in client.get("/api/v1/issuers").get_json()}

    assert issuers["camtc"]["number_format"] == {
        "pattern": r"CMT\d{4,8}",
        "separators": " -",
        "example": "CMT-12345",
    }
    assert issuers["nmt-center"]["number_format"]["separators"] == ""


@pytest.mark.parametrize(
    ("typed", "number_format", "name", "message"),
    [
        ("", numbers.NumberFormat(), None, "Give the number as it is printed on the licence or certificate."),
        ("CMT-12", None, None, "That is not how this issuer numbers are written. It looks like CMT-12345."),
        # A tilde is printable: the number is refused for its two spaces, not for the tilde.
        ("CMT~10  01", None, None, "The number has more than one space in a row."),
        ("NMT_7", numbers.NumberFormat(), "The issuer", "That is not how The issuer numbers are written."),
    ],
)
def test_a_refusal_says_what_is_wrong_in_words(app, typed, number_format, name, message):
    args = (name,) if name else ()
    with pytest.raises(numbers.NumberRefused) as refused:
        numbers.canonical(typed, number_format or fmt("camtc"), *args)
    assert str(refused.value) == message


def test_a_claim_s_refused_number_names_the_issuer_and_its_example(practitioner, submit):
    response = submit(practitioner.headers, number="CMT-12")

    assert response.status_code == 422, response.get_json()
    message = (
        "That is not how California Massage Therapy Council numbers are written. It looks like CMT-12345."
    )
    assert response.get_json()["errors"] == {"number": [message]}
