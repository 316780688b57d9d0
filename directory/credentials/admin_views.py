"""Admin pages: the verification queue, one credential with its evidence and decision form, and
the audit log. Signed-in admins only (anonymous → sign-in page, anyone else → 403).

Its own blueprint `bp` (endpoints admin.*), registered by the app factory. Evidence images are previewed through an
admin-only route that serves them inline; PDFs are only ever offered as downloads.
"""

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory.accounts.auth import FRESH_ACTIONS, fresh_page_or_redirect
from directory.credentials import evidence, service
from directory.credentials.forms import DecisionForm
from directory.credentials.models import STATUSES, CredentialEvent
from directory.credentials.schemas import AuditArgsSchema, DecisionSchema, QueueArgsSchema
from directory.credentials.views import template_helpers
from directory.extensions import db, login
from directory.rules import RuleError
from directory.web.forms import attach_errors, load_into

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(template_helpers)
AUDIT_PAGE = 100
# Which decisions a page offers for each status (the service still has the last word).
ACTIONS = {"pending": ("verify", "reject"), "verified": ("revoke",)}
STALE = (
    "This credential changed since you opened it (someone decided on it, or new evidence came in). "
    "Look at it again before deciding."
)


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login.unauthorized()
    if current_user.role != "admin":
        abort(403)
    return None


def _admin_pages() -> list[tuple[str, str, str]]:
    """Every parameterless admin page, wherever it is defined, in the order the app registered
    them: (path, title, description) from the first line of its view's docstring, "Title: description"."""
    pages = []
    for rule in current_app.url_map.iter_rules():
        if rule.rule.startswith("/admin/") and not rule.arguments and "GET" in (rule.methods or ()):
            doc = (current_app.view_functions[rule.endpoint].__doc__ or rule.rule).strip().splitlines()[0]
            title, _, description = doc.partition(": ")
            pages.append((rule.rule, title.rstrip("."), description))
    return pages


@bp.route("")
def index():
    """Administration."""
    return render_template("admin/index.html", pages=_admin_pages())


@bp.route("/credentials")
def queue():
    """Verification queue: credentials waiting for a decision, oldest first."""
    try:
        status = QueueArgsSchema().load(request.args.to_dict())["status"]
    except ma.ValidationError as exc:
        return render_template(
            "admin/queue.html", credentials=[], status=None, statuses=STATUSES, errors=exc.messages
        ), 422
    return render_template(
        "admin/queue.html", credentials=service.queue(status), status=status, statuses=STATUSES, errors={}
    )


def _render_credential(credential_id: int, form: DecisionForm, status: int = 200):
    credential = service.get(credential_id)
    # The form always carries the version now on screen: after a conflict, the admin decides on what they see.
    form.seen_version.data = str(credential.version)
    return render_template(
        "admin/credential.html",
        c=credential,
        form=form,
        actions=ACTIONS,
        previewable=evidence.PREVIEWABLE,
        trail=service.audit_trail(credential_id),
    ), status


@bp.route("/credentials/<id:credential_id>")
def credential(credential_id: int):
    return _render_credential(credential_id, DecisionForm(formdata=None))


@bp.route("/credentials/<id:credential_id>/decision", methods=["POST"])
def decide(credential_id: int):
    form = DecisionForm()
    form.validate_on_submit()
    data = load_into(form, DecisionSchema(), form.payload())
    if not data:
        return _render_credential(credential_id, form, 422)
    if data["action"] in FRESH_ACTIONS:
        stale = fresh_page_or_redirect(url_for(".credential", credential_id=credential_id))
        if stale:
            return stale
    try:
        if form.seen() is not None and form.seen() != service.get(credential_id).version:
            raise RuleError(409, STALE)
        decided = service.decide(current_user, credential_id, data["action"], data["reason"])
    except RuleError as exc:
        if exc.status == 404:
            raise
        attach_errors(form, exc.errors or {"_schema": [exc.message]})
        return _render_credential(credential_id, form, exc.status)
    flash(f"Decision recorded: the credential is now {decided.status}.", "success")
    return redirect(url_for(".credential", credential_id=credential_id))


@bp.route("/credentials/<id:credential_id>/evidence/<id:version>")
def evidence_file(credential_id: int, version: int):
    return evidence.send(service.evidence_for(current_user, credential_id, version))


@bp.route("/credentials/<id:credential_id>/evidence/<id:version>/preview")
def evidence_preview(credential_id: int, version: int):
    """Inline for PNG and JPEG only (evidence.send turns anything else into a download)."""
    return evidence.send(service.evidence_for(current_user, credential_id, version), inline=True)


def _recent_events(credential_id: int | None, before: int | None) -> list[CredentialEvent]:
    # Newest first, a page at a time (service.audit_trail is oldest first, for one chain).
    statement = sa.select(CredentialEvent).order_by(CredentialEvent.id.desc()).limit(AUDIT_PAGE)
    if credential_id is not None:
        statement = statement.where(CredentialEvent.credential_id == credential_id)
    if before is not None:
        statement = statement.where(CredentialEvent.id < before)
    return list(db.session.scalars(statement))


@bp.route("/audit")
def audit():
    """Audit log: every credential status change, newest first."""
    raw = request.args.to_dict()
    before = raw.pop("before", None)
    try:
        args = AuditArgsSchema().load(raw)
        before = int(before) if before else None
    except (ma.ValidationError, ValueError):
        abort(400)
    events = _recent_events(args["credential_id"], before)
    older = events[-1].id if len(events) == AUDIT_PAGE else None
    return render_template(
        "admin/audit.html", events=events, credential_id=args["credential_id"], older=older
    )
