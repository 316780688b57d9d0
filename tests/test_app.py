import pytest

from directory import create_app


def test_secret_key_is_generated_once_and_kept(tmp_path):
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "DATA_DIR": str(tmp_path)}
    first = create_app(config).config["SECRET_KEY"]
    second = create_app(config).config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "DATA_DIR": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_database_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("DIRECTORY_DATA_DIR", str(tmp_path / "data"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("x.db")
    assert app.config["DATA_DIR"] == str(tmp_path / "data")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nothing-here", 404),
        ("delete", "/api/v1/vocabulary", 405),
        ("get", "/api/v1/practitioners/999999", 404),
        ("get", "/api/v1/practitioners/not-a-number", 404),
        ("get", "/api/v1/me", 401),
    ],
)
def test_api_errors_have_one_shape(client, method, path, status):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.is_json
    body = response.get_json()
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]


def test_malformed_json_is_400_with_the_shape(client):
    response = client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and body["message"]


def test_site_errors_are_html_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_a_bug_is_a_500_in_the_shape_without_a_trace(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @app.route("/api/v1/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["code"] == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/tokens",
        "/api/v1/me",
        "/api/v1/vocabulary",
        "/api/v1/issuers",
        "/api/v1/me/profile",
        "/api/v1/me/locations",
        "/api/v1/me/locations/{location_id}",
        "/api/v1/practitioners/{practitioner_id}",
    ):
        assert path in paths, path
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_api_docs_page_works_offline(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert 'src="http' not in html and 'href="http' not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        response = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert response.status_code == 200
        response.close()


def test_templates_and_migrations_are_found_inside_an_installed_package(tmp_path, monkeypatch):
    import directory

    installed = tmp_path / "site-packages" / "directory"
    (installed / "_templates").mkdir(parents=True)
    (installed / "_migrations").mkdir()
    monkeypatch.setattr(directory, "PACKAGE_DIR", installed)
    assert directory._resource_dir("templates") == str(installed / "_templates")
    assert directory._resource_dir("migrations") == str(installed / "_migrations")


def test_templates_come_from_the_checkout_when_there_is_one():
    import directory

    assert directory._resource_dir("templates") == str(directory.PACKAGE_DIR.parent / "templates")


@pytest.mark.parametrize("pid", ["-1", "0", "99999999999999999999", "1.5", "%00", "1;DROP"])
def test_odd_practitioner_ids_are_404_not_500(client, pid):
    for path in (f"/api/v1/practitioners/{pid}", f"/practitioners/{pid}"):
        response = client.get(path)
        assert response.status_code == 404, path
