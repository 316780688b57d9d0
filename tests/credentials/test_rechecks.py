"""Continuous re-verification: a badge keeps its word only while someone keeps checking."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from directory.credentials import public, standing
from directory.credentials.models import Credential
from directory.extensions import db
from directory.timeutil import today_utc
from tests.credentials.roster_kit import HEADER, status_of, upload, verify_by_document
from tests.factories import search_verified


def row(status="verified", checked=date(2025, 3, 1), expires=None, source=None, method="document"):
    at = datetime.combine(checked, datetime.min.time(), tzinfo=UTC) if checked else None
    return SimpleNamespace(
        status=status, checked_at=at, expires_on=expires, source_expires_on=source, method=method
    )


# -- the rules, against dates worked out by hand ------------------------------------------------------


def test_the_next_check_is_a_year_after_the_last_or_the_expiry_if_sooner():
    assert standing.next_check_due(row()) == date(2026, 3, 1)
    assert standing.next_check_due(row(expires=date(2025, 9, 1))) == date(2025, 9, 1)
    # The source's expiry is the one in force, later or earlier than the claimant's.
    assert standing.next_check_due(row(expires=date(2025, 9, 1), source=date(2027, 1, 1))) == date(2026, 3, 1)
    assert standing.next_check_due(row(checked=None)) is None


@pytest.mark.parametrize(
    ("today", "status", "label", "live"),
    [
        (date(2026, 2, 28), "verified", "verified", True),
        (date(2026, 3, 1), "verified", "re-check due", True),  # due today: the badge stays
        (date(2026, 3, 31), "verified", "re-check due", True),  # the last day of the 30-day grace
        (date(2026, 4, 1), "lapsed", "lapsed: not re-checked", False),
    ],
)
def test_a_due_re_check_keeps_the_badge_for_thirty_days_then_it_lapses(today, status, label, live):
    credential = row()
    assert standing.effective_status(credential, today) == status
    assert standing.label(credential, today) == label
    assert standing.is_live(credential, today) is live
    assert standing.badge_until(credential) == date(2026, 3, 31)


def test_an_expiry_inside_the_grace_ends_the_badge_first():
    credential = row(expires=date(2026, 3, 10))  # due on its expiry, 2026-03-10
    assert standing.effective_status(credential, date(2026, 3, 10)) == "verified"
    assert standing.effective_status(credential, date(2026, 3, 11)) == "expired"
    assert standing.badge_until(credential) == date(2026, 3, 10)


@pytest.mark.parametrize("status", ["recheck", "lapsed", "pending", "contested", "revoked", "rejected"])
def test_only_a_verified_credential_shows_a_badge(status):
    assert standing.is_live(row(status=status), date(2025, 3, 2)) is False
    assert standing.badge_until(row(status=status)) is None


def test_a_contested_claim_reads_pending_in_public_and_contested_to_its_owner():
    assert standing.label(row(status="contested")) == "pending"
    assert standing.label(row(status="contested"), public=False) == "contested"


# -- through the service ------------------------------------------------------------------------------


def days_later(clock, days):
    clock.advance(days=days - (clock.offset.days))
    return clock.today()


@pytest.fixture
def verified(client, practitioner, admin, submit):
    cid = submit(practitioner.headers, expires_on="2040-01-01").get_json()["id"]
    verify_by_document(client, admin, cid)
    return cid


def test_a_badge_past_its_grace_goes_everywhere_and_the_job_writes_it_down(
    client, practitioner, verified, clock, runner
):
    days_later(clock, 365 + 10)
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["verified"] is True and profile["credentials"][0]["label"] == "re-check due"
    card = client.get("/api/v1/search").get_json()["results"][0]["credentials"][0]
    assert (card["status"], card["label"]) == ("verified", "re-check due")

    days_later(clock, 365 + 31)
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["verified"] is False and profile["credentials"][0]["label"] == "lapsed: not re-checked"
    assert search_verified(client) == []
    assert client.get(f"/api/v1/credentials/{verified}/attestation").status_code == 404

    result = public.expire_due()
    assert [c.id for c in result["lapsed"]] == [verified]
    assert status_of(verified) == ("lapsed", "grace")
    feed = client.get("/api/v1/verification-events").get_json()["events"]
    assert (feed[-1]["from_status"], feed[-1]["to_status"], feed[-1]["method"]) == (
        "verified",
        "lapsed",
        "grace",
    )


def test_a_confirmation_is_a_re_check_and_moves_the_next_one_a_year_on(
    client, factory, admin, verified, clock
):
    early = client.post(
        f"/api/v1/admin/credentials/{verified}/decision", json={"action": "verify"}, headers=admin.headers
    )
    assert early.status_code == 409 and "re-check is due on" in early.get_json()["message"]

    later = days_later(clock, 340)  # within 30 days of the due date
    admin.headers = factory.headers(admin)  # a token from a year ago has long ended
    confirmed = client.post(
        f"/api/v1/admin/credentials/{verified}/decision", json={"action": "verify"}, headers=admin.headers
    )
    assert confirmed.status_code == 200, confirmed.get_json()
    credential = db.session.get(Credential, verified)
    assert standing.next_check_due(credential) == clock.today() + timedelta(days=365)
    assert status_of(verified)[0] == "verified" and later  # a confirmation is not news for the public feed
    assert [e["to_status"] for e in client.get("/api/v1/verification-events").get_json()["events"]] == [
        "verified"
    ]


def test_the_re_check_queue_says_what_changed(client, factory, admin, holder, submit, clock):
    due = holder("Casey Lin", "CMT-1001")
    verify_by_document(client, admin, due.credential_id)
    renamed = holder("Robin Roe", "CMT-2002")
    verify_by_document(client, admin, renamed.credential_id)
    client.put("/api/v1/me/legal-name", json={"legal_name": "Robin Moe"}, headers=renamed.headers)
    lapsed = holder("Pat Doe", "CMT-3003")
    verify_by_document(client, admin, lapsed.credential_id)
    holder("Jordan Park", "CMT-4004")
    holder("Jamie Fox", "cmt-4004")
    old = holder("Alex Kim", "CMT-5005")
    db.session.get(Credential, old.credential_id).number_key = None  # an old number that fits no format
    db.session.commit()
    body = HEADER + "CMT-1001,Casey Lin,active,\nCMT-3003,Pat Doe,inactive,\n"
    assert upload(client, admin.headers, body).get_json()["lapsed"] == 1
    days_later(clock, 350)
    admin.headers = factory.headers(admin)

    queue = client.get("/api/v1/admin/rechecks", headers=admin.headers).get_json()

    kinds = [(r["kind"], r["credential"]["number"]) for r in queue["results"]]
    assert kinds == [
        ("contested", "CMT-4004"),
        ("contested", "cmt-4004"),
        ("recheck", "CMT-2002"),
        ("lapsed", "CMT-3003"),
        ("format", "CMT-5005"),
        ("due", "CMT-1001"),
    ]
    changed = {r["credential"]["number"]: r["changed"] for r in queue["results"]}
    assert changed["CMT-2002"].startswith("The legal name on the profile changed")
    assert changed["CMT-3003"] == "Roster line 3: The roster lists it as inactive."
    assert changed["CMT-4004"] == "Claimed by 2 accounts: decide which one holds it."
    assert "does not fit how California Massage Therapy Council writes numbers" in changed["CMT-5005"]
    assert changed["CMT-1001"].startswith(f"Re-check due on {(today_utc() + timedelta(days=15)).isoformat()}")
    assert queue["total"] == 6
    only = client.get("/api/v1/admin/rechecks", query_string={"reason": "lapsed"}, headers=admin.headers)
    assert [r["kind"] for r in only.get_json()["results"]] == ["lapsed"]
    paged = client.get(
        "/api/v1/admin/rechecks", query_string={"per_page": 2, "page": 3}, headers=admin.headers
    )
    assert [r["kind"] for r in paged.get_json()["results"]] == ["format", "due"]
    found = client.get("/api/v1/admin/rechecks", query_string={"q": "robin"}, headers=admin.headers)
    assert [r["credential"]["number"] for r in found.get_json()["results"]] == ["CMT-2002"]


def test_the_re_check_page_lists_the_same(app, client, admin, holder):
    from tests.factories import signed_in

    holder("Jordan Park", "CMT-4004")
    holder("Jamie Fox", "CMT-4004")
    page = signed_in(app, admin).get("/admin/rechecks").get_data(as_text=True)
    assert page.count("Claimed by 2 accounts") == 2 and "Re-check queue" in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page": "x"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"reason": "bored"}, "reason"),
        ({"kind": "diploma"}, "kind"),
        ({"due_before": "soon"}, "due_before"),
        ({"due_before": "0001-02-01"}, "due_before"),
        ({"due_before": "1899-12-31"}, "due_before"),
        ({"q": "x" * 101}, "q"),
        ({"issuer": ""}, "issuer"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/admin/rechecks", "/api/v1/admin/credentials"])
def test_bad_queue_arguments_are_422(client, admin, path, query, field):
    if path.endswith("credentials") and field == "reason":
        query, field = {"status": "bored"}, "status"
    response = client.get(path, query_string=query, headers=admin.headers)

    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()


@pytest.mark.parametrize("path", ["/api/v1/admin/rechecks", "/api/v1/admin/credentials"])
@pytest.mark.parametrize("day", ["1900-01-01", "9999-12-31"])
def test_the_first_and_last_days_a_queue_filters_by_are_answered(client, admin, path, day):
    assert client.get(path, query_string={"due_before": day}, headers=admin.headers).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/admin/rechecks", "/admin/rechecks"])
def test_the_re_check_queue_is_for_admins(client, factory, path):
    assert client.get(path).status_code in (401, 302)
    headers = factory.headers(factory.user("practitioner"))
    assert client.get(path, headers=headers).status_code in (403, 302)


def test_the_verification_queue_is_paged_filtered_and_searchable(client, factory, admin, holder, submit):
    made = [holder(f"Casey Lin{n}", f"CMT-{1000 + n}") for n in range(5)]
    board = factory.practitioner(display_name="Pat Doe")
    submit(factory.headers(board.user), issuer="ncbtmb", kind="certification", number="123456-00")

    first = client.get("/api/v1/admin/credentials", query_string={"per_page": 2}, headers=admin.headers)
    assert first.headers["X-Total-Count"] == "6"
    assert [c["id"] for c in first.get_json()] == [made[0].credential_id, made[1].credential_id]
    third = client.get(
        "/api/v1/admin/credentials", query_string={"per_page": 2, "page": 3}, headers=admin.headers
    )
    assert [c["number"] for c in third.get_json()] == ["CMT-1004", "123456-00"]
    by_issuer = client.get(
        "/api/v1/admin/credentials", query_string={"issuer": "ncbtmb"}, headers=admin.headers
    )
    assert [c["number"] for c in by_issuer.get_json()] == ["123456-00"]
    by_kind = client.get("/api/v1/admin/credentials", query_string={"kind": "license"}, headers=admin.headers)
    assert by_kind.headers["X-Total-Count"] == "5"
    for q in ("cmt 1003", "CMT1003", "1003"):
        found = client.get("/api/v1/admin/credentials", query_string={"q": q}, headers=admin.headers)
        assert [c["number"] for c in found.get_json()] == ["CMT-1003"], q
    by_name = client.get("/api/v1/admin/credentials", query_string={"q": "pat d"}, headers=admin.headers)
    assert [c["number"] for c in by_name.get_json()] == ["123456-00"]
    nothing = client.get("/api/v1/admin/credentials", query_string={"q": "zz%"}, headers=admin.headers)
    assert nothing.get_json() == [] and nothing.headers["X-Total-Count"] == "0"


def test_a_roster_too_large_for_a_request_points_to_the_command(app, client, admin, holder, tmp_path, runner):
    app.config["ROSTER_REQUEST_MAX_CHANGES"] = 2
    people = [holder(f"Casey Lin{n}", f"CMT-{1000 + n}") for n in range(3)]
    body = HEADER + "".join(f"CMT-{1000 + n},Casey Lin{n},active,\n" for n in range(3))

    refused = upload(client, admin.headers, body)
    assert refused.status_code == 413 and "import-roster camtc" in refused.get_json()["message"]
    assert all(status_of(p.credential_id)[0] == "pending" for p in people)
    assert upload(client, admin.headers, body, dry_run="true").get_json()["verified"] == 3

    path = tmp_path / "roster.csv"
    path.write_text(body)
    done = runner.invoke(args=["directory", "import-roster", "camtc", str(path), "--admin", admin.email])
    assert done.exit_code == 0, done.output
    assert all(status_of(p.credential_id) == ("verified", "roster") for p in people)
