"""Submit → decide → badge, and the trust surfaces around it."""

from datetime import timedelta

from directory.timeutil import today_utc
from tests.factories import search_verified


def test_submit_verify_badge_revoke(client, practitioner, admin_headers, submit):
    created = submit(practitioner.headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "pending" and body["evidence"][0]["content_type"] == "image/png"
    cid = body["id"]
    assert client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()["verified"] is False
    queue = client.get("/api/v1/admin/credentials?status=pending", headers=admin_headers).get_json()
    assert isinstance(queue, list), queue
    assert [c["id"] for c in queue] == [cid]
    assert queue[0]["practitioner"]["display_name"] == "Casey Lin"

    decided = client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": "verify", "issued_on": "2015-06-01"},  # the licence shows its issue date
        headers=admin_headers,
    )
    assert decided.status_code == 200 and decided.get_json() == {"id": cid, "status": "verified"}
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["verified"] is True
    credential = profile["credentials"][0]
    assert credential["status"] == "verified" and credential["method"] == "document"
    assert credential["issuer"]["slug"] == "camtc" and credential["next_check_due"]
    assert profile["verified_years_experience"] == today_utc().year - 2015
    assert search_verified(client) == [practitioner.id]
    lookup = client.get("/api/v1/verify", query_string={"issuer": "camtc", "number": "CMT-1001"}).get_json()
    assert lookup["status"] == "verified" and lookup["practitioner"]["id"] == practitioner.id

    refused = client.post(
        f"/api/v1/admin/credentials/{cid}/decision", json={"action": "revoke"}, headers=admin_headers
    )
    assert refused.status_code == 422 and "reason" in refused.get_json()["errors"]
    revoked = client.post(
        f"/api/v1/admin/credentials/{cid}/decision",
        json={"action": "revoke", "reason": "Board suspended the licence"},
        headers=admin_headers,
    )
    assert revoked.get_json()["status"] == "revoked"
    assert client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()["verified"] is False
    assert search_verified(client) == []
    again = client.post(
        f"/api/v1/admin/credentials/{cid}/decision", json={"action": "verify"}, headers=admin_headers
    )
    assert again.status_code == 409

    feed = client.get("/api/v1/verification-events").get_json()
    assert [(e["from_status"], e["to_status"]) for e in feed["events"]] == [
        ("pending", "verified"),
        ("verified", "revoked"),
    ]
    assert "reason" not in feed["events"][-1] and "actor" not in feed["events"][-1]
    trail = client.get(f"/api/v1/admin/audit?credential_id={cid}", headers=admin_headers).get_json()
    assert trail[-1]["reason"] == "Board suspended the licence"
    assert trail[1]["prev_hash"] == trail[0]["hash"]


def test_a_verified_credential_past_its_expiry_reads_expired_at_once(
    client, practitioner, admin_headers, submit, monkeypatch
):
    soon = today_utc() + timedelta(days=1)
    cid = submit(practitioner.headers, expires_on=soon.isoformat()).get_json()["id"]
    client.post(f"/api/v1/admin/credentials/{cid}/decision", json={"action": "verify"}, headers=admin_headers)
    assert client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()["verified"] is True
    import directory.credentials.present as present
    import directory.credentials.standing as standing

    later = today_utc() + timedelta(days=2)
    monkeypatch.setattr(standing, "today_utc", lambda: later)
    monkeypatch.setattr(present, "today_utc", lambda: later)
    profile = client.get(f"/api/v1/practitioners/{practitioner.id}").get_json()
    assert profile["verified"] is False and profile["credentials"][0]["status"] == "expired"


def test_evidence_is_served_to_owner_and_admins_only(client, factory, practitioner, admin_headers, submit):
    cid = submit(practitioner.headers).get_json()["id"]
    file = client.get(f"/api/v1/admin/credentials/{cid}/evidence", headers=admin_headers)
    assert file.status_code == 200 and file.data.startswith(b"\x89PNG")
    assert file.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in file.headers["Content-Security-Policy"]
    assert file.headers["Content-Disposition"].startswith("attachment")
    file.close()
    own = client.get(f"/api/v1/me/credentials/{cid}/evidence/file", headers=practitioner.headers)
    assert own.status_code == 200
    own.close()
    other = factory.headers(factory.practitioner().user)
    assert client.get(f"/api/v1/me/credentials/{cid}/evidence/file", headers=other).status_code == 404
    client_headers = factory.headers(factory.user("client"))
    assert client.get(f"/api/v1/admin/credentials/{cid}/evidence", headers=client_headers).status_code == 403
    assert client.get(f"/api/v1/admin/credentials/{cid}/evidence").status_code == 401
