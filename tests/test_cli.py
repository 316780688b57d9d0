"""`flask directory …` through Flask's CLI runner, on the test database."""

import sqlalchemy as sa

from directory.accounts.models import User
from directory.extensions import db
from directory.practitioners.models import Practitioner
from tests.factories import PASSWORD, count

# -- demo -------------------------------------------------------------------------------------------


def test_demo_creates_practitioners(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "5"])

    assert result.exit_code == 0, result.output
    assert "Created 5 practitioners" in result.output
    assert count(Practitioner) == 5
    emails = db.session.scalars(sa.select(User.email).join(Practitioner))
    assert sorted(emails) == sorted(f"demo-1-{n}@example.org" for n in range(1, 6))
    # Every demo account, practitioners and the clients who wrote their reviews, counts as confirmed.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email_confirmed_at.is_(None))
        )
        == 0
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) > 5


def test_demo_seed_option(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "2", "--seed", "9"])

    assert result.exit_code == 0, result.output
    emails = db.session.scalars(sa.select(User.email).join(Practitioner))
    assert sorted(emails) == ["demo-9-1@example.org", "demo-9-2@example.org"]


def test_demo_if_empty_on_an_empty_directory_adds(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "3", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "Created 3 practitioners" in result.output
    assert count(Practitioner) == 3


def test_demo_if_empty_leaves_a_directory_with_practitioners_alone(runner, factory):
    factory.practitioner()
    users = count(User)

    result = runner.invoke(args=["directory", "demo", "--count", "5", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "no demo data added" in result.output
    assert "Created" not in result.output
    assert (count(Practitioner), count(User)) == (1, users)


def test_demo_refuses_a_count_below_one(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "0"])

    assert result.exit_code != 0
    assert "--count" in result.output
    assert count(Practitioner) == 0


# -- create-admin -----------------------------------------------------------------------------------


def test_create_admin_can_get_an_api_token(runner, client):
    result = runner.invoke(
        args=["directory", "create-admin", "--email", "Boss@Example.org", "--password", PASSWORD]
    )

    assert result.exit_code == 0, result.output
    admin = db.session.scalar(sa.select(User).where(User.email == "boss@example.org"))
    assert admin is not None and admin.role == "admin"
    assert f"Admin boss@example.org (id {admin.id}) is ready." in result.output

    response = client.post("/api/v1/auth/tokens", json={"email": "boss@example.org", "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert (me.get_json()["email"], me.get_json()["role"]) == ("boss@example.org", "admin")


def test_create_admin_promotes_an_existing_account(runner, factory):
    user = factory.user("client")

    result = runner.invoke(
        args=["directory", "create-admin", "--email", user.email, "--password", "another long password"]
    )

    assert result.exit_code == 0, result.output
    assert factory.refresh(user).role == "admin"
    assert count(User) == 1
    factory.token(user, "another long password")


def test_create_admin_refuses_a_short_password(runner, client):
    result = runner.invoke(
        args=["directory", "create-admin", "--email", "boss@example.org", "--password", "short"]
    )

    assert result.exit_code != 0
    assert "Use at least 12 characters." in result.output
    assert count(User) == 0
    response = client.post("/api/v1/auth/tokens", json={"email": "boss@example.org", "password": "short"})
    assert response.status_code == 401


def test_reindex_if_missing_builds_once(runner, factory):
    factory.practitioner(display_name="Indexed")
    first = runner.invoke(args=["directory", "reindex", "--if-missing"])
    assert first.exit_code == 0 and "Indexed 1 practitioners" in first.output
    second = runner.invoke(args=["directory", "reindex", "--if-missing"])
    assert second.exit_code == 0 and "nothing to build" in second.output


def test_demo_data_carries_credentials_whose_audit_chains_verify(runner):
    result = runner.invoke(args=["directory", "demo", "--count", "60"])
    assert result.exit_code == 0, result.output
    from directory.credentials.models import Credential
    from directory.extensions import db

    statuses = {c.status for c in db.session.query(Credential)}
    assert "verified" in statuses and "pending" in statuses
    audit = runner.invoke(args=["directory", "audit-verify"])
    assert audit.exit_code == 0, audit.output
    assert "Audit chain intact" in audit.output


def test_create_admin_refuses_a_common_password(runner, client):
    result = runner.invoke(
        args=["directory", "create-admin", "--email", "boss@example.org", "--password", "qwerty123456"]
    )
    assert result.exit_code != 0 and "common passwords" in result.output
