"""Each badge and expiry rule where people see it: the profile page, the search cards (page and JSON),
the profile JSON, the public lookup (page and JSON), and the signed record (its `exp`, and what its
online check says). One table of credentials, each looked at on "today" as the clock fixture sets it;
a place that stops applying a rule (reads the stored status instead of what it means today, say)
fails here for the rows that rule decides.

The rules (standing.py): a verified credential reads expired once the day after its expiry in force
begins; its re-check falls due a year after the source last confirmed it (or on its expiry, if
sooner), and it keeps the badge, marked "re-check due", for 30 days after that, then reads lapsed."""

import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from werkzeug.datastructures import FileStorage

from directory.credentials import lifecycle, service
from directory.credentials.lifecycle import Facts
from directory.credentials.models import Credential
from directory.extensions import db
from tests.credentials.roster_kit import offline_check
from tests.factories import PNG

NUMBER = "CMT-1001"
LEGAL_NAME = "Casey Lin"


@dataclass(frozen=True)
class Case:
    verified_days_ago: int
    expires_in: int | None  # days from today to the expiry the source showed; None: it shows none
    then: str | None  # a move made today, before anyone looks
    status: str  # what the public reads
    label: str
    live: bool  # the badge shows
    # For a live badge: the day (from today) at whose midnight UTC a record issued today stops, when
    # the end of the badge comes before the 30-day cap; None: the cap.
    record_ends_in: int | None = None


CASES = {
    "verified": Case(10, 400, None, "verified", "verified", True),
    "expires today": Case(10, 0, None, "verified", "re-check due", True, record_ends_in=1),
    "expired yesterday": Case(10, -1, None, "expired", "expired", False),
    "revoked": Case(10, 400, "revoke", "revoked", "revoked", False),
    "lapsed off the roster": Case(10, 400, "lapse", "lapsed", "lapsed", False),
    "sent back for a re-check": Case(10, 400, "recheck", "recheck", "sent back for a re-check", False),
    "re-check due": Case(375, None, None, "verified", "re-check due", True, record_ends_in=21),
    "last day of the grace": Case(395, None, None, "verified", "re-check due", True, record_ends_in=1),
    "grace over": Case(396, None, None, "lapsed", "lapsed: not re-checked", False),
}
MOVE_METHODS = {"revoke": "revocation", "lapse": "roster", "recheck": "legal-name"}


@dataclass
class Shown:
    practitioner_id: int
    credential_id: int
    jti: str  # a signed record issued yesterday, while the badge showed


@pytest.fixture
def shown(factory, client, clock):
    """The credential of a case, verified `verified_days_ago` and looked at today."""

    def make(case: Case) -> Shown:
        clock.advance(days=-case.verified_days_ago)
        expiry = None if case.expires_in is None else date_in(clock, case.verified_days_ago + case.expires_in)
        practitioner = factory.practitioner(display_name="Casey Lin", legal_name=LEGAL_NAME)
        factory.location(practitioner)
        claim = {
            "issuer": "camtc",
            "kind": "license",
            "title": "Massage Therapist",
            "number": NUMBER,
            "issued_on": date(2015, 6, 1),
            "expires_on": expiry,
            "techniques": [],
        }
        credential = service.submit(practitioner.user, claim, FileStorage(io.BytesIO(PNG), "licence.png"))
        lifecycle.transition(
            credential, "verify", None, facts=Facts(legal_name=LEGAL_NAME, expires_on=expiry)
        )
        db.session.commit()

        clock.advance(days=case.verified_days_ago - 1)
        record = client.get(f"/api/v1/credentials/{credential.id}/attestation")
        assert record.status_code == 200, record.get_json()
        jti = offline_check(record.get_json()["jws"], jwks(client)).claims["jti"]

        clock.advance(days=1)
        if case.then:
            credential = db.session.get(Credential, credential.id)
            lifecycle.transition(
                credential, case.then, None, reason="Checked.", method=MOVE_METHODS[case.then]
            )
            db.session.commit()
        return Shown(practitioner.id, credential.id, jti)

    return make


