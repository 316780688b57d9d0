"""Limits a single account or request cannot push past: the body size (MAX_CONTENT_LENGTH), the
number and size of multipart parts (MAX_FORM_PARTS, MAX_FORM_MEMORY_SIZE), every text and list field
of the API, and the evidence a practitioner may keep (EVIDENCE_QUOTA_BYTES, EVIDENCE_MAX_VERSIONS).
Over a limit: 413 (409 for the version cap) in the JSON error shape for /api, a page otherwise, and
nothing stored: no row, no file."""

import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from directory.credentials.models import Credential, Evidence
from directory.extensions import db
from directory.practitioners.models import Practitioner
from tests.factories import PNG, signed_in, submission

MB = 1024 * 1024
KB = 1024
API_SUBMIT, PAGE_SUBMIT = "/api/v1/me/credentials", "/account/credentials"


def png(size: int) -> bytes:
    return PNG + b"\0" * (size - len(PNG))


def multipart(fields, files: dict | None = None) -> dict:
    """Encoded in memory (the test client spools big bodies to a file it never closes)."""
    data = list(fields.items()) if isinstance(fields, dict) else list(fields)
    data += [
        (name, FileStorage(io.BytesIO(content), filename))
        for name, (content, filename) in (files or {}).items()
    ]
    boundary, body = encode_multipart(MultiDict(data))
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def evidence_files(app) -> list[str]:
    folder = Path(app.config["DATA_DIR"]) / "evidence"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def stored() -> tuple[int, int]:
    db.session.expire_all()
    count = sa.select(sa.func.count()).select_from
    return db.session.scalar(count(Credential)), db.session.scalar(count(Evidence))


def assert_json_error(response, code: int, field: str | None = None) -> dict:
    body = response.get_json()
    assert response.status_code == code, response.get_data(as_text=True)[:500]
    assert body["code"] == code and body["status"] and body["message"], body
    assert field is None or field in body["errors"], body
    return body


def assert_page_error(response, code: int) -> str:
    text = response.get_data(as_text=True)
    assert response.status_code == code, text[:500]
    assert response.mimetype == "text/html" and text.lstrip().lower().startswith("<!doctype html"), text[:200]
    return text


@pytest.fixture
def practitioner(factory):
    p = factory.practitioner(display_name="Casey Lin", approach="Trigger point work.")
    p.headers = factory.headers(p.user)
    return p


@pytest.fixture
def browser(app, practitioner):
    return signed_in(app, practitioner.user)


def profile_of(practitioner) -> tuple[str, str]:
    db.session.expire_all()
    row = db.session.get(Practitioner, practitioner.id)
    return row.display_name, row.approach


# --- the whole body: MAX_CONTENT_LENGTH (6 MB) ------------------------------------------------------


def test_a_json_body_over_6_mb_is_413_and_changes_nothing(client, practitioner):
    body = json.dumps({"display_name": "Renamed", "approach": "x" * (7 * MB)})
    response = client.put(
        "/api/v1/me/profile", data=body, headers=practitioner.headers, content_type="application/json"
    )
    assert_json_error(response, 413)
    assert profile_of(practitioner) == ("Casey Lin", "Trigger point work.")


def test_an_upload_over_6_mb_is_413_on_the_api_and_stores_nothing(app, client, practitioner):
    body = multipart(submission(), {"evidence": (png(7 * MB), "licence.png")})
    assert_json_error(client.post(API_SUBMIT, headers=practitioner.headers, **body), 413)
    assert stored() == (0, 0) and evidence_files(app) == []


def test_an_upload_over_6_mb_is_a_413_page_and_stores_nothing(app, browser):
    body = multipart(submission(), {"evidence": (png(7 * MB), "licence.png")})
    assert_page_error(browser.post(PAGE_SUBMIT, **body), 413)
    assert stored() == (0, 0) and evidence_files(app) == []


def test_a_form_over_6_mb_is_a_413_page_and_changes_nothing(browser, practitioner):
    form = {"display_name": "Renamed", "approach": "x" * (7 * MB), "languages": "en"}
    assert_page_error(browser.post("/account", data=form), 413)
    assert profile_of(practitioner) == ("Casey Lin", "Trigger point work.")


