from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from directory.accounts.auth import page_login_required
from directory.catalog import service as catalog
from directory.practitioners import present, service
from directory.practitioners.forms import PROFILE_FIELDS, LocationForm, ProfileForm
from directory.practitioners.schemas import LocationInSchema, ProfileInSchema
from directory.web.forms import flashed, form_page

bp = Blueprint("practitioners", __name__)


def _profile_form(practitioner) -> ProfileForm:
    form = ProfileForm()
    form.set_vocabulary(catalog.vocabulary())
    if request.method == "GET" and practitioner is not None:
        view = present.owner_view(practitioner)
        for name in PROFILE_FIELDS:
            getattr(form, name).data = view[name]
        form.languages.data = ", ".join(view["languages"])  # a text box, not a list
    return form


def _render_dashboard(practitioner, form, location_form, status: int):
    return render_template(
        "practitioners/dashboard.html",
        form=form,
        practitioner=practitioner,
        view=present.owner_view(practitioner) if practitioner else None,
        location_form=location_form,
    ), status


@bp.route("/account", methods=["GET", "POST"])
@page_login_required()
def dashboard():
    if current_user.role != "practitioner":
        return render_template("accounts/client_home.html")
    practitioner = service.profile_of(current_user)
    form = _profile_form(practitioner)
    return form_page(
        form,
        ProfileInSchema(),
        lambda data: service.save_profile(current_user, data),
        done=lambda _: flashed(url_for("practitioners.dashboard"), "Your profile is saved."),
        again=lambda outcome: _render_dashboard(
            practitioner, form, LocationForm(formdata=None), outcome.status
        ),
    )


@bp.route("/account/confirm-accepting", methods=["POST"])
@page_login_required("practitioner")
def confirm_accepting():
    service.confirm_accepting(current_user)
    return flashed(
        url_for("practitioners.dashboard"), "Thanks: you show as accepting new clients for another 30 days."
    )


@bp.route("/account/locations", methods=["POST"])
@page_login_required("practitioner")
def add_location():
    practitioner = service.require_profile(current_user)
    form = LocationForm()
    return form_page(
        form,
        LocationInSchema(),
        lambda data: service.add_location(current_user, data),
        done=lambda _: flashed(url_for("practitioners.dashboard") + "#places", "The place is added."),
        # The dashboard answers 422 whatever the refusal: the place form is the one to put right.
        again=lambda _: _render_dashboard(practitioner, _profile_form(practitioner), form, 422),
        page_errors=(),
    )


@bp.route("/account/locations/<id:location_id>/delete", methods=["POST"])
@page_login_required("practitioner")
def delete_location(location_id: int):
    service.delete_location(current_user, location_id)
    return flashed(url_for("practitioners.dashboard") + "#places", "The place is removed.", "info")


@bp.route("/practitioners/<id:practitioner_id>")
def profile(practitioner_id: int):
    practitioner = service.get_public(practitioner_id)
    return render_template("practitioners/profile.html", p=present.public_view(practitioner))
