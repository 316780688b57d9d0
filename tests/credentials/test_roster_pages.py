"""The roster page and the import-roster command, which share roster.import_roster with the API."""

import re

import sqlalchemy as sa

from directory.credentials.models import CredentialEvent
from directory.extensions import db
from tests.credentials.roster_kit import (
    GOOD,
    HEADER,
    multipart,
    status_of,
    verify_by_document,
)
from tests.factories import csrf_signed_in

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
    body = HEADER + GOOD + "CMT-2222,<b>A Person</b>,active,someday\n"

    page = client.post("/admin/issuers/camtc/roster", **multipart(body))

    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "Nothing was applied" in html and "<td>3</td>" in html and "someday" in html
    assert "<b>A Person</b>" not in html
    assert status_of(casey.credential_id)[0] == "pending"


def test_the_page_form_carries_a_csrf_token_and_takes_large_files(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_signed_in(app, factory.user("admin"))
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
    assert "1 rows, 1 matched: 1 verified, 0 confirmed, 0 sent back, 0 lapsed, 0 mismatched" in result.output
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
    path = write(tmp_path, HEADER + GOOD + "CMT-2222,A Person,active,2030-13-01\n")

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
