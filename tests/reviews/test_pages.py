"""The review pages: the profile's reviews (read, write, flag), /account/reviews (invites and
answers), /admin/reviews (moderation); who may use which, CSRF, escaping."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g, request_started

from directory.extensions import db
from directory.reviews import service
from directory.reviews.models import Review, ReviewFlag, ReviewInvite, ReviewResponse
from directory.reviews.schemas import ReviewInSchema
from directory.timeutil import now_utc
from tests.factories import csrf_signed_in, invite, mailed_invite_code, mails_to, signed_in

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEXT = "Sorted out my shoulder knots in two sessions."


@pytest.fixture(autouse=True)
def _identity_per_request(app):
    """The `app` fixture keeps an app context open and Flask reuses it for test requests, so
    Flask-Login's user cached in `g` would carry one client's identity into another's request."""

    def forget(sender, **extra):
        g.pop("_login_user", None)

    request_started.connect(forget, app)
    yield
    request_started.disconnect(forget, app)


def review(practitioner, author, rating=5, body=TEXT, **extra):
    data = ReviewInSchema().load({"rating": rating, "body": body, **extra})
    return service.write(author, practitioner.id, data)


@pytest.fixture
def owner(app, factory):
    p = factory.practitioner(display_name="Robin Hale", approach="Trigger point work.")
    p.web = signed_in(app, p.user)
    return p


@pytest.fixture
def reviewer(app, factory):
    user = factory.user("client")
    user.web = signed_in(app, user)
    return user


@pytest.fixture
def admin(app, factory):
    user = factory.user("admin")
    user.web = signed_in(app, user)
    return user


