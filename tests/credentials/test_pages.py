"""The credential pages: self-service, admin queue and decisions, public lookup, profile badges."""

import io
import re
from datetime import timedelta

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import EnvironBuilder

from directory.credentials import decisions, service, standing
from directory.credentials.models import Credential
from directory.credentials.schemas import CredentialInSchema
from directory.extensions import db
from directory.timeutil import today_utc
from tests.factories import PDF, PNG, csrf_signed_in, signed_in, submission

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def page_form(file_bytes=PNG, filename="licence.png", **overrides) -> dict:
    data = submission(**overrides)
    if file_bytes is not None:
        data["evidence"] = (io.BytesIO(file_bytes), filename)
    return data


def post_form(client, url, data):
    """A multipart POST whose encoded body is closed afterwards: werkzeug spools a large one to a
    temporary file that the test client leaves open (an unraisable ResourceWarning)."""
    request = EnvironBuilder(url, method="POST", data=data, content_type="multipart/form-data").get_request()
    try:
        return client.open(request)
    finally:
        request.environ["wsgi.input"].close()


def resubmit(client, credential_id: int, file_bytes=PDF):
    return post_form(
        client,
        f"/account/credentials/{credential_id}/resubmit",
        {"evidence": (io.BytesIO(file_bytes), "l.pdf")},
    )


def add_credential(practitioner, file_bytes=PNG, filename="licence.png", **fields) -> int:
    upload = FileStorage(io.BytesIO(file_bytes), filename=filename)
    data = CredentialInSchema().load(submission(**fields))
    return service.submit(practitioner.user, data, upload).id


@pytest.fixture
def owner(app, practitioner):
    practitioner.web = signed_in(app, practitioner.user)
    return practitioner


@pytest.fixture
def admin(app, factory):
    user = factory.user("admin")
    user.web = signed_in(app, user)
    return user


@pytest.fixture
def pending(owner):
    return add_credential(owner)


