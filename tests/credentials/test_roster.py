"""Primary-source roster import: the API, the page and the command share roster.import_roster."""

import io
import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from directory.accounts import service as accounts
from directory.credentials import roster
from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db
from tests.factories import PASSWORD

HEADER = "number,name,status,expires_on\n"
URL = "/api/v1/admin/issuers/camtc/roster"


@pytest.fixture
def admin(factory):
    user = factory.user("admin")
    user.headers = factory.headers(user)
    return user


@pytest.fixture
def holder(factory, submit):
    """A practitioner named `name` with a pending credential `number` (camtc unless told)."""

    def make(name: str, number: str, **fields):
        p = factory.practitioner(display_name=name)
        p.headers = factory.headers(p.user)
        created = submit(p.headers, number=number, **fields)
        assert created.status_code == 201, created.get_json()
        p.credential_id = created.get_json()["id"]
        return p

    return make


def multipart(body: bytes | str, **fields) -> dict:
    """A multipart body in memory: for a large file the test client would spool one to a temporary
    file it never closes (a ResourceWarning, which the suite treats as an error)."""
    data = body.encode() if isinstance(body, str) else body
    boundary, encoded = encode_multipart(
        MultiDict({**fields, "file": FileStorage(io.BytesIO(data), "roster.csv", content_type="text/csv")})
    )
    return {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, headers, body: bytes | str, slug: str = "camtc", **query):
    return client.post(
        f"/api/v1/admin/issuers/{slug}/roster", query_string=query, headers=headers, **multipart(body)
    )


def status_of(credential_id: int) -> tuple[str, str | None]:
    db.session.expire_all()
    credential = db.session.get(Credential, credential_id)
    return credential.status, credential.method


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CredentialEvent))


def verify_by_document(client, admin, credential_id):
    decided = client.post(
        f"/api/v1/admin/credentials/{credential_id}/decision",
        json={"action": "verify"},
        headers=admin.headers,
    )
    assert decided.status_code == 200, decided.get_json()


# -- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roster_name", "display_name", "expected"),
    [
        ("Casey Lin", "Casey Lin", True),
        ("CASEY LIN", "casey lin", True),
        ("Lin, Casey", "Casey Lin", True),
        ("Lin Casey", "Casey Lin", True),
        ("Casey A. Lin", "Casey Lin", True),
        ("Lin, Casey A.", "Casey J Lin", True),
        ("José Álvarez", "Jose Alvarez", True),
        ("ÁLVAREZ, JOSÉ", "josé álvarez", True),
        ("Zoë O'Brien", "Zoe OBrien", True),
        ("Zoë O’Brien", "zoe o'brien", True),
        ("Anne-Marie Dupont", "Anne Marie Dupont", True),
        ("Straße, Jonas", "Jonas Strasse", True),
        ("Ｃａｓｅｙ Ｌｉｎ", "Casey Lin", True),  # fullwidth letters, as some exports write them
        ("Casey Ann Lin", "Casey Lin", True),  # a middle name one source leaves out
        ("Lin, Casey", "Dr. Casey Lin, LMT", True),  # titles the profile adds
        ("Lin", "Lin", True),
        ("Casey Lin", "Casey Lim", False),
        ("Casey Lin", "Jordan Lin", False),
        ("Lin", "Casey Lin", False),  # a lone surname in common is not enough
        ("Casey Lin", "Casey Lin Massage Therapy Studio", False),  # a business name
        ("", "Casey Lin", False),
        ("A. B.", "A B", False),  # initials only: nothing left to compare
        ("Muller", "Mueller", False),
    ],
)
def test_names_match(roster_name, display_name, expected):
    assert roster.names_match(roster_name, display_name) is expected
    assert roster.names_match(display_name, roster_name) is expected


# -- import -------------------------------------------------------------------------------------------


