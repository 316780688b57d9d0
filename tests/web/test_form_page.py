"""The one way a page form is handled (directory/web/forms.py form_page): the page until it is
submitted; then the API's schema, the service, and a flash with a redirect, or the page again with
the form's field errors at 422, or at the refusal's own status (with Retry-After when it has one).
A refusal the page itself answers (404 here) is the site's error page, not the form."""

import marshmallow as ma
import pytest
from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField

from directory.rules import RuleError
from directory.web.forms import flashed, form_page

REFUSALS = {
    "taken": RuleError(409, "That name is taken.", field="name"),
    "busy": RuleError(429, "Too many names this hour.", retry_after=30),
    "odd": RuleError(422, "Names like this need a second look."),
}


class NameForm(FlaskForm):
    name = StringField("Name")

    def payload(self) -> dict:
        return {"name": self.name.data or ""}


LENGTH = "Between 2 and 20 characters."


class NameSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=20, error=LENGTH))


@pytest.fixture
def site(make_app):
    """An app with one page form, recording what its service was called with."""
    app = make_app()
    calls = []

    def save(data):
        calls.append(data["name"])
        if data["name"] == "missing":
            raise RuleError(404, "No such list.")
        if data["name"] in REFUSALS:
            raise REFUSALS[data["name"]]
        return data["name"].title()

    def page():
        form = NameForm()
        return form_page(
            form,
            NameSchema(),
            save,
            guard=lambda data: (
                flashed("/sign-in-again", "Again, please.", "info") if data["name"] == "guarded" else None
            ),
            done=lambda saved: flashed("/names", f"{saved} is saved."),
            again=lambda outcome: (
                render_template_string(
                    "fields={{ form.name.errors|join('|') }};form={{ form.form_errors|join('|') }}", form=form
                ),
                outcome.status,
                outcome.headers or {},
            ),
        )

    app.add_url_rule("/names/new", "names_new", page, methods=["GET", "POST"])
    return app, calls


def flashes(client) -> list:
    with client.session_transaction() as session:
        return session.get("_flashes", [])


def test_the_page_before_any_submission_carries_no_errors_and_calls_nothing(site):
    app, calls = site
    response = app.test_client().get("/names/new")
    assert (response.status_code, response.get_data(as_text=True), calls) == (200, "fields=;form=", [])


def test_a_valid_form_calls_the_service_once_then_flashes_and_redirects(site):
    app, calls = site
    client = app.test_client()
    response = client.post("/names/new", data={"name": "ada"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/names"
    assert flashes(client) == [("success", "Ada is saved.")]
    assert calls == ["ada"]


@pytest.mark.parametrize(
    ("data", "status", "body"),
    [
        ({}, 422, f"fields={LENGTH};form="),
        ({"name": ""}, 422, f"fields={LENGTH};form="),
        ({"name": "a"}, 422, f"fields={LENGTH};form="),
        ({"name": "x" * 21}, 422, f"fields={LENGTH};form="),
        ({"name": "taken"}, 409, "fields=That name is taken.;form="),
        ({"name": "busy"}, 429, "fields=;form=Too many names this hour."),
        ({"name": "odd"}, 422, "fields=;form=Names like this need a second look."),
    ],
    ids=[
        "absent",
        "empty",
        "too-short",
        "too-long",
        "refused-on-a-field",
        "throttled",
        "refused-on-the-form",
    ],
)
def test_a_form_that_fails_is_the_page_again_with_what_is_wrong_and_its_status(site, data, status, body):
    app, _ = site
    client = app.test_client()
    response = client.post("/names/new", data=data)
    assert (response.status_code, response.get_data(as_text=True)) == (status, body)
    assert flashes(client) == []


def test_values_the_schema_refuses_never_reach_the_service(site):
    app, calls = site
    app.test_client().post("/names/new", data={"name": "a"})
    assert calls == []


def test_a_throttled_form_says_when_to_try_again(site):
    app, _ = site
    response = app.test_client().post("/names/new", data={"name": "busy"})
    assert response.headers["Retry-After"] == "30"


def test_a_refusal_the_page_answers_itself_is_the_error_page_not_the_form(site):
    app, _ = site
    response = app.test_client().post("/names/new", data={"name": "missing"})
    assert response.status_code == 404
    assert "fields=" not in response.get_data(as_text=True)
    assert "No such list." in response.get_data(as_text=True)


def test_a_guard_answers_instead_of_the_service(site):
    app, calls = site
    client = app.test_client()
    response = client.post("/names/new", data={"name": "guarded"})
    assert (response.status_code, response.headers["Location"], calls) == (302, "/sign-in-again", [])
    assert flashes(client) == [("info", "Again, please.")]
