import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_register_fill_profile_add_place_and_see_public_profile(live_server, page, artifacts):
    page.goto(f"{live_server}/register")
    page.get_by_label("Email").fill("casey@example.org")
    page.get_by_label(re.compile("Password")).fill("a long enough password")
    page.get_by_label("a practitioner", exact=True).check()
    page.get_by_role("button", name="Create account").click()
    # The same answer for any address: a confirmation link is mailed, and the new account signs in.
    expect(page.get_by_text(re.compile("mailed a link to confirm"))).to_be_visible()
    page.get_by_label("Email").fill("casey@example.org")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My practitioner profile")).to_be_visible()

    page.get_by_label("Name shown to clients").fill("Casey Lin")
    page.get_by_label("Headline").fill("Neuromuscular therapy for stiff necks")
    page.get_by_label("Your approach").fill(
        "Trigger points, gentle pressure, and homework you will actually do."
    )
    page.get_by_label("Neuromuscular therapy (NMT)").check()
    page.get_by_label("Neck and shoulder pain").check()
    page.get_by_label("Practising since (year)").fill("2014")
    page.get_by_label("I am accepting new clients").check()
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your profile is saved.")).to_be_visible()

    page.get_by_label("ZIP code").fill("78701")
    page.get_by_label("Label (e.g. Main studio)").fill("Downtown studio")
    page.get_by_role("button", name="Add place").click()
    expect(page.get_by_text("The place is added.")).to_be_visible()
    expect(page.locator("ul.places")).to_contain_text("Austin")

    page.get_by_role("link", name="See your public profile").click()
    expect(page.get_by_role("heading", name="Casey Lin")).to_be_visible()
    expect(page.get_by_text("Neuromuscular therapy (NMT)")).to_be_visible()
    expect(page.get_by_text("Downtown studio: Austin, TX 78701")).to_be_visible()
    expect(page.get_by_text("Accepting new clients")).to_be_visible()
    page.screenshot(path=str(artifacts / "practitioner-public-profile.png"), full_page=True)