def test_a_deeply_nested_json_body_is_a_400_not_a_500(client, practitioner):
    body = '{"display_name": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.put(
        "/api/v1/me/profile", data=body, headers=practitioner.headers, content_type="application/json"
    )
    assert_json_error(response, 400)


# --- multipart parts: MAX_FORM_PARTS (200) and MAX_FORM_MEMORY_SIZE (100 kB a text part) -------------

MANY_PARTS = [*submission().items(), *((f"x{n}", "1") for n in range(201))]
BIG_FIELD = {**submission(), "title": "x" * (100 * KB + 1)}


@pytest.mark.parametrize("fields", [MANY_PARTS, BIG_FIELD], ids=["201-parts", "101-kB-text-part"])
def test_too_many_parts_or_a_too_large_text_part_is_413(app, client, browser, practitioner, fields):
    body = multipart(fields, {"evidence": (PNG, "licence.png")})
    assert_json_error(client.post(API_SUBMIT, headers=practitioner.headers, **body), 413)
    assert_page_error(browser.post(PAGE_SUBMIT, **body), 413)
    assert stored() == (0, 0) and evidence_files(app) == []


NAMELESS = b'--XB\r\nContent-Disposition: form-data\r\n\r\nstatus=verified\r\n--XB\r\nContent-Disposition: form-data; name="status"\r\n\r\nverified\r\n--XB--\r\n'


@pytest.mark.parametrize(
    ("url", "who"),
    [
        (API_SUBMIT, "practitioner"),
        (API_SUBMIT + "/{pending}/evidence", "practitioner"),
        ("/api/v1/admin/issuers/camtc/roster", "admin"),
    ],
    ids=["submit", "resubmit", "roster"],
)
def test_a_part_without_a_name_is_a_422_not_a_500(client, factory, practitioner, url, who):
    headers = factory.headers(factory.user("admin")) if who == "admin" else practitioner.headers
    response = client.post(
        url.format(pending=1), data=NAMELESS, headers=headers, content_type="multipart/form-data; boundary=XB"
    )
    assert_json_error(response, 422)


def test_the_largest_legitimate_form_still_fits(app, browser, practitioner):
    # The longest text any form takes is 5000 characters; in 4-byte UTF-8 it is 20 kB, far under 100 kB.
    approach = "\U0001d11e" * 5000
    checked = [("techniques", slug) for slug in ("swedish-massage", "deep-tissue")]
    fields = [("display_name", "Casey Lin"), ("approach", approach), ("languages", "en, es"), *checked]
    response = browser.post("/account", **multipart(fields))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert profile_of(practitioner) == ("Casey Lin", approach)


def test_a_5_mb_file_passes_the_text_part_limit(app, client, practitioner):
    body = multipart(submission(), {"evidence": (png(5 * MB), "licence.png")})
    assert client.post(API_SUBMIT, headers=practitioner.headers, **body).status_code == 201
    assert stored() == (1, 1)


# --- the evidence quota per practitioner, and the versions per credential ---------------------------


@pytest.fixture
def small_quota(app):
    app.config.update(EVIDENCE_QUOTA_BYTES=10 * KB, EVIDENCE_MAX_VERSIONS=2)
    return app


def submit(client, headers, size: int, number: str):
    return client.post(
        API_SUBMIT,
        headers=headers,
        **multipart(submission(number=number), {"evidence": (png(size), "l.png")}),
    )


def test_the_quota_counts_every_file_of_the_practitioner(small_quota, client, practitioner):
    assert submit(client, practitioner.headers, 4 * KB, "CMT-1101").status_code == 201
    assert submit(client, practitioner.headers, 6 * KB, "CMT-1102").status_code == 201  # exactly 10 kB in all
    files = evidence_files(small_quota)
    body = assert_json_error(submit(client, practitioner.headers, 1, "CMT-1103"), 413, "evidence")
    assert re.search(r"10 kB in all and 0 kB is left", body["message"]), body
    assert stored() == (2, 2) and evidence_files(small_quota) == files