def date_in(clock, days: int) -> date:
    return clock.today() + timedelta(days=days)


def jwks(client) -> dict:
    return client.get("/.well-known/jwks.json").get_json()


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


table = pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())


@table
def test_the_profile_page(client, shown, case):
    s = shown(case)
    page = flat(client.get(f"/practitioners/{s.practitioner_id}").get_data(as_text=True))

    assert ('<span class="badge verified">Verified credential</span>' in page) is case.live
    item = re.search(r'<li class="credential status-([a-z]+)">(.*?)</li>', page).groups()
    assert item[0] == case.status
    badge = "badge verified" if case.live else f"badge status status-{case.status}"
    assert f'<span class="{badge}">{case.label}</span>' in item[1]


@table
def test_the_profile_json(client, shown, case):
    s = shown(case)
    profile = client.get(f"/api/v1/practitioners/{s.practitioner_id}").get_json()

    assert profile["verified"] is case.live
    (credential,) = profile["credentials"]
    assert (credential["status"], credential["label"]) == (case.status, case.label)
    assert credential["recheck_due"] is (case.label == "re-check due")


@table
def test_the_search_cards_json(client, shown, case):
    s = shown(case)
    (card,) = client.get("/api/v1/search", query_string={"near": "78701"}).get_json()["results"]

    assert card["id"] == s.practitioner_id and card["verified"] is case.live
    assert [(c["status"], c["label"]) for c in card["credentials"]] == [(case.status, case.label)]
    # The filter reads the index, the cards the database: both apply the same day's rules.
    only_verified = client.get("/api/v1/search", query_string={"near": "78701", "verified": "true"})
    assert [r["id"] for r in only_verified.get_json()["results"]] == (
        [s.practitioner_id] if case.live else []
    )


@table
def test_the_search_cards_page(client, shown, case):
    s = shown(case)
    page = flat(client.get("/", query_string={"near": "78701"}).get_data(as_text=True))

    card = re.search(rf'<li class="result" data-id="{s.practitioner_id}">(.*?)</li>', page).group(1)
    assert ('<span class="badge verified">Verified</span>' in card) is case.live


@table
def test_the_public_lookup(client, shown, case):
    shown(case)
    found = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": NUMBER})
    page = flat(
        client.get("/verify", query_string={"issuer": "camtc", "number": NUMBER}).get_data(as_text=True)
    )

    if case.status == "revoked":  # nobody holds a revoked number: the lookup names no one
        assert found.status_code == 404 and page.count(LEGAL_NAME) == 0
        return
    assert found.status_code == 200
    body = found.get_json()
    assert (body["status"], body["label"], body["recheck_due"]) == (
        case.status,
        case.label,
        case.label == "re-check due",
    )
    assert f"<dt>Status</dt><dd>{case.label}</dd>" in page


@table
def test_a_signed_record_issued_today(client, shown, clock, case):
    s = shown(case)
    record = client.get(f"/api/v1/credentials/{s.credential_id}/attestation")

    if not case.live:
        assert record.status_code == 404
        return
    claims = offline_check(record.get_json()["jws"], jwks(client)).claims
    assert claims["credential"]["status"] == "verified"
    if case.record_ends_in is None:
        assert claims["exp"] - claims["iat"] == 30 * 24 * 3600
    else:
        ends = datetime.combine(date_in(clock, case.record_ends_in), time.min, tzinfo=UTC)
        assert claims["exp"] == int(ends.timestamp())


@table
def test_the_online_check_of_yesterdays_record(client, shown, case):
    s = shown(case)
    check = client.get(f"/api/v1/attestations/{s.jti}").get_json()

    assert check["good"] is case.live
    assert check["credential_status"] == case.status
    assert (check["status"] == "good") is case.live
