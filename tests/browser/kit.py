"""Steps the browser journeys share."""

import sqlalchemy as sa
from playwright.sync_api import expect

from directory.accounts.models import User
from directory.extensions import db
from tests.factories import PASSWORD, totp_code


def sign_in(page, base: str, email: str) -> None:
    """Through the sign-in page; an admin then types the authenticator's code on the next page."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if "/account/two-factor" in page.url:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        page.get_by_label("Code from your authenticator").fill(totp_code(user))
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # Let the landing page's scripts finish loading before moving on, or the live server is left
    # holding a half-sent static file (an unraisable ResourceWarning).
    page.wait_for_load_state("load")
