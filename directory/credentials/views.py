"""Credential pages: a practitioner's own (submit, resubmit, evidence) and the public lookup.

The admin pages (queue, decisions, evidence preview, audit) live in admin_views.py, their own
blueprint. Views parse, call the service, render.
"""

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from directory.catalog import service as catalog
from directory.catalog.models import Technique
from directory.credentials import evidence, present, public, service, standing
from directory.credentials.forms import CredentialForm, LegalNameForm, LookupForm, ResubmitForm
from directory.credentials.schemas import CredentialInSchema, LegalNameSchema, LookupArgsSchema
from directory.practitioners import service as practitioners
from directory.rules import RuleError
from directory.web.forms import attach_errors, load_into

bp = Blueprint("credentials", __name__)


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@bp.context_processor
def template_helpers() -> dict:
    """For the credential templates; admin_views installs the same on its blueprint."""
    return {
        "effective_status": standing.effective_status,
        "status_label": standing.label,
        "recheck_due": standing.recheck_due,
        "next_check_due": standing.next_check_due,
        "grace_ends": standing.grace_ends,
        "day": day,
        "when": when,
        "resubmittable": service.RESUBMITTABLE,
    }


def _practitioner_only() -> None:
    if current_user.role != "practitioner":
        abort(403)


def _credential_form() -> CredentialForm:
    form = CredentialForm()
    form.set_catalog(catalog.issuers(), catalog.all_of(Technique))
    return form


def _render_mine(
    form: CredentialForm,
    resubmit: ResubmitForm | None = None,
    resubmit_id=None,
    status=200,
    name_form: LegalNameForm | None = None,
):
    practitioner = practitioners.profile_of(current_user)
    if name_form is None:
        name_form = LegalNameForm(formdata=None)
        name_form.legal_name.data = practitioner.legal_name if practitioner else ""
    return render_template(
        "credentials/mine.html",
        practitioner=practitioner,
        credentials=service.mine(current_user) if practitioner else [],
        form=form,
        resubmit_form=resubmit or ResubmitForm(formdata=None),
        resubmit_id=resubmit_id,
        name_form=name_form,
    ), status


@bp.route("/account/credentials", methods=["GET", "POST"])
@login_required
def mine():
    """Your credentials, their status and evidence; and the form to submit one."""
    _practitioner_only()
    form = _credential_form()
    if request.method == "GET":
        return _render_mine(form)
    data = form.validate_on_submit() and load_into(form, CredentialInSchema(), form.payload())
    if not data:
        return _render_mine(form, status=422)
    try:
        credential = service.submit(current_user, data, form.evidence.data)
    except RuleError as exc:
        attach_errors(form, exc.errors or {"_schema": [exc.message]})
        return _render_mine(form, status=exc.status)
    flash("Your credential is submitted: it shows as pending until it is checked.", "success")
    return redirect(url_for(".mine") + f"#credential-{credential.id}")


@bp.route("/account/legal-name", methods=["POST"])
@login_required
def legal_name():
    _practitioner_only()
    form = LegalNameForm()
    data = form.validate_on_submit() and load_into(form, LegalNameSchema(), form.payload())
    if not data:
        return _render_mine(_credential_form(), status=422, name_form=form)
    try:
        result = service.set_legal_name(current_user, data["legal_name"])
    except RuleError as exc:
        if exc.status != 404:
            raise
        flash("Save your practitioner profile first.", "error")
        return redirect(url_for("practitioners.dashboard"))
    if result["sent_back"]:
        count = len(result["sent_back"])
        flash(
            f"Your legal name is saved. {count} verified credential{'s' * (count != 1)} "
            f"{'are' if count != 1 else 'is'} sent back to be checked against it: the badge shows again once "
            "an admin or the issuer's roster confirms it.",
            "info",
        )
    else:
        flash("Your legal name is saved.", "success")
    return redirect(url_for(".mine") + "#legal-name")


@bp.route("/account/credentials/<id:credential_id>/resubmit", methods=["POST"])
@login_required
def resubmit(credential_id: int):
    _practitioner_only()
    form = ResubmitForm()
    form.validate_on_submit()
    try:
        service.resubmit(current_user, credential_id, form.evidence.data)
    except RuleError as exc:
        if exc.status == 404:
            raise
        attach_errors(form, exc.errors or {"_schema": [exc.message]})
        return _render_mine(_credential_form(), form, credential_id, exc.status)
    flash("The new evidence is sent: the credential is pending again.", "success")
    return redirect(url_for(".mine") + f"#credential-{credential_id}")


@bp.route("/account/credentials/<id:credential_id>/evidence/<id:version>")
@login_required
def my_evidence(credential_id: int, version: int):
    """Your own evidence file, always as a download."""
    _practitioner_only()
    return evidence.send(service.evidence_for(current_user, credential_id, version))


@bp.route("/verify")
def verify():
    """Public lookup by issuer and number: the same answer as GET /api/v1/verify, as a page."""
    form = LookupForm(formdata=request.args)
    form.set_catalog(catalog.issuers())
    found, missing, status = None, None, 200
    if form.given():
        args = load_into(form, LookupArgsSchema(), form.payload())
        if not args:
            status = 422
        else:
            try:
                found = present.lookup(public.lookup(args["issuer"], args["number"]))
            except RuleError as exc:
                if exc.status == 422:
                    attach_errors(form, exc.errors)
                    status = 422
                elif exc.status == 404:
                    missing, status = exc.message, 404
                else:
                    raise
    return render_template("credentials/verify.html", form=form, found=found, missing=missing), status