def test_anonymous_visitors_read_reviews_and_are_sent_to_sign_in_for_the_rest(client, owner, factory):
    r = review(owner, factory.user("client"), author_name="Sam T.")
    profile = client.get(f"/practitioners/{owner.id}?invite=abcdEFGH1234")
    html = profile.get_data(as_text=True)
    assert profile.status_code == 200 and TEXT in html and "Sam T." in html
    assert 'id="review-form"' not in html and "flag-form" not in html
    assert "Sign in as a client</a> to write a review with your invite code" in html
    assert "next=/practitioners/" in html and "invite%3DabcdEFGH1234" in html
    for url in (
        f"/practitioners/{owner.id}/reviews",
        f"/reviews/{r.id}/flags",
        "/account/reviews/invites",
        f"/account/reviews/{r.id}/response",
        f"/admin/reviews/{r.id}/moderation",
    ):
        response = client.post(url, data={"rating": "5", "body": TEXT, "reason": "x", "action": "hide"})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url in ("/account/reviews", "/admin/reviews"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert db.session.query(Review).count() == 1 and not db.session.get(Review, r.id).hidden
    assert db.session.query(ReviewFlag).count() == 0 and db.session.query(ReviewInvite).count() == 0


def test_each_page_is_for_its_own_people(app, factory, owner, reviewer, admin):
    other = factory.practitioner(display_name="Other Person")
    other.web = signed_in(app, other.user)
    r = review(owner, factory.user("client"))

    for web in (reviewer.web, owner.web, other.web):
        assert web.get("/admin/reviews").status_code == 403
        moderated = web.post(f"/admin/reviews/{r.id}/moderation", data={"action": "hide", "reason": "x"})
        assert moderated.status_code == 403
    assert admin.web.get("/admin/reviews").status_code == 200
    assert 'href="/admin/reviews"' in admin.web.get("/admin").get_data(as_text=True)

    for web in (reviewer.web, admin.web):
        assert web.get("/account/reviews").status_code == 403
        assert web.post("/account/reviews/invites", data={"email": "c@example.org"}).status_code == 403
        assert web.post(f"/account/reviews/{r.id}/response", data={"body": "Hi"}).status_code == 403
    assert owner.web.get("/account/reviews").status_code == 200
    mine = other.web.get("/account/reviews").get_data(as_text=True)
    assert TEXT not in mine and "No reviews yet" in mine
    refused = other.web.post(f"/account/reviews/{r.id}/response", data={"body": "Not mine to answer"})
    assert refused.status_code == 403 and db.session.query(ReviewResponse).count() == 0

    # Only clients write: practitioners and admins see no form and are refused.
    for web in (owner.web, other.web, admin.web):
        assert 'id="review-form"' not in web.get(f"/practitioners/{owner.id}").get_data(as_text=True)
        written = web.post(f"/practitioners/{owner.id}/reviews", data={"rating": "4", "body": TEXT})
        assert written.status_code == 403
    assert db.session.query(Review).count() == 1
    assert (
        reviewer.web.post("/practitioners/9999/reviews", data={"rating": "4", "body": TEXT}).status_code
        == 404
    )

    # A practitioner without a profile is sent to fill it in.
    bare = signed_in(app, factory.user("practitioner"))
    page = bare.get("/account/reviews").get_data(as_text=True)
    assert "practitioner profile</a> first" in page
    assert bare.post("/account/reviews/invites", data={"email": "c@example.org"}).status_code == 404


def test_a_client_writes_a_verified_review_with_an_invite_link(owner, reviewer):
    created = owner.web.post("/account/reviews/invites", data={"email": reviewer.email})
    html = created.get_data(as_text=True)
    assert created.status_code == 201 and f"Invite mailed to <strong>{reviewer.email}</strong>" in html
    code = mailed_invite_code(reviewer.email)
    assert code not in html and code not in owner.web.get("/account/reviews").get_data(as_text=True)
    assert (
        f"http://127.0.0.1:5000/practitioners/{owner.id}?invite={code}#reviews"
        in mails_to(reviewer.email)[-1]
    )

    form = reviewer.web.get(f"/practitioners/{owner.id}?invite={code}").get_data(as_text=True)
    assert 'id="review-form"' in form and f'value="{code}"' in form
    written = reviewer.web.post(
        f"/practitioners/{owner.id}/reviews",
        data={"rating": "4", "body": TEXT, "invite_code": code, "author_name": "Sam T."},
    )
    assert written.status_code == 302, written.get_data(as_text=True)
    saved = db.session.query(Review).one()
    assert saved.verified_client and saved.rating == 4 and saved.author_name == "Sam T."
    assert written.headers["Location"].endswith(f"/practitioners/{owner.id}#review-{saved.id}")

    page = reviewer.web.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    assert "your review is published" in page and "verified-client mark" in page
    assert "Verified client" in page and "Sam T." in page and reviewer.email not in page
    assert 'aria-label="4 out of 5 stars"' in page and "4.0 out of 5 from 1 reviews" in page
    assert re.search(r'<meter min="0" max="1" value="1">', page)
    assert 'id="review-form"' not in page and "You reviewed Robin Hale on" in page

    again = reviewer.web.post(f"/practitioners/{owner.id}/reviews", data={"rating": "5", "body": TEXT})
    assert again.status_code == 409 and "reviewed this practitioner already" in again.get_data(as_text=True)
    invites = owner.web.get("/account/reviews").get_data(as_text=True)
    assert "Not yet" not in invites and invites.count("UTC") >= 3  # created, expires, used


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"body": TEXT}, 422, "Missing data for required field."),
        ({"rating": "9", "body": TEXT}, 422, "Must be greater than or equal to 1"),
        ({"rating": "four", "body": TEXT}, 422, "Not a valid integer."),
        ({"rating": "5", "body": "Too short"}, 422, "Write 20 to 5000 characters."),
        ({"rating": "5", "body": TEXT, "invite_code": "wrong-code-123"}, 422, "not one of this practitioner"),
        ({"rating": "5", "body": TEXT, "invite_code": "<b>"}, 422, "Not an invite code."),
    ],
)
def test_the_review_form_explains_bad_input_and_keeps_what_was_typed(owner, reviewer, data, status, message):
    response = reviewer.web.post(f"/practitioners/{owner.id}/reviews", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert message in html and 'role="alert"' in html and 'id="review-form"' in html
    assert "Robin Hale" in html  # the profile around it
    if len(data["body"]) >= 20:
        assert TEXT in html
    assert db.session.query(Review).count() == 0


def test_used_and_expired_invites_are_refused(owner, reviewer, factory):
    code = invite(owner, reviewer.email)
    db.session.execute(sa.update(ReviewInvite).values(used_at=now_utc()))
    db.session.commit()
    used = reviewer.web.post(
        f"/practitioners/{owner.id}/reviews", data={"rating": "5", "body": TEXT, "invite_code": code}
    )
    assert used.status_code == 422 and "used already" in used.get_data(as_text=True)
    code = invite(owner, reviewer.email)
    db.session.execute(
        sa.update(ReviewInvite)
        .where(ReviewInvite.used_at.is_(None))
        .values(expires_at=now_utc() - timedelta(minutes=1))
    )
    db.session.commit()
    expired = reviewer.web.post(
        f"/practitioners/{owner.id}/reviews", data={"rating": "5", "body": TEXT, "invite_code": code}
    )
    assert expired.status_code == 422 and "expired" in expired.get_data(as_text=True)
    assert "(expired)" in owner.web.get("/account/reviews").get_data(as_text=True)


def test_too_many_reviews_in_an_hour_is_shown_on_the_page(app, factory, reviewer):
    app.config["REVIEWS_PER_HOUR"] = 1
    first, second = factory.practitioner(), factory.practitioner()
    assert (
        reviewer.web.post(
            f"/practitioners/{first.id}/reviews", data={"rating": "5", "body": TEXT}
        ).status_code
        == 302
    )
    limited = reviewer.web.post(f"/practitioners/{second.id}/reviews", data={"rating": "5", "body": TEXT})
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "At most 1 reviews an hour" in html and 'id="review-form"' in html


def test_reviews_are_listed_newest_first_ten_a_page(client, owner, factory):
    ids = []
    for n in range(12):
        r = review(
            owner, factory.user("client"), rating=1 + n % 5, body=f"Review number {n:02d} with enough text."
        )
        r.created_at = now_utc() - timedelta(days=30 - n)
        ids.append(r.id)
    db.session.commit()
    first = client.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    assert first.count('class="review"') == 10
    assert first.index("Review number 11") < first.index("Review number 02")
    assert "Review number 01" not in first and "Page 1 of 2" in first
    assert f'href="/practitioners/{owner.id}?page=2#reviews"' in first
    second = client.get(f"/practitioners/{owner.id}?page=2").get_data(as_text=True)
    assert (
        second.count('class="review"') == 2 and "Review number 01" in second and "Review number 00" in second
    )
    assert "Newer reviews" in second and "Older reviews" not in second
    assert "No reviews on this page" in client.get(f"/practitioners/{owner.id}?page=3").get_data(as_text=True)
    assert client.get(f"/practitioners/{owner.id}?page=zero").status_code == 400
    # The histogram counts every visible review, not just this page's.
    assert '<meter min="0" max="12" value="3">' in first and '<meter min="0" max="12" value="2">' in first


def test_a_page_past_the_end_still_counts_every_review(client, owner, factory):
    for n in range(3):
        review(owner, factory.user("client"), body=f"Review number {n} with enough text.")
    past = client.get(f"/api/v1/practitioners/{owner.id}/reviews?page=4").get_json()
    assert past["total"] == 3 and past["results"] == []
    assert client.get(f"/api/v1/practitioners/{owner.id}/reviews?page=1").get_json()["total"] == 3
    nobody = factory.practitioner(display_name="New Here")
    assert client.get(f"/api/v1/practitioners/{nobody.id}/reviews").get_json()["total"] == 0


def test_the_profile_reads_the_same_statements_however_many_reviews_it_shows(
    client, owner, factory, statements
):
    """A page of ten answered reviews costs what a page of one does: no statement per review."""

    def answered(n):
        for _ in range(n):
            r = review(owner, factory.user("client"))
            service.respond(owner.user, r.id, "Thank you, glad it helped.")
        url = f"/practitioners/{owner.id}"
        db.session.expire_all()  # nothing of it already at hand in the session
        statements.clear()
        page = client.get(url).get_data(as_text=True)
        assert page.count("Answer from the practitioner") == min(10, counted[0] + n)
        counted[0] += n
        return len(statements)

    counted = [0]
    one = answered(1)
    assert answered(11) == one


def test_flagging_from_the_profile(app, owner, reviewer, factory):
    r = review(owner, factory.user("client"))
    page = reviewer.web.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    assert f'action="/reviews/{r.id}/flags"' in page
    short = reviewer.web.post(f"/reviews/{r.id}/flags", data={"reason": "no"})
    assert short.status_code == 422 and "Length must be between 3 and 500" in short.get_data(as_text=True)
    flagged = reviewer.web.post(f"/reviews/{r.id}/flags?page=1", data={"reason": "Looks fake"})
    assert flagged.status_code == 302 and f"#review-{r.id}" in flagged.headers["Location"]
    assert "the moderators will look" in reviewer.web.get(flagged.headers["Location"]).get_data(as_text=True)
    assert db.session.query(ReviewFlag).one().reason == "Looks fake"
    # The reviewed practitioner may flag too; a missing review is a 404.
    assert (
        owner.web.post(f"/reviews/{r.id}/flags", data={"reason": "Not a client of mine"}).status_code == 302
    )
    assert reviewer.web.post("/reviews/9999/flags", data={"reason": "Looks fake"}).status_code == 404
    app.config["FLAGS_PER_HOUR"] = 1
    limited = reviewer.web.post(f"/reviews/{r.id}/flags", data={"reason": "Again"})
    assert limited.status_code == 429 and "At most 1 flags an hour" in limited.get_data(as_text=True)


def test_the_practitioner_answers_once(owner, factory):
    r = review(owner, factory.user("client"), author_name="Sam T.")
    page = owner.web.get("/account/reviews").get_data(as_text=True)
    assert TEXT in page and "Sam T." in page and f'action="/account/reviews/{r.id}/response"' in page
    empty = owner.web.post(f"/account/reviews/{r.id}/response", data={"body": "  "})
    assert empty.status_code == 422 and 'role="alert"' in empty.get_data(as_text=True)
    answered = owner.web.post(f"/account/reviews/{r.id}/response", data={"body": "Thank you, Sam!"})
    assert answered.status_code == 302
    page = owner.web.get(answered.headers["Location"]).get_data(as_text=True)
    assert "Your answer is published" in page and "Thank you, Sam!" in page
    assert f'action="/account/reviews/{r.id}/response"' not in page
    twice = owner.web.post(f"/account/reviews/{r.id}/response", data={"body": "Again"})
    assert twice.status_code == 409 and "answered this review already" in twice.get_data(as_text=True)
    profile = factory.client.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    assert "Answer from the practitioner" in profile and "Thank you, Sam!" in profile


def test_moderation_hides_and_restores(client, owner, admin, factory):
    quiet = review(owner, factory.user("client"), rating=4, body="A quiet review with one flag only.")
    loud = review(owner, factory.user("client"), rating=1, body="A loud review with two flags on it.")
    service.flag(factory.user("client"), quiet.id, "Seems off")
    service.flag(factory.user("client"), loud.id, "Insults")
    service.flag(factory.user("client"), loud.id, "Spam link")
    queue = admin.web.get("/admin/reviews").get_data(as_text=True)
    assert queue.index("A loud review") < queue.index("A quiet review")
    assert "2 flags" in queue and "Insults" in queue and "Spam link" in queue and "Seems off" in queue
    assert "No hidden reviews." in queue

    url = f"/admin/reviews/{loud.id}/moderation"
    no_reason = admin.web.post(url, data={"action": "hide", "reason": " "})
    html = no_reason.get_data(as_text=True)
    assert no_reason.status_code == 422 and "Length must be between 1 and 1000." in html
    assert 'aria-invalid="true"' in html and not db.session.get(Review, loud.id).hidden
    bogus = admin.web.post(url, data={"action": "delete", "reason": "x"})
    assert bogus.status_code == 422 and "Must be one of" in bogus.get_data(as_text=True)
    assert (
        admin.web.post("/admin/reviews/9999/moderation", data={"action": "hide", "reason": "x"}).status_code
        == 404
    )
    hidden = admin.web.post(url, data={"action": "hide", "reason": "Abusive language"})
    assert hidden.status_code == 302
    page = admin.web.get("/admin/reviews").get_data(as_text=True)
    assert f"Review #{loud.id} is hidden" in page
    hidden_part = page.split('id="hidden"')[1]
    assert "A loud review" in hidden_part and "Abusive language" in hidden_part and admin.email in hidden_part
    assert "A loud review" not in page.split('id="hidden"')[0]

    profile = client.get(f"/practitioners/{owner.id}").get_data(as_text=True)
    assert "A loud review" not in profile and "4.0 out of 5 from 1 reviews" in profile
    assert "hidden" in owner.web.get("/account/reviews").get_data(as_text=True)

    kept = admin.web.post(
        f"/admin/reviews/{quiet.id}/moderation", data={"action": "restore", "reason": "Fine"}
    )
    assert kept.status_code == 302 and not db.session.get(Review, quiet.id).hidden
    restored = admin.web.post(url, data={"action": "restore", "reason": "Appeal accepted"})
    assert restored.status_code == 302
    page = admin.web.get("/admin/reviews").get_data(as_text=True)
    assert "Nothing flagged." in page and "No hidden reviews." in page
    assert "2.5 out of 5 from 2 reviews" in client.get(f"/practitioners/{owner.id}").get_data(as_text=True)


def test_user_text_is_escaped_on_every_page(client, owner, admin, factory):
    author = factory.user("client")
    r = review(owner, author, body=f"{EVIL} and some more words", author_name=EVIL)
    service.respond(owner.user, r.id, EVIL)
    service.flag(factory.user("client"), r.id, EVIL)
    pages = {
        "profile": client.get(f"/practitioners/{owner.id}"),
        "mine": owner.web.get("/account/reviews"),
        "queue": admin.web.get("/admin/reviews"),
    }
    for name, response in pages.items():
        html = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert "<script>alert(1)" not in html, name
        assert html.count(ESCAPED) >= 3, name  # text, author name, response (and the flag's reason)
    service.moderate(admin, r.id, "hide", EVIL)
    html = admin.web.get("/admin/reviews").get_data(as_text=True)
    assert "<script>alert(1)" not in html and html.count(ESCAPED) >= 4
    # What a visitor types back into the form is escaped too.
    web = signed_in(factory.app, factory.user("client"))
    echoed = web.post(
        f"/practitioners/{owner.id}/reviews",
        data={"rating": "5", "body": f"{EVIL} long enough text", "author_name": EVIL, "invite_code": EVIL},
    ).get_data(as_text=True)
    assert "<script>alert(1)" not in echoed and ESCAPED in echoed
    shown = client.get(f"/practitioners/{owner.id}?invite=%22%3E{EVIL}").get_data(as_text=True)
    assert "<script>alert(1)" not in shown


def test_every_form_carries_and_needs_a_csrf_token(make_app, factory):
    app = make_app(WTF_CSRF_ENABLED=True)
    token_of = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')

    def sign_in(user):
        return csrf_signed_in(app, user)

    practitioner = factory.practitioner(display_name="Robin Hale")
    existing = review(practitioner, factory.user("client"))
    client_web = sign_in(factory.user("client"))

    def form_of(html, marker):
        part = html[html.index(marker) :]
        return part[: part.index("</form>")]

    profile = client_web.get(f"/practitioners/{practitioner.id}").get_data(as_text=True)
    assert token_of.search(form_of(profile, 'id="review-form"'))
    assert token_of.search(form_of(profile, f'action="/reviews/{existing.id}/flags"'))
    url = f"/practitioners/{practitioner.id}/reviews"
    assert client_web.post(url, data={"rating": "5", "body": TEXT}).status_code == 400
    assert client_web.post(f"/reviews/{existing.id}/flags", data={"reason": "Looks fake"}).status_code == 400
    token = token_of.search(form_of(profile, 'id="review-form"')).group(1)
    assert client_web.post(url, data={"rating": "5", "body": TEXT, "csrf_token": token}).status_code == 302

    owner_web = sign_in(practitioner.user)
    mine = owner_web.get("/account/reviews").get_data(as_text=True)
    assert token_of.search(form_of(mine, 'action="/account/reviews/invites'))
    assert token_of.search(form_of(mine, f'action="/account/reviews/{existing.id}/response"'))
    assert owner_web.post("/account/reviews/invites", data={"email": "c@example.org"}).status_code == 400
    assert (
        owner_web.post(f"/account/reviews/{existing.id}/response", data={"body": "Thanks"}).status_code == 400
    )

    service.flag(factory.user("client"), existing.id, "Looks fake")
    admin_web = sign_in(factory.user("admin"))
    queue = admin_web.get("/admin/reviews").get_data(as_text=True)
    assert token_of.search(form_of(queue, f'action="/admin/reviews/{existing.id}/moderation"'))
    moderation = f"/admin/reviews/{existing.id}/moderation"
    assert admin_web.post(moderation, data={"action": "hide", "reason": "Spam"}).status_code == 400
    db.session.expire_all()
    assert db.session.query(ReviewInvite).count() == 0
    assert db.session.query(ReviewResponse).count() == 0
    assert not db.session.get(Review, existing.id).hidden