def test_over_quota_on_the_page_is_413_naming_the_file_field(small_quota, client, browser, practitioner):
    assert submit(client, practitioner.headers, 8 * KB, "CMT-1101").status_code == 201
    files = evidence_files(small_quota)
    body = multipart(submission(number="CMT-1102"), {"evidence": (png(4 * KB), "licence.png")})
    text = browser.post(PAGE_SUBMIT, **body).get_data(as_text=True)
    assert "10 kB in all and 2 kB is left; this file is 4 kB" in text
    assert re.search(r'id="evidence"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="evidence"', text)
    assert stored() == (1, 1) and evidence_files(small_quota) == files


def test_the_quota_is_per_practitioner(small_quota, client, factory, practitioner):
    assert submit(client, practitioner.headers, 10 * KB, "CMT-1101").status_code == 201
    other = factory.practitioner()
    assert submit(client, factory.headers(other.user), 10 * KB, "CMT-1201").status_code == 201


def decide(client, admin_headers, cid: int, action: str = "reject"):
    url = f"/api/v1/admin/credentials/{cid}/decision"
    response = client.post(url, json={"action": action, "reason": "Unreadable."}, headers=admin_headers)
    assert response.status_code == 200, response.get_json()


def resubmit(client, headers, cid: int, size: int):
    url = f"{API_SUBMIT}/{cid}/evidence"
    return client.post(url, headers=headers, **multipart({}, {"evidence": (png(size), "again.png")}))


def test_a_resubmission_over_quota_is_413_and_keeps_the_credential_as_it_was(
    small_quota, client, factory, practitioner
):
    admin = factory.headers(factory.user("admin"))
    cid = submit(client, practitioner.headers, 6 * KB, "CMT-1101").get_json()["id"]
    decide(client, admin, cid)
    files = evidence_files(small_quota)
    assert_json_error(resubmit(client, practitioner.headers, cid, 5 * KB), 413, "evidence")
    assert stored() == (1, 1) and evidence_files(small_quota) == files
    assert db.session.get(Credential, cid).status == "rejected"


def test_a_credential_keeps_at_most_the_configured_evidence_versions(
    small_quota, client, factory, practitioner
):
    admin = factory.headers(factory.user("admin"))
    cid = submit(client, practitioner.headers, 1 * KB, "CMT-1101").get_json()["id"]
    decide(client, admin, cid)
    assert resubmit(client, practitioner.headers, cid, 1 * KB).status_code == 200
    decide(client, admin, cid)
    files = evidence_files(small_quota)
    body = assert_json_error(resubmit(client, practitioner.headers, cid, 1 * KB), 409, "evidence")
    assert "2 evidence versions" in body["message"]
    assert stored() == (1, 2) and evidence_files(small_quota) == files


def test_the_upload_operations_document_their_413(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (API_SUBMIT, API_SUBMIT + "/{credential_id}/evidence"):
        assert "quota" in paths[path]["post"]["responses"]["413"]["description"]


# --- every text and list field of the API has a bound -----------------------------------------------

UNBOUNDED_QUANTIFIER = re.compile(r"(?<!\\)[*+]|\{\d+,\}")


def _gaps(schema: dict, spec: dict, where: str) -> list[str]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("readOnly"):
        return []
    kind = schema.get("type")
    if kind == "array":
        own = [] if "maxItems" in schema else [where]
        return own + _gaps(schema.get("items", {}), spec, where + "[]")
    if kind == "string":
        pattern = schema.get("pattern")
        bounded = (
            "maxLength" in schema
            or "enum" in schema
            or schema.get("format") in ("date", "date-time", "binary")
            or (pattern is not None and not UNBOUNDED_QUANTIFIER.search(pattern))
        )
        return [] if bounded else [where]
    return [
        gap
        for name, sub in schema.get("properties", {}).items()
        for gap in _gaps(sub, spec, f"{where}.{name}")
    ]


def unbounded_inputs(client) -> set[str]:
    spec = client.get("/api/v1/openapi.json").get_json()
    gaps = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            op = f"{method.upper()} {path}"
            for param in operation.get("parameters", []):
                if param.get("in") == "query":
                    gaps |= set(_gaps(param["schema"], spec, f"{op} query.{param['name']}"))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                gaps |= set(_gaps(content["schema"], spec, f"{op} body"))
    return gaps


def test_every_text_and_list_input_of_the_api_has_a_maximum(client):
    assert unbounded_inputs(client) == set()
