import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from directory.credentials import standing
from directory.credentials.models import Credential
from directory.extensions import db
from tests.browser.kit import sign_in

pytestmark = pytest.mark.browser


def png(width: int = 120, height: int = 60) -> bytes:
    """A real (tiny) PNG, so the admin's preview has something to draw."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes((31, 111, 92)) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def test_submit_verify_and_see_the_fresh_badge(live_server, page, factory, tmp_path, artifacts):
    practitioner = factory.practitioner(display_name="Casey Lin", approach="Trigger point work.")
    factory.location(practitioner, lat=34.05, lon=-118.24, city="Los Angeles", region="CA")
    admin = factory.user("admin")
    evidence = tmp_path / "licence.png"
    evidence.write_bytes(png())

    sign_in(page, live_server, practitioner.user.email)
    page.get_by_role("link", name="Credentials", exact=True).click()
    expect(page.get_by_role("heading", name="My credentials")).to_be_visible()
    page.get_by_label("Issuer").select_option("camtc")
    page.get_by_label("Licence", exact=True).check()
    page.get_by_label(re.compile("^Title")).fill("Certified Massage Therapist")
    page.get_by_label("Licence or certificate number").fill("CMT-4242")
    page.get_by_label("Issued on").fill("2016-03-01")
    page.get_by_label(re.compile("^Expires on")).fill("2030-03-01")
    page.get_by_label("Evidence file").set_input_files(str(evidence))
    page.get_by_role("button", name="Submit credential").click()
    expect(page.get_by_text("Your credential is submitted")).to_be_visible()
    card = page.locator("section.credential").filter(has_text="CMT-4242")
    expect(card.locator(".badge")).to_have_text("pending")
    expect(card.get_by_role("link", name=re.compile("Version 1: licence.png"))).to_be_visible()
    page.screenshot(path=str(artifacts / "credential-submitted.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.wait_for_load_state("load")

    sign_in(page, live_server, admin.email)
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name=re.compile("^Verification queue")).click()
    row = page.locator("table.queue tr").filter(has_text="CMT-4242")
    expect(row).to_contain_text("Casey Lin")
    row.get_by_role("link", name=re.compile("Review")).click()
    preview = page.locator(".evidence-preview img")
    expect(preview).to_be_visible()
    loaded = preview.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    )
    assert loaded == 120
    page.screenshot(path=str(artifacts / "credential-admin-review.png"), full_page=True)
    page.get_by_label("Issue date the document shows").fill("2016-03-01")
    page.get_by_role("button", name="Verify").click()
    # Nothing else waits, so the admin is back at the queue, told what was recorded.
    expect(
        page.get_by_text(re.compile(r"Decision recorded: credential #\d+ is now verified\."))
    ).to_be_visible()
    expect(page.get_by_text("Nothing else is waiting for a decision.")).to_be_visible()

    with factory.app.app_context():
        credential = db.session.query(Credential).filter_by(number="CMT-4242").one()
        due = standing.next_check_due(credential).isoformat()
        cid = credential.id
    page.goto(f"{live_server}/admin/credentials/{cid}")
    expect(page.locator("table.audit")).to_contain_text(admin.email)
    page.get_by_role("link", name="Casey Lin").first.click()
    expect(page.get_by_role("heading", name="Casey Lin")).to_contain_text("Verified credential")
    listed = page.locator("ul.credentials li").filter(has_text="CMT-4242")
    expect(listed.locator(".badge.verified")).to_have_text("verified")
    expect(listed).to_contain_text(f"next check due {due}")
    expect(listed).to_contain_text("California Massage Therapy Council")
    page.screenshot(path=str(artifacts / "credential-verified-profile.png"), full_page=True)

    listed.get_by_role("link", name="check it").click()
    expect(page.locator(".lookup-result")).to_contain_text("Casey Lin")
    expect(page.locator(".lookup-result")).to_contain_text(due)


def test_an_admin_settles_a_contested_number_side_by_side(live_server, page, factory, artifacts):
    import io

    from werkzeug.datastructures import FileStorage

    from directory.credentials import service
    from directory.credentials.schemas import CredentialInSchema
    from tests.factories import submission

    with factory.app.app_context():
        squatter = factory.practitioner(display_name="Jordan Park")
        real = factory.practitioner(display_name="Casey Lin", legal_name="Casey Ann Lin")
        claims = []
        for who in (squatter, real):
            data = CredentialInSchema().load(submission(number="CMT-5150"))
            claims.append(service.submit(who.user, data, FileStorage(io.BytesIO(png()), "licence.png")).id)
        admin = factory.user("admin")

    sign_in(page, live_server, admin.email)
    page.goto(f"{live_server}/admin/rechecks")
    expect(page.locator("table.queue")).to_contain_text("Claimed by 2 accounts")
    page.locator("table.queue tr").filter(has_text="Casey Lin").get_by_role(
        "link", name=re.compile("Review")
    ).click()
    rivals = page.locator("table.rivals")
    expect(rivals).to_contain_text("Jordan Park")
    expect(rivals).to_contain_text("Casey Ann Lin")
    page.screenshot(path=str(artifacts / "credential-contest.png"), full_page=True)
    page.get_by_role("button", name="Verify: this account holds the number").click()
    expect(
        page.get_by_text(re.compile(r"Decision recorded: credential #\d+ is now verified\."))
    ).to_be_visible()

    with factory.app.app_context():
        db.session.expire_all()
        assert [db.session.get(Credential, c).status for c in claims] == ["rejected", "verified"]
    page.goto(f"{live_server}/verify?issuer=camtc&number=cmt+5150")
    expect(page.locator(".lookup-result")).to_contain_text("Casey Ann Lin")
