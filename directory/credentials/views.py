"""Credential pages: a practitioner's own (submit, resubmit, evidence) and the public lookup.

The admin pages (queue, decisions, evidence preview, audit) live in admin_views.py, their own
blueprint. Views parse, call the service, render.
"""

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from directory.accounts.auth import page_login_required
from directory.catalog import service as catalog
from directory.catalog.models import Technique
from directory.credentials import evidence, present, public, service, standing
from directory.credentials.forms import CredentialForm, LegalNameForm, LookupForm, ResubmitForm
from directory.credentials.schemas import CredentialInSchema, LegalNameSchema, LookupArgsSchema
from directory.practitioners import service as practitioners
from directory.rules import RuleError
from directory.web.forms import attach_errors, flashed, form_page, load_into

bp = Blueprint("credentials", __name__)


@bp.context_processor
def template_helpers() -> dict:
    """For the credential templates; admin_views installs the same on its blueprint."""
    return {
        "effective_status": standing.effective_status,
        "status_label": standing.label,
        "recheck_due": standing.recheck_due,
        "next_check_due": standing.next_check_due,
        "grace_ends": standing.grace_ends,
        "resubmittable": service.RESUBMITTABLE,
    }


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
@page_login_required("practitioner")
def mine():
    """Your credentials, their status and evidence; and the form to submit one."""
    form = _credential_form()
    return form_page(
        form,
        CredentialInSchema(),
        lambda data: service.submit(current_user, data, form.evidence.data),
        done=lambda credential: flashed(
            url_for(".mine") + f"#credential-{credential.id}",
            "Your credential is submitted: it shows as pending until it is checked.",
        ),
        again=lambda outcome: _render_mine(form, status=outcome.status),
        # Every refusal, even "no profile yet", is said on the form the practitioner just filled in.
        page_errors=(),
    )


def _legal_name_saved(result: dict):
    if not result["sent_back"]:
        return flashed(url_for(".mine") + "#legal-name", "Your legal name is saved.")
    count = len(result["sent_back"])
    return flashed(
        url_for(".mine") + "#legal-name",
        f"Your legal name is saved. {count} verified credential{'s' * (count != 1)} "
        f"{'are' if count != 1 else 'is'} sent back to be checked against it: the badge shows again once "
        "an admin or the issuer's roster confirms it.",
        "info",
    )


@bp.route("/account/legal-name", methods=["POST"])
@page_login_required("practitioner")
def legal_name():
    form = LegalNameForm()

    def again(outcome):
        if outcome.status == 404:  # no profile to name yet
            return flashed(
                url_for("practitioners.dashboard"), "Save your practitioner profile first.", "error"
            )
        return _render_mine(_credential_form(), status=outcome.status, name_form=form)

    return form_page(
        form,
        LegalNameSchema(),
        lambda data: service.set_legal_name(current_user, data["legal_name"]),
        done=_legal_name_saved,
        again=again,
        page_errors=(),
    )


@bp.route("/account/credentials/<id:credential_id>/resubmit", methods=["POST"])
@page_login_required("practitioner")
def resubmit(credential_id: int):
    form = ResubmitForm()
    return form_page(
        form,
        None,
        lambda _: service.resubmit(current_user, credential_id, form.evidence.data),
        done=lambda _: flashed(
            url_for(".mine") + f"#credential-{credential_id}",
            "The new evidence is sent: the credential is pending again.",
        ),
        again=lambda outcome: _render_mine(_credential_form(), form, credential_id, outcome.status),
        page_errors=(404,),
    )


@bp.route("/account/credentials/<id:credential_id>/evidence/<id:version>")
@page_login_required("practitioner")
def my_evidence(credential_id: int, version: int):
    """Your own evidence file, always as a download."""
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
                    attach_errors(form, exc.field_errors)
                    status = 422
                elif exc.status == 404:
                    missing, status = exc.message, 404
                else:
                    raise
    return render_template("credentials/verify.html", form=form, found=found, missing=missing), status
