from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from directory.catalog import service as catalog
from directory.practitioners import present, service
from directory.practitioners.forms import PROFILE_FIELDS, LocationForm, ProfileForm
from directory.practitioners.schemas import LocationInSchema, ProfileInSchema
from directory.rules import RuleError
from directory.web.forms import attach_errors, load_into

bp = Blueprint("practitioners", __name__)


def _practitioner_only():
    if current_user.role != "practitioner":
        abort(403)


def _profile_form(practitioner) -> ProfileForm:
    form = ProfileForm()
    form.set_vocabulary(catalog.vocabulary())
    if request.method == "GET" and practitioner is not None:
        view = present.owner_view(practitioner)
        for name in PROFILE_FIELDS:
            getattr(form, name).data = view[name]
        form.languages.data = ", ".join(view["languages"])  # a text box, not a list
    return form


@bp.route("/account", methods=["GET", "POST"])
@login_required
def dashboard():
    if current_user.role != "practitioner":
        return render_template("accounts/client_home.html")
    practitioner = service.profile_of(current_user)
    form = _profile_form(practitioner)
    status = 200
    data = form.validate_on_submit() and load_into(form, ProfileInSchema(), form.payload())
    if data:
        service.save_profile(current_user, data)
        flash("Your profile is saved.", "success")
        return redirect(url_for("practitioners.dashboard"))
    if request.method == "POST":
        status = 422
    return render_template(
        "practitioners/dashboard.html",
        form=form,
        practitioner=practitioner,
        view=present.owner_view(practitioner) if practitioner else None,
        location_form=LocationForm(formdata=None),
    ), status


@bp.route("/account/confirm-accepting", methods=["POST"])
@login_required
def confirm_accepting():
    _practitioner_only()
    service.confirm_accepting(current_user)
    flash("Thanks: you show as accepting new clients for another 30 days.", "success")
    return redirect(url_for("practitioners.dashboard"))


@bp.route("/account/locations", methods=["POST"])
@login_required
def add_location():
    _practitioner_only()
    practitioner = service.require_profile(current_user)
    form = LocationForm()
    data = form.validate_on_submit() and load_into(form, LocationInSchema(), form.payload())
    if data:
        try:
            service.add_location(current_user, data)
        except RuleError as exc:
            attach_errors(form, exc.errors or {"_schema": [exc.message]})
        else:
            flash("The place is added.", "success")
            return redirect(url_for("practitioners.dashboard") + "#places")
    profile_form = _profile_form(practitioner)
    return render_template(
        "practitioners/dashboard.html",
        form=profile_form,
        practitioner=practitioner,
        view=present.owner_view(practitioner),
        location_form=form,
    ), 422


@bp.route("/account/locations/<id:location_id>/delete", methods=["POST"])
@login_required
def delete_location(location_id: int):
    _practitioner_only()
    service.delete_location(current_user, location_id)
    flash("The place is removed.", "info")
    return redirect(url_for("practitioners.dashboard") + "#places")


@bp.route("/practitioners/<id:practitioner_id>")
def profile(practitioner_id: int):
    practitioner = service.get_public(practitioner_id)
    return render_template("practitioners/profile.html", p=present.public_view(practitioner))