def test_pages_send_anonymous_visitors_to_sign_in(client, pending):
    for url in (
        "/account/credentials",
        f"/account/credentials/{pending}/evidence/1",
        "/admin",
        "/admin/credentials",
        f"/admin/credentials/{pending}",
        f"/admin/credentials/{pending}/evidence/1",
        f"/admin/credentials/{pending}/evidence/1/preview",
        "/admin/audit",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url in (f"/admin/credentials/{pending}/decision", f"/account/credentials/{pending}/resubmit"):
        assert client.post(url, data={"action": "verify"}).status_code == 302
    assert client.get("/verify").status_code == 200
    assert db.session.get(Credential, pending).status == "pending"


def test_each_page_is_for_its_own_people(app, factory, owner, admin, pending):
    someone = signed_in(app, factory.user("client"))
    other = signed_in(app, factory.practitioner(display_name="Other").user)
    admin_urls = (
        "/admin",
        "/admin/credentials",
        f"/admin/credentials/{pending}",
        f"/admin/credentials/{pending}/evidence/1",
        f"/admin/credentials/{pending}/evidence/1/preview",
        "/admin/audit",
    )
    for url in admin_urls:
        assert someone.get(url).status_code == 403, url
        assert owner.web.get(url).status_code == 403, url
        response = admin.web.get(url)
        assert response.status_code == 200, url
        response.close()
    assert (
        owner.web.post(f"/admin/credentials/{pending}/decision", data={"action": "verify"}).status_code == 403
    )
    assert someone.get("/account/credentials").status_code == 403
    assert admin.web.get("/account/credentials").status_code == 403
    assert other.get("/account/credentials").status_code == 200
    assert "CMT-1001" not in other.get("/account/credentials").get_data(as_text=True)
    # Evidence: the owner downloads it; another practitioner is told it does not exist.
    own = owner.web.get(f"/account/credentials/{pending}/evidence/1")
    assert own.status_code == 200 and own.data.startswith(b"\x89PNG")
    assert own.headers["Content-Disposition"].startswith("attachment")
    assert own.headers["X-Content-Type-Options"] == "nosniff"
    own.close()
    assert other.get(f"/account/credentials/{pending}/evidence/1").status_code == 404
    assert owner.web.get(f"/account/credentials/{pending}/evidence/2").status_code == 404
    assert admin.web.get(f"/account/credentials/{pending}/evidence/1").status_code == 403
    assert other.post(f"/account/credentials/{pending}/resubmit").status_code == 404
    assert db.session.get(Credential, pending).status == "pending"


def test_nav_links_follow_the_role(app, client, factory, owner, admin):
    anonymous = client.get("/").get_data(as_text=True)
    assert (
        "Verify a credential" in anonymous and ">Credentials<" not in anonymous and ">Admin<" not in anonymous
    )
    mine = owner.web.get("/").get_data(as_text=True)
    assert 'href="/account/credentials"' in mine and 'href="/admin"' not in mine
    ours = admin.web.get("/").get_data(as_text=True)
    assert 'href="/admin"' in ours and 'href="/account/credentials"' not in ours
    index = admin.web.get("/admin").get_data(as_text=True)
    assert 'href="/admin/credentials"' in index and 'href="/admin/audit"' in index


def test_every_form_carries_and_needs_a_csrf_token(make_app, factory, practitioner, pending):
    app = make_app(WTF_CSRF_ENABLED=True)
    token_of = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')

    def sign_in(user):
        return csrf_signed_in(app, user)

    owner = sign_in(practitioner.user)
    mine = owner.get("/account/credentials").get_data(as_text=True)
    assert len(token_of.findall(mine)) >= 2  # sign-out and the submission form
    assert post_form(owner, "/account/credentials", page_form(number="N-2")).status_code == 400
    admin = sign_in(factory.user("admin"))
    detail = admin.get(f"/admin/credentials/{pending}").get_data(as_text=True)
    form = detail[detail.index('id="decision-form"') :]
    token = token_of.search(form).group(1)
    url = f"/admin/credentials/{pending}/decision"
    assert admin.post(url, data={"action": "reject", "reason": "Unreadable"}).status_code == 400
    assert (
        admin.post(url, data={"action": "reject", "reason": "Unreadable", "csrf_token": token}).status_code
        == 302
    )
    rejected = owner.get("/account/credentials").get_data(as_text=True)
    resubmit_form = rejected[rejected.index(f"/account/credentials/{pending}/resubmit") :]
    assert token_of.search(resubmit_form.split("</form>")[0])
    assert resubmit(owner, pending).status_code == 400
    # The lookup changes nothing and is a plain GET form: no token to leak into its URL.
    lookup = app.test_client().get("/verify").get_data(as_text=True)
    assert (
        '<form method="get"' in lookup
        and "csrf_token" not in lookup.split('id="verify-form"')[1].split("</form>")[0]
    )


def test_submitting_through_the_page(owner):
    page = owner.web.get("/account/credentials").get_data(as_text=True)
    assert 'accept=".pdf,.png,.jpg,.jpeg"' in page and 'enctype="multipart/form-data"' in page
    assert 'value="camtc"' in page and 'value="neuromuscular-therapy"' in page
    response = post_form(owner.web, "/account/credentials", page_form())
    assert response.status_code == 302
    credential = db.session.query(Credential).one()
    assert credential.status == "pending" and credential.evidence[0].content_type == "image/png"
    page = owner.web.get("/account/credentials").get_data(as_text=True)
    assert "Certified Massage Therapist" in page and "CMT-1001" in page and "pending" in page
    assert f"/account/credentials/{credential.id}/evidence/1" in page
    duplicate = post_form(owner.web, "/account/credentials", page_form())
    assert duplicate.status_code == 409 and "already submitted" in duplicate.get_data(as_text=True)


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"file_bytes": b"GIF89a not allowed", "filename": "licence.gif"}, 415, "must be a PDF, PNG or JPEG"),
        ({"file_bytes": PNG + b"\0" * (5 * 1024 * 1024)}, 413, "larger than 5 MB"),
        ({"file_bytes": None}, 422, "Attach the evidence"),
        ({"title": ""}, 422, "Missing data for required field."),
        ({"issuer": ""}, 422, "Missing data for required field."),
        ({"issued_on": "not a date"}, 422, "Not a valid date."),
        ({"issued_on": (today_utc() + timedelta(days=9)).isoformat()}, 422, "issued in the future"),
        ({"expires_on": "2001-01-01"}, 422, "cannot expire before it was issued"),
        ({"issuer": "nobody"}, 422, "Unknown issuer nobody"),
        ({"techniques": ["neuromuscular-therapy"]}, 422, "Only a training-program certificate"),
    ],
)
def test_the_submission_form_explains_bad_input_and_keeps_what_was_typed(owner, change, status, message):
    data = page_form(**{k: v for k, v in change.items() if k in ("file_bytes", "filename")})
    data.update({k: v for k, v in change.items() if k not in ("file_bytes", "filename")})
    if change.get("file_bytes", PNG) is None:
        data.pop("evidence", None)
    response = post_form(owner.web, "/account/credentials", data)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert message in html
    assert 'role="alert"' in html and 'id="credential-form"' in html
    if change.get("number") is None:
        assert 'value="CMT-1001"' in html
    assert db.session.query(Credential).count() == 0