def test_matching_pending_credentials_are_verified_by_roster(client, runner, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    jose = holder("José Álvarez", "CMT-2002", expires_on="2031-01-31")
    stranger = holder("Pat Doe", "CMT-3003")
    body = (
        HEADER
        + 'CMT-1001,"Lin, Casey A.",Active,2030-06-01\n'
        + "cmt-2002,JOSE ALVAREZ,ACTIVE,\n"
        + "CMT-3003,Robin Roe,active,2030-06-01\n"
        + "CMT-9999,Someone Else,active,2030-06-01\n"
    )

    response = upload(client, admin.headers, body)

    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert {k: result[k] for k in ("rows", "matched", "verified", "mismatched", "lapsed", "errors")} == {
        "rows": 4,
        "matched": 3,
        "verified": 2,
        "mismatched": 1,
        "lapsed": 0,
        "errors": [],
    }
    assert result["details"]["mismatched"] == [
        {
            "credential_id": stranger.credential_id,
            "number": "CMT-3003",
            "practitioner_id": stranger.id,
            "line": 4,
            "reason": "The roster's name “Robin Roe” is not “Pat Doe”.",
        }
    ]
    assert status_of(casey.credential_id) == ("verified", "roster")
    assert status_of(jose.credential_id) == ("verified", "roster")
    assert status_of(stranger.credential_id) == ("pending", None)
    trail = client.get(f"/api/v1/admin/audit?credential_id={casey.credential_id}", headers=admin.headers)
    last = trail.get_json()[-1]
    assert (last["from_status"], last["to_status"], last["method"]) == ("pending", "verified", "roster")
    assert last["actor"] == admin.email and last["reason"] == "Matched the issuer's roster"
    assert last["prev_hash"] == trail.get_json()[-2]["hash"]
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()
    assert lookup["status"] == "verified" and lookup["method"] == "roster"
    audit = runner.invoke(args=["directory", "audit-verify"])
    assert audit.exit_code == 0, audit.output
    assert "Audit chain intact" in audit.output


def test_one_number_claimed_by_two_people_verifies_only_the_named_holder(client, admin, holder):
    right = holder("Casey Lin", "CMT-1001")
    wrong = holder("Jordan Park", "CMT-1001")

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n").get_json()

    assert (result["matched"], result["verified"], result["mismatched"]) == (1, 1, 1)
    assert status_of(right.credential_id)[0] == "verified"
    assert status_of(wrong.credential_id)[0] == "pending"


def test_inactive_or_expired_rows_and_own_credentials_are_not_verified(client, factory, holder):
    suspended = holder("Casey Lin", "CMT-1001")
    run_out = holder("Jordan Park", "CMT-2002")
    own = holder("Robin Roe", "CMT-3003")
    acting = accounts.create_admin(own.user.email, PASSWORD)  # the holder becomes an admin
    headers = factory.headers(acting)
    body = (
        HEADER
        + "CMT-1001,Casey Lin,Suspended,2030-01-01\n"
        + "CMT-2002,Jordan Park,active,2020-01-01\n"
        + "CMT-3003,Robin Roe,active,\n"
    )

    result = upload(client, headers, body).get_json()

    assert (result["verified"], result["mismatched"]) == (0, 3)
    reasons = {m["number"]: m["reason"] for m in result["details"]["mismatched"]}
    assert reasons == {
        "CMT-1001": "The roster lists it as Suspended.",
        "CMT-2002": "The roster says it expired on 2020-01-01.",
        "CMT-3003": "Your own credential: another admin must decide on it.",
    }
    for p in (suspended, run_out, own):
        assert status_of(p.credential_id)[0] == "pending"


def test_verified_credentials_missing_or_inactive_are_reported_lapsed_not_revoked(client, admin, holder):
    missing = holder("Casey Lin", "CMT-1001")
    inactive = holder("Jordan Park", "CMT-2002")
    fine = holder("Robin Roe", "CMT-3003")
    for p in (missing, inactive, fine):
        verify_by_document(client, admin, p.credential_id)
    body = (
        HEADER + "CMT-2002,Jordan Park,revoked,\nCMT-3003,Robin Roe,active,2030-06-01\nX-1,A Person,active,\n"
    )

    result = upload(client, admin.headers, body).get_json()

    assert (result["matched"], result["verified"], result["lapsed"]) == (2, 0, 2)
    assert [(x["credential_id"], x["line"], x["reason"]) for x in result["details"]["lapsed"]] == [
        (missing.credential_id, None, "Not on the roster."),
        (inactive.credential_id, 2, "The roster lists it as revoked."),
    ]
    for p in (missing, inactive, fine):
        assert status_of(p.credential_id) == ("verified", "document")


def test_a_different_expiry_is_reported_and_left_alone(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001", expires_on="2030-06-01")

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,2032-06-01\n").get_json()

    assert result["verified"] == 1
    assert result["details"]["expiry_differs"] == [
        {
            "credential_id": casey.credential_id,
            "number": "CMT-1001",
            "line": 2,
            "on_record": "2030-06-01",
            "roster": "2032-06-01",
        }
    ]
    assert db.session.get(Credential, casey.credential_id).expires_on.isoformat() == "2030-06-01"


def test_dry_run_reports_and_changes_nothing(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    events = event_count()

    result = upload(client, admin.headers, HEADER + "CMT-1001,Casey Lin,active,\n", dry_run="true").get_json()

    assert (result["dry_run"], result["verified"]) == (True, 1)
    assert status_of(casey.credential_id)[0] == "pending" and event_count() == events


def test_a_bom_crlf_and_a_loose_header_are_accepted(client, admin, holder):
    casey = holder("Casey Lin", "CMT-1001")
    body = "\ufeff Number , NAME,Status,Expires_On \r\n\r\nCMT-1001,Casey Lin,active,2030-06-01\r\n".encode()

    response = upload(client, admin.headers, body)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"] == 1
    assert status_of(casey.credential_id)[0] == "verified"


GOOD = "CMT-1001,Casey Lin,active,2030-06-01\n"


@pytest.mark.parametrize(
    ("body", "status", "field", "lines"),
    [
        pytest.param(b"", 422, "file", None, id="empty file"),
        pytest.param(GOOD.encode(), 422, "file", None, id="missing header"),
        pytest.param(b"number,name,status\nCMT-1,A B,active\n", 422, "file", None, id="three columns"),
        pytest.param(b"number,name,state,expires_on\n" + GOOD.encode(), 422, "file", None, id="wrong column"),
        pytest.param(HEADER.encode(), 422, "file", None, id="no rows"),
        pytest.param(HEADER.encode() + b"\n\n", 422, "file", None, id="only blank lines"),
        pytest.param(
            HEADER.encode() + "CMT-1001,Jos\u00e9 Lin,active,\n".encode("latin-1"),
            422,
            "file",
            None,
            id="not utf-8",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2,A Person,active,31/12/2030\nCMT-3,B Person,active,2030-02-30\n").encode(),
            422,
            None,
            [3, 4],
            id="bad dates",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2,A Person,active,\ncmt-1001,Casey Lin,inactive,\n").encode(),
            422,
            None,
            [4],
            id="duplicate number",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2,A Person,active\nCMT-3,B,active,,extra\n").encode(),
            422,
            None,
            [3, 4],
            id="wrong column count",
        ),
        pytest.param(
            (HEADER + GOOD + ",A Person,active,\nCMT-4,,active,\nCMT-5,C Person,,\n").encode(),
            422,
            None,
            [3, 4, 5],
            id="empty number name status",
        ),
        pytest.param(
            (HEADER + GOOD + 'CMT-2,"A Person\nover two lines,active,\n').encode(),
            422,
            None,
            [3],
            id="unclosed quote",
        ),
        pytest.param(
            (HEADER + GOOD + "CMT-2,A Person,active,soon\n" + GOOD.replace("1001", "1002")).encode(),
            422,
            None,
            [3],
            id="a bad line among good ones",
        ),
        pytest.param(HEADER.encode() + b"x" * (roster.MAX_BYTES + 10), 413, None, None, id="too large"),
    ],
)
def test_a_bad_roster_changes_nothing(client, admin, holder, body, status, field, lines):
    casey = holder("Casey Lin", "CMT-1001")
    events = event_count()

    response = upload(client, admin.headers, body)

    assert response.status_code == status, response.get_json()
    payload = response.get_json()
    assert payload["code"] == status and payload["status"] and payload["message"]
    if field:
        assert list(payload["errors"]) == [field]
    if lines:
        assert [e["line"] for e in payload["errors"]] == lines
        assert all(e["message"] for e in payload["errors"])
        assert payload["message"].startswith("Nothing was applied")
    assert status_of(casey.credential_id) == ("pending", None)
    assert event_count() == events


def test_bad_line_messages_name_the_problem(client, admin):
    body = HEADER + "CMT-2,A Person,active,31/12/2030\nCMT-3,B Person,active,\ncmt-3,C Person,active,\n"

    errors = upload(client, admin.headers, body).get_json()["errors"]

    assert errors == [
        {"line": 2, "message": "expires_on “31/12/2030” is not a date written YYYY-MM-DD."},
        {"line": 4, "message": "The number cmt-3 appears again (first on line 3)."},
    ]


def test_not_utf8_names_the_line(client, admin):
    body = HEADER.encode() + b"CMT-1,A Person,active,\nCMT-2,Jos\xe9 Lin,active,\n"

    payload = upload(client, admin.headers, body).get_json()

    assert "line 3" in payload["message"] and "UTF-8" in payload["message"]


def test_many_bad_lines_are_listed_up_to_a_limit(client, admin):
    body = HEADER + "".join(f"N-{n},A Person,active,never\n" for n in range(roster.MAX_LISTED_ERRORS + 50))

    payload = upload(client, admin.headers, body).get_json()

    assert len(payload["errors"]) == roster.MAX_LISTED_ERRORS
    assert f"{roster.MAX_LISTED_ERRORS + 50} problems" in payload["message"]


def test_a_missing_file_part_names_file(client, admin):
    response = client.post(URL, data={}, headers=admin.headers, content_type="multipart/form-data")

    assert response.status_code == 422 and "file" in response.get_json()["errors"]


def test_a_roster_larger_than_evidence_files_is_accepted(client, admin):
    padding = "\n" * (7 * 1024 * 1024)  # past the app-wide 6 MB request limit, within the roster's 20 MB

    response = upload(client, admin.headers, HEADER + padding + GOOD)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["rows"] == 1


def test_only_admins_import(client, factory):
    body = HEADER + GOOD
    assert upload(client, {}, body).status_code == 401
    for role in ("client", "practitioner"):
        response = upload(client, factory.headers(factory.user(role)), body)
        assert response.status_code == 403 and response.get_json()["code"] == 403
        no_file = client.post(URL, data={}, headers=factory.headers(factory.user(role)))
        assert no_file.status_code == 403  # who may call is settled before the body is judged
    assert client.post(URL, data={}).status_code == 401


def test_unknown_issuer_is_404(client, admin):
    response = upload(client, admin.headers, HEADER + GOOD, slug="no-such-board")

    assert response.status_code == 404 and "no-such-board" in response.get_json()["message"]


def test_the_endpoint_is_documented(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/api/v1/admin/issuers/{slug}/roster"]["post"]

    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"200", "404", "413", "422"} <= set(post["responses"])


# -- page ---------------------------------------------------------------------------------------------


def test_the_admin_index_lists_the_roster_page(client, factory):
    factory.login(factory.user("admin"))

    html = client.get("/admin").get_data(as_text=True)

    assert 'href="/admin/rosters"' in html and "Issuer rosters" in html


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_the_page_imports_and_shows_the_summary(client, factory, holder):
    casey = holder("Casey Lin", "CMT-1001")
    factory.login(factory.user("admin"))
    assert "camtc" in client.get("/admin/rosters").get_data(as_text=True)
    assert (
        client.get("/admin/rosters?issuer=camtc").headers["Location"].endswith("/admin/issuers/camtc/roster")
    )

    other = holder("Jordan Park", "CMT-2002")
    body = HEADER + "CMT-1001,Lin Casey,active,\nCMT-2002,<i>Robin</i> Roe,active,\n"

    page = client.post("/admin/issuers/camtc/roster", **multipart(body))

    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert 'id="roster-summary"' in html and "<dt>Verified</dt><dd>1</dd>" in html
    assert f'href="/admin/credentials/{other.credential_id}"' in html
    assert "&lt;i&gt;Robin&lt;/i&gt; Roe" in html
    assert status_of(casey.credential_id) == ("verified", "roster")


def test_the_page_lists_bad_lines_and_applies_nothing(client, factory, holder):
    casey = holder("Casey Lin", "CMT-1001")
    factory.login(factory.user("admin"))
    body = HEADER + GOOD + "CMT-2,<b>A Person</b>,active,someday\n"

    page = client.post("/admin/issuers/camtc/roster", **multipart(body))

    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Nothing was applied" in html and "<td>3</td>" in html and "someday" in html
    assert "<b>A Person</b>" not in html
    assert status_of(casey.credential_id)[0] == "pending"


def test_the_page_form_carries_a_csrf_token_and_takes_large_files(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    admin = factory.user("admin")
    login = client.get("/login").get_data(as_text=True)
    signed_in = client.post(
        "/login", data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(login)}
    )
    assert signed_in.status_code == 302
    form = client.get("/admin/issuers/camtc/roster").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in form
    token = csrf_token(form)

    refused = client.post("/admin/issuers/camtc/roster", **multipart(HEADER + GOOD))
    assert refused.status_code == 400
    large = HEADER + "\n" * (7 * 1024 * 1024) + GOOD
    page = client.post("/admin/issuers/camtc/roster", **multipart(large, csrf_token=token))
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    assert "<dt>Rows</dt><dd>1</dd>" in page.get_data(as_text=True)


def test_the_pages_are_for_admins(client, factory):
    anonymous = client.get("/admin/issuers/camtc/roster")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert client.get("/admin/rosters").status_code == 302
    assert client.post("/admin/issuers/camtc/roster", **multipart(HEADER + GOOD)).status_code == 302
    factory.login(factory.user("client"))
    assert client.get("/admin/rosters").status_code == 403
    assert client.get("/admin/issuers/camtc/roster").status_code == 403
    upload_attempt = client.post("/admin/issuers/camtc/roster", **multipart(HEADER + GOOD))
    assert upload_attempt.status_code == 403


def test_the_page_of_an_unknown_issuer_is_404(client, factory):
    factory.login(factory.user("admin"))
    assert client.get("/admin/issuers/no-such-board/roster").status_code == 404


# -- command ------------------------------------------------------------------------------------------


def write(tmp_path, body: str | bytes):
    path = tmp_path / "roster.csv"
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return str(path)


def test_the_command_imports_as_the_only_admin(runner, factory, holder, tmp_path):
    casey = holder("Casey Lin", "CMT-1001")
    admin = factory.user("admin")

    result = runner.invoke(args=["directory", "import-roster", "camtc", write(tmp_path, HEADER + GOOD)])

    assert result.exit_code == 0, result.output
    assert "1 rows, 1 matched, 1 verified, 0 mismatched, 0 lapsed" in result.output
    assert admin.email in result.output
    assert status_of(casey.credential_id) == ("verified", "roster")
    event = db.session.scalars(sa.select(CredentialEvent).order_by(CredentialEvent.id.desc())).first()
    assert event.actor_id == admin.id and event.method == "roster"


def test_the_command_needs_one_admin_or_admin_option(runner, factory, holder, tmp_path):
    casey = holder("Casey Lin", "CMT-1001")
    path = write(tmp_path, HEADER + GOOD)
    none = runner.invoke(args=["directory", "import-roster", "camtc", path])
    assert none.exit_code == 1 and "create-admin" in none.output
    factory.user("admin")
    second = factory.user("admin")
    two = runner.invoke(args=["directory", "import-roster", "camtc", path])
    assert two.exit_code == 1 and "--admin" in two.output
    assert status_of(casey.credential_id)[0] == "pending"

    named = runner.invoke(args=["directory", "import-roster", "camtc", path, "--admin", second.email])

    assert named.exit_code == 0, named.output
    assert status_of(casey.credential_id)[0] == "verified"


def test_the_command_lists_bad_lines_and_applies_nothing(runner, factory, holder, tmp_path):
    casey = holder("Casey Lin", "CMT-1001")
    factory.user("admin")
    path = write(tmp_path, HEADER + GOOD + "CMT-2,A Person,active,2030-13-01\n")

    result = runner.invoke(args=["directory", "import-roster", "camtc", path])

    assert result.exit_code == 1
    assert "line 3: expires_on" in result.output and "Nothing was applied" in result.output
    assert status_of(casey.credential_id)[0] == "pending"


def test_the_command_reports_lapsed_and_dry_run(runner, client, factory, holder, tmp_path):
    admin = factory.user("admin")
    admin.headers = factory.headers(admin)
    lapsed = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, lapsed.credential_id)
    pending = holder("Jordan Park", "CMT-2002")
    path = write(tmp_path, HEADER + "CMT-2002,Park Jordan,active,\n")

    result = runner.invoke(args=["directory", "import-roster", "camtc", path, "--dry-run"])

    assert result.exit_code == 0, result.output
    assert f"lapsed      #{lapsed.credential_id} CMT-1001: Not on the roster." in result.output
    assert "1 would be verified" in result.output and "Dry run: nothing changed." in result.output
    assert status_of(pending.credential_id)[0] == "pending"
