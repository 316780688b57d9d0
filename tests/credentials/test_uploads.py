"""The upload gauntlet of POST /api/v1/me/credentials: size, type by content, names, fields, roles."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from directory.credentials.models import Credential, Evidence
from directory.extensions import db
from directory.timeutil import today_utc
from tests.factories import PDF, PNG, evidence_dir, submission

MB5 = 5 * 1024 * 1024
URL = "/api/v1/me/credentials"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32 + b"\xff\xd9"
PDF_WITH_SCRIPT = (
    b"%PDF-1.7\n1 0 obj<</JS(app.alert(1))>>endobj\n<html><script>alert(1)</script></html>\n%%EOF\n"
)


def padded(head: bytes, size: int, tail: bytes = b"") -> bytes:
    return head + b"\x00" * (size - len(head) - len(tail)) + tail


def big_pdf(size: int) -> bytes:
    return padded(b"%PDF-1.4\n", size, b"\n%%EOF\n")


def post(client, headers, file_bytes=PNG, filename="licence.png", content_type=None, **fields):
    """Multipart encoded in memory: the test client spools big bodies to a temp file it never
    closes, which `filterwarnings = error` would report as an unclosed file."""
    data = {k: v for k, v in submission(**fields).items() if v is not None}
    if file_bytes is not None:
        data["evidence"] = FileStorage(io.BytesIO(file_bytes), filename, content_type=content_type)
    boundary, body = encode_multipart(data)
    return client.post(
        URL, data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}"
    )


def stored_files(app) -> list[str]:
    folder = evidence_dir(app)
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def credential_count() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Credential))


def assert_refused(app, response, code: int, field: str | None = None) -> None:
    """The error shape, and no trace left: no row, no file."""
    body = response.get_json()
    assert response.status_code == code, body
    assert body["code"] == code and isinstance(body["status"], str) and body["message"], body
    if field:
        assert field in body["errors"], body
    assert credential_count() == 0
    assert stored_files(app) == []


def download(client, headers, cid, version=None, admin=False, inline=False):
    url = f"/api/v1/admin/credentials/{cid}/evidence" if admin else f"{URL}/{cid}/evidence/file"
    query = {k: v for k, v in {"version": version, "inline": "true" if inline else None}.items() if v}
    response = client.get(url, headers=headers, query_string=query)
    data, headers_ = response.data, response.headers
    response.close()
    return response.status_code, data, headers_


# --- size ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [(big_pdf(MB5), "application/pdf"), (padded(PNG, MB5), "image/png"), (padded(JPEG, MB5), "image/jpeg")],
    ids=["pdf", "png", "jpeg"],
)
def test_exactly_5_mb_is_accepted(app, client, practitioner, content, kind):
    response = post(client, practitioner.headers, content, "licence.bin")
    assert response.status_code == 201, response.get_json()
    evidence = response.get_json()["evidence"][0]
    assert (evidence["content_type"], evidence["size"]) == (kind, MB5)
    [name] = stored_files(app)
    assert (evidence_dir(app) / name).stat().st_size == MB5


@pytest.mark.parametrize(
    "content",
    [big_pdf(MB5 + 1), padded(PNG, MB5 + 1), padded(PNG, 7 * 1024 * 1024)],
    ids=["pdf", "png", "7mb"],
)
def test_one_byte_over_5_mb_is_413(app, client, practitioner, content):
    assert_refused(app, post(client, practitioner.headers, content), 413)


# --- type by content ----------------------------------------------------------------------------

REFUSED_TYPES = {
    "html-as-pdf": (b"<!DOCTYPE html><html><body>Licence</body></html>", "licence.pdf", "application/pdf"),
    "script-as-pdf": (b"<script>fetch('/api/v1/me')</script>", "licence.pdf", "application/pdf"),
    "svg": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "licence.svg",
        "image/svg+xml",
    ),
    "svg-as-png": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "licence.png", "image/png"),
    "gif-html-polyglot": (b"GIF89a/*<html><script>alert(1)</script>*/=1;", "licence.gif", "image/gif"),
    "html-then-pdf": (b"<html><script>alert(1)</script>\n" + PDF, "licence.pdf", "application/pdf"),
    "space-then-pdf": (b" " + PDF, "licence.pdf", "application/pdf"),
    "pdf-without-eof": (
        b"%PDF-1.4\n<html><script>alert(1)</script></html>",
        "licence.pdf",
        "application/pdf",
    ),
    "zip": (b"PK\x03\x04" + b"\x00" * 40, "licence.pdf", "application/pdf"),
    "text": (b"just words", "licence.txt", "text/plain"),
}


@pytest.mark.parametrize(("content", "filename", "declared"), REFUSED_TYPES.values(), ids=REFUSED_TYPES)
def test_only_pdf_png_jpeg_by_content_415(app, client, practitioner, content, filename, declared):
    response = post(client, practitioner.headers, content, filename, content_type=declared)
    assert_refused(app, response, 415, "evidence")


def test_a_pdf_containing_script_is_kept_but_never_served_to_run(client, practitioner, admin_headers):
    response = post(client, practitioner.headers, PDF_WITH_SCRIPT, "licence.html", content_type="text/html")
    assert response.status_code == 201, response.get_json()
    cid = response.get_json()["id"]
    assert response.get_json()["evidence"][0]["content_type"] == "application/pdf"
    for admin, inline in ((True, False), (True, True), (False, False)):
        status, data, headers = download(
            client, admin_headers if admin else practitioner.headers, cid, admin=admin, inline=inline
        )
        assert status == 200 and data == PDF_WITH_SCRIPT
        assert headers["Content-Type"] == "application/pdf"
        assert headers["Content-Disposition"].startswith("attachment")
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert re.match(r"sandbox(;|$)", headers["Content-Security-Policy"])
        assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_a_png_with_html_after_its_header_previews_only_as_an_image(client, practitioner, admin_headers):
    content = PNG + b"<html><script>alert(1)</script></html>"
    cid = post(client, practitioner.headers, content, "x.html", content_type="text/html").get_json()["id"]
    status, _, headers = download(client, admin_headers, cid, admin=True, inline=True)
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith("inline")
    assert headers["X-Content-Type-Options"] == "nosniff" and "sandbox" in headers["Content-Security-Policy"]


def test_the_declared_content_type_is_not_believed(client, practitioner):
    response = post(client, practitioner.headers, PNG, "scan.txt", content_type="text/plain")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["evidence"][0]["content_type"] == "image/png"


@pytest.mark.parametrize("filename", ["empty.png", ""])
def test_an_empty_file_is_refused(app, client, practitioner, filename):
    response = post(client, practitioner.headers, b"", filename)
    assert 400 <= response.status_code < 500
    assert_refused(app, response, response.status_code, "evidence")


def test_missing_evidence_is_422_naming_it(app, client, practitioner):
    assert_refused(app, post(client, practitioner.headers, None), 422, "evidence")


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "../../evil.png",
        "..\\..\\evil.png",
        "/etc/evil.png",
        "../../../../tmp/evil.png",
        "%2e%2e%2fevil.png",
        "a/./../evil.png",
    ],
)
def test_a_path_in_the_filename_goes_nowhere(app, client, practitioner, admin_headers, tmp_path, filename):
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    response = post(client, practitioner.headers, PNG, filename)
    assert response.status_code == 201, response.get_json()
    cid = response.get_json()["id"]

    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.credential_id == cid))
    assert re.fullmatch(r"[0-9a-f]{32}\.bin", evidence.stored_name)
    assert (evidence_dir(app) / evidence.stored_name).read_bytes() == PNG
    added = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    outside = [p for p in added if evidence_dir(app) not in p.parents and "search" not in p.parts]
    assert outside == [] and not any("evil" in p.name for p in added)
    naive = (evidence_dir(app) / filename.replace("\\", "/")).resolve()  # where a careless join would land
    assert not naive.exists() and not naive.with_name("evil.png").exists()

    for admin in (True, False):
        status, data, headers = download(
            client, admin_headers if admin else practitioner.headers, cid, admin=admin
        )
        assert status == 200 and data == PNG
        disposition = headers["Content-Disposition"]
        assert disposition.startswith("attachment") and "\n" not in disposition
        named = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]*)", disposition).group(1)
        assert named and "/" not in named and "\\" not in named


# --- form fields --------------------------------------------------------------------------------


def day(offset: int) -> str:
    return (today_utc() + timedelta(days=offset)).isoformat()


BAD_FIELDS = {
    "unknown-issuer": ({"issuer": "hogwarts"}, "issuer"),
    "kind-diploma": ({"kind": "diploma"}, "kind"),
    "no-title": ({"title": None}, "title"),
    "blank-title": ({"title": "   "}, "title"),
    "no-number": ({"number": None}, "number"),
    "no-issued-on": ({"issued_on": None}, "issued_on"),
    "issued-tomorrow": ({"issued_on": day(1)}, "issued_on"),
    "bad-date": ({"issued_on": "2020-13-40"}, "issued_on"),
    "bad-expiry": ({"expires_on": "soon"}, "expires_on"),
    "expires-before-issued": ({"issued_on": "2015-06-01", "expires_on": "2015-05-31"}, "expires_on"),
    "techniques-on-a-licence": ({"techniques": ["trigger-point-therapy"]}, "techniques"),
    "unknown-technique": ({"issuer": "nmt-center", "techniques": ["reiki-laser"]}, "techniques"),
    "status-verified": ({"status": "verified"}, "status"),
    "practitioner-id": ({"practitioner_id": "1"}, "practitioner_id"),
}


@pytest.mark.parametrize(("fields", "field"), BAD_FIELDS.values(), ids=BAD_FIELDS)
def test_bad_fields_are_422_naming_the_field(app, client, practitioner, fields, field):
    assert_refused(app, post(client, practitioner.headers, **fields), 422, field)


def test_a_training_certificate_names_the_techniques_it_covers(client, practitioner):
    fields = {"issuer": "nmt-center", "kind": "certification", "techniques": ["trigger-point-therapy"]}
    response = post(client, practitioner.headers, **fields)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["techniques"] == ["trigger-point-therapy"]


@pytest.mark.parametrize("fields", [{}, {"kind": "diploma", "status": "verified"}], ids=["good", "bad"])
@pytest.mark.parametrize(("role", "code"), [("client", 403), ("admin", 403), (None, 401)])
def test_only_practitioners_submit(app, client, factory, role, code, fields):
    headers = factory.headers(factory.user(role)) if role else {}
    assert_refused(app, post(client, headers, **fields), code)


def test_a_practitioner_without_a_profile_is_told_so(app, client, factory):
    assert_refused(app, post(client, factory.headers(factory.user("practitioner"))), 404)


# --- duplicates and resubmission ----------------------------------------------------------------


def decide(client, headers, cid, action):
    response = client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": action, "reason": "Blurry"},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("decided", [None, "verify"])
def test_the_same_issuer_and_number_again_is_409(app, client, practitioner, admin_headers, decided):
    cid = post(client, practitioner.headers).get_json()["id"]
    if decided:
        decide(client, admin_headers, cid, decided)
    files = stored_files(app)
    response = post(client, practitioner.headers, PDF, "again.pdf")
    assert response.status_code == 409 and response.get_json()["code"] == 409
    assert credential_count() == 1 and stored_files(app) == files


def resubmit(client, headers, cid, content=PDF, filename="second.pdf"):
    return client.post(
        f"{URL}/{cid}/evidence",
        data={"evidence": (io.BytesIO(content), filename)},
        headers=headers,
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("decided", [None, "verify"])
def test_only_rejected_or_expired_can_be_resubmitted(app, client, practitioner, admin_headers, decided):
    cid = post(client, practitioner.headers).get_json()["id"]
    if decided:
        decide(client, admin_headers, cid, decided)
    files = stored_files(app)
    response = resubmit(client, practitioner.headers, cid)
    assert response.status_code == 409 and response.get_json()["code"] == 409
    assert stored_files(app) == files
    assert len(db.session.get(Credential, cid).evidence) == 1


def test_a_resubmission_adds_version_2_and_keeps_version_1(app, client, practitioner, admin_headers):
    cid = post(client, practitioner.headers).get_json()["id"]
    decide(client, admin_headers, cid, "reject")
    refused = resubmit(client, practitioner.headers, cid, b"<svg/>", "second.svg")
    assert refused.status_code == 415 and len(stored_files(app)) == 1

    response = resubmit(client, practitioner.headers, cid)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending" and body["reason"] == ""
    assert [(e["version"], e["content_type"]) for e in body["evidence"]] == [
        (1, "image/png"),
        (2, "application/pdf"),
    ]
    assert len(stored_files(app)) == 2
    for headers, admin in ((admin_headers, True), (practitioner.headers, False)):
        assert download(client, headers, cid, admin=admin)[1] == PDF
        assert download(client, headers, cid, version=2, admin=admin)[1] == PDF
        assert download(client, headers, cid, version=1, admin=admin)[1] == PNG
        assert download(client, headers, cid, version=3, admin=admin)[0] == 404
    assert resubmit(client, practitioner.headers, cid).status_code == 409


def test_someone_elses_credential_cannot_be_resubmitted(client, factory, practitioner, admin_headers):
    cid = post(client, practitioner.headers).get_json()["id"]
    decide(client, admin_headers, cid, "reject")
    other = factory.headers(factory.practitioner().user)
    assert resubmit(client, other, cid).status_code == 404
    assert len(db.session.get(Credential, cid).evidence) == 1