def test_a_practitioner_without_a_profile_is_sent_to_fill_it_in(app, factory):
    web = signed_in(app, factory.user("practitioner"))
    page = web.get("/account/credentials").get_data(as_text=True)
    assert "practitioner profile</a> first" in page and 'id="credential-form"' not in page
    refused = post_form(web, "/account/credentials", page_form())
    assert refused.status_code == 404


def test_user_text_is_escaped_on_every_page(app, client, owner, admin):
    service.set_legal_name(owner.user, f"Casey {EVIL} Lin")
    cid = add_credential(owner, filename=f"{EVIL}.png", title=EVIL)
    decisions.decide(admin, cid, {"action": "verify"})
    lookup = client.get("/verify", query_string={"issuer": "camtc", "number": "CMT-1001"})
    assert lookup.status_code == 200 and "<script>alert(1)" not in lookup.get_data(as_text=True)
    assert lookup.get_data(as_text=True).count(ESCAPED) == 2  # the title and the holder's legal name
    decisions.decide(admin, cid, {"action": "revoke", "reason": EVIL})
    pages = {
        "own": owner.web.get("/account/credentials"),
        "queue": admin.web.get("/admin/credentials?status=revoked"),
        "detail": admin.web.get(f"/admin/credentials/{cid}"),
        "audit": admin.web.get("/admin/audit"),
        "profile": client.get(f"/practitioners/{owner.id}"),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert "<script>alert(1)" not in html, name
        assert ESCAPED in html, name
    for name in ("own", "detail", "audit"):  # the reason is shown to the owner and to admins
        assert pages[name].get_data(as_text=True).count(ESCAPED) >= (2 if name == "own" else 1), name


def test_deciding_from_the_admin_pages(app, client, owner, admin):
    first = add_credential(owner, number="CMT-1111")
    second = add_credential(owner, number="CMT-2222")
    queue = admin.web.get("/admin/credentials").get_data(as_text=True)
    assert queue.index("CMT-1111") < queue.index("CMT-2222") and "Casey Lin" in queue
    assert admin.web.get("/admin/credentials?status=bogus").status_code == 422
    detail = admin.web.get(f"/admin/credentials/{first}").get_data(as_text=True)
    assert f'<img src="/admin/credentials/{first}/evidence/1/preview"' in detail
    preview = admin.web.get(f"/admin/credentials/{first}/evidence/1/preview")
    assert preview.headers["Content-Disposition"].startswith("inline") and preview.mimetype == "image/png"
    preview.close()
    url = f"/admin/credentials/{first}/decision"

    refused = admin.web.post(url, data={"action": "reject", "reason": "  "})
    assert refused.status_code == 422 and "Give a reason" in refused.get_data(as_text=True)
    rejected = admin.web.post(url, data={"action": "reject", "reason": "The photo is blurred"})
    assert rejected.status_code == 302
    assert "The photo is blurred" in owner.web.get("/account/credentials").get_data(as_text=True)

    pdf = resubmit(owner.web, first)
    assert pdf.status_code == 302
    again = resubmit(owner.web, first)
    assert again.status_code == 409 and "Only a rejected, expired" in again.get_data(as_text=True)
    detail = admin.web.get(f"/admin/credentials/{first}").get_data(as_text=True)
    assert "is a PDF" in detail and f"/admin/credentials/{first}/evidence/2" in detail
    assert not re.search(r"<(img|embed|object|iframe)[^>]*evidence/2", detail)
    assert f"/admin/credentials/{first}/evidence/1" in detail  # every version stays listed
    pdf_preview = admin.web.get(f"/admin/credentials/{first}/evidence/2/preview")
    assert pdf_preview.headers["Content-Disposition"].startswith("attachment")
    pdf_preview.close()
    seen = re.search(r'name="seen_version" type="hidden" value="(\d+)"', detail).group(1)

    verified = admin.web.post(url, data={"action": "verify", "seen_version": seen})
    assert verified.status_code == 302
    # On to the next claim waiting for a decision, with word of the one just decided.
    assert verified.headers["Location"] == f"/admin/credentials/{second}"
    assert "now verified" in admin.web.get(verified.headers["Location"]).get_data(as_text=True)
    twice = admin.web.post(url, data={"action": "verify", "seen_version": seen})
    assert twice.status_code == 409 and "changed since you opened it" in twice.get_data(as_text=True)
    late = admin.web.post(url, data={"action": "verify"})
    assert late.status_code == 409 and "is verified already" in late.get_data(as_text=True)
    trail = admin.web.get(f"/admin/credentials/{first}").get_data(as_text=True)
    assert trail.count(admin.email) >= 2 and "The photo is blurred" in trail and "document" in trail

    profile = client.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    due = standing.next_check_due(db.session.get(Credential, first)).isoformat()
    assert f"next check due {due}" in profile and "document check" in profile
    assert "CMT-2222" in profile and "Awaiting verification" in profile
    assert db.session.get(Credential, second).status == "pending"


def test_an_admin_cannot_decide_their_own_credential(app, factory, admin):
    own = factory.practitioner(user=admin, display_name="Admin Who Practises")
    cid = add_credential(own)
    response = admin.web.post(f"/admin/credentials/{cid}/decision", data={"action": "verify"})
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "credential of your own" in html and 'id="decision-form"' in html
    assert db.session.get(Credential, cid).status == "pending"


def test_the_public_lookup(client, owner, admin):
    cid = add_credential(owner)
    assert "No credential on record" not in client.get("/verify").get_data(as_text=True)
    waiting = client.get("/verify", query_string={"issuer": "camtc", "number": "CMT-1001"})
    # A claim nobody verified names nobody: the lookup knows no holder yet.
    assert waiting.status_code == 404 and "No verified holder" in waiting.get_data(as_text=True)
    decisions.decide(admin, cid, {"action": "verify"})
    found = client.get("/verify", query_string={"issuer": "camtc", "number": " cmt 1001 "})
    html = found.get_data(as_text=True)
    assert found.status_code == 200 and "verified" in html
    assert f'Casey Lin\n          (<a href="/practitioners/{owner.id}">profile</a>)' in html
    assert (
        standing.next_check_due(db.session.get(Credential, cid)).isoformat() in html and "2030-06-01" in html
    )
    assert '<option selected value="camtc">' in html or 'value="camtc" selected' in html
    unknown = client.get("/verify", query_string={"issuer": "camtc", "number": "CMT-9999"})
    assert unknown.status_code == 404 and "No verified holder" in unknown.get_data(as_text=True)
    malformed = client.get("/verify", query_string={"issuer": "camtc", "number": "NOPE"})
    assert malformed.status_code == 422 and "It looks like CMT-12345" in malformed.get_data(as_text=True)
    incomplete = client.get("/verify", query_string={"number": "CMT-1001"})
    assert incomplete.status_code == 422 and "Missing data for required field." in incomplete.get_data(
        as_text=True
    )


def test_profile_marks_techniques_backed_by_a_verified_certificate(client, factory, admin):
    p = factory.practitioner(display_name="Nia Cole", techniques=["neuromuscular-therapy", "sports-massage"])
    cid = add_credential(
        p, issuer="nmt-center", kind="certification", number="NMT-7", techniques=["neuromuscular-therapy"]
    )
    before = client.get(f"/practitioners/{p.id}").get_data(as_text=True)
    assert ">verified</span>" not in before
    decisions.decide(admin, cid, {"action": "verify", "techniques": ["neuromuscular-therapy"]})
    html = client.get(f"/practitioners/{p.id}").get_data(as_text=True)
    techniques = html.split("<h2>Techniques</h2>")[1].split("</ul>")[0]
    nmt, sports = techniques.split("<li>")[1:3]
    assert "Neuromuscular therapy" in nmt and "verified" in nmt
    assert "Sports massage" in sports and "verified" not in sports
    assert "NMT Center" in html and "next check due" in html
