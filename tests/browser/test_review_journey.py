"""Invite link → verified review through the page → the practitioner answers → an admin hides it."""

import re

import pytest
from playwright.sync_api import expect

from directory.reviews import reading, service
from tests.browser.kit import sign_in
from tests.factories import PASSWORD, mails_to

pytestmark = pytest.mark.browser

TEXT = "Two sessions and my shoulder moves freely again. Clear explanations throughout."


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.wait_for_load_state("load")


def test_invite_review_answer_and_moderation(live_server, page, factory, artifacts):
    practitioner = factory.practitioner(display_name="Robin Hale", approach="Trigger point work for runners.")
    client = factory.user("client")
    flagger = factory.user("client")
    admin = factory.user("admin")
    profile_url = f"{live_server}/practitioners/{practitioner.id}"

    # The practitioner makes an invite link on /account/reviews.
    sign_in(page, live_server, practitioner.user.email)
    page.goto(f"{live_server}/account")
    page.get_by_role("link", name="your reviews and invites").click()
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()
    page.get_by_label("Your client's email address").fill(client.email)
    page.get_by_role("button", name="Mail the invite").click()
    expect(page.get_by_text(f"Invite mailed to {client.email}")).to_be_visible()
    mailed = re.search(
        r"https?://\S+/practitioners/\d+\?invite=[A-Za-z0-9_-]+", mails_to(client.email)[-1]
    ).group(0)
    link = live_server + "/" + mailed.split("/", 3)[3]  # the same path on this test server
    assert re.search(rf"/practitioners/{practitioner.id}\?invite=[A-Za-z0-9_-]+$", link)
    sign_out(page)

    # The client follows the mailed link, signs in from the profile and writes a review (the code is filled in).
    page.goto(link)
    page.get_by_role("link", name="Sign in as a client").click()
    page.get_by_label("Email").fill(client.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Write a review")).to_be_visible()
    expect(page.get_by_label(re.compile("^Invite code"))).to_have_value(link.split("invite=")[1])
    page.get_by_label("4 – good").check()
    page.get_by_label(re.compile("^Your review")).fill(TEXT)
    page.get_by_label(re.compile("^Name shown with your review")).fill("Sam T.")
    page.get_by_role("button", name="Publish review").click()
    expect(page.get_by_text("Thank you: your review is published.")).to_be_visible()
    item = page.locator("li.review").filter(has_text=TEXT)
    expect(item).to_contain_text("Sam T.")
    expect(item.locator(".verified-client")).to_have_text("Verified client")
    sign_out(page)

    # The practitioner answers it.
    sign_in(page, live_server, practitioner.user.email)
    page.goto(f"{live_server}/account/reviews")
    card = page.locator("article.review").filter(has_text=TEXT)
    card.get_by_label(re.compile("^Your public answer")).fill("Thank you, Sam: keep up the stretches!")
    card.get_by_role("button", name="Publish answer").click()
    expect(page.get_by_text("Your answer is published under the review.")).to_be_visible()
    expect(page.locator("table.invites")).not_to_contain_text("Not yet")
    sign_out(page)

    # Everyone sees both, with the verified-client mark and the rating.
    page.goto(profile_url)
    section = page.locator("#reviews")
    expect(section).to_contain_text("Thank you, Sam: keep up the stretches!")
    expect(section.locator(".verified-client")).to_be_visible()
    expect(page.locator("#rating")).to_contain_text("4.0 out of 5 from 1 reviews")
    page.screenshot(path=str(artifacts / "review-profile.png"), full_page=True)

    with factory.app.app_context():
        review_id = reading.visible(practitioner.id, 1)[1][0].id
        service.flag(flagger, review_id, "Posted by a friend of the practitioner")

    # An admin hides it from the moderation queue.
    sign_in(page, live_server, admin.email)
    page.get_by_role("link", name="Admin", exact=True).click()
    page.get_by_role("link", name=re.compile("^Review moderation")).click()
    flagged = page.locator("article.moderation").filter(has_text=TEXT)
    expect(flagged).to_contain_text("Posted by a friend of the practitioner")
    page.screenshot(path=str(artifacts / "review-moderation.png"), full_page=True)
    flagged.get_by_label("Reason (kept on record)").fill("Undisclosed conflict of interest")
    flagged.get_by_role("button", name="Hide review").click()
    expect(page.get_by_text(f"Review #{review_id} is hidden")).to_be_visible()
    expect(page.locator("article.hidden-review")).to_contain_text("Undisclosed conflict of interest")

    page.goto(profile_url)
    expect(page.locator("#rating")).to_contain_text("No reviews yet.")
    expect(page.locator("#reviews")).not_to_contain_text(TEXT)
    page.screenshot(path=str(artifacts / "review-hidden-profile.png"), full_page=True)
