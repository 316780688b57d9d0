"""Links that point home: in production a request naming any Host but the site's is refused before a
view runs (Flask's trusted hosts), and every link the service writes names the configured site."""

import pytest

SITE = "https://directory.example"


@pytest.fixture
def production(make_app):
    return make_app(DIRECTORY_ENV="production", SITE_URL=SITE, EXTRA_HOSTS="node-1.internal, 10.0.0.5")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("directory.example", 200),
        ("directory.example:443", 200),
        ("node-1.internal", 200),
        ("10.0.0.5:8000", 200),
        ("evil.example", 400),
        ("directory.example.evil.example", 400),
        ("evil.example#directory.example", 400),
        ("", 400),
    ],
)
@pytest.mark.parametrize("path", ["/healthz", "/api/v1/vocabulary", "/login"])
def test_only_the_sites_own_hosts_are_answered(production, host, status, path):
    response = production.test_client().get(path, headers={"Host": host})
    assert response.status_code == status
    if status == 400 and path.startswith("/api/"):
        assert response.get_json()["code"] == 400


def test_a_reset_asked_through_any_host_links_to_the_site(production):
    from directory.extensions import mail

    client = production.test_client()
    with production.app_context():
        from tests.factories import Factory

        user = Factory(production, client).user()
        with mail.record_messages() as outbox:
            client.post(
                "/api/v1/auth/password-reset",
                json={"email": user.email},
                headers={"Host": "directory.example"},
            )
    assert outbox and f"{SITE}/password-reset/" in outbox[0].body


def test_development_answers_any_host(client):
    assert client.get("/healthz", headers={"Host": "anything.local"}).status_code == 200
