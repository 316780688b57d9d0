"""Admin pages: the verification queue, the re-check queue, one credential with its evidence, its rivals
side by side and the decision form, and the audit log. Signed-in admins only (anonymous → sign-in
page, anyone else → 403), said on each view; the app-wide admin gate asks for the second factor too.

Its own blueprint `bp` (endpoints admin.*), registered by the app factory. Evidence images are previewed through an
admin-only route that serves them inline; PDFs are only ever offered as downloads.
"""

from typing import Any

import marshmallow as ma
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory.accounts.auth import FRESH_ACTIONS, fresh_page_or_redirect, page_login_required
from directory.credentials import decisions, evidence, history, queues, service
from directory.credentials.forms import DecisionForm
from directory.credentials.schemas import AuditArgsSchema, DecisionSchema, QueueArgsSchema, RecheckArgsSchema
from directory.credentials.standing import STATUSES
from directory.credentials.views import template_helpers
from directory.rules import RuleError
from directory.schemas_base import Integer
from directory.web.converters import MAX_ID
from directory.web.forms import flashed, form_page

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.context_processor(template_helpers)
# Which decisions a page offers for each status (the service still has the last word).
ACTIONS = {
    "pending": ("verify", "reject"),
    "contested": ("verify", "reject"),
    "verified": ("verify", "revoke"),
    "recheck": ("verify", "revoke"),
    "lapsed": ("verify", "revoke"),
}
STALE = (
    "This credential changed since you opened it (someone decided on it, or new evidence came in). "
    "Look at it again before deciding."
)


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
@page_login_required("admin")
def index():
    """Administration."""
    return render_template("admin/index.html", pages=_admin_pages())


def _args(schema: ma.Schema) -> tuple[dict | None, dict]:
    try:
        return schema.load(request.args.to_dict()), {}
    except ma.ValidationError as exc:
        return None, exc.normalized_messages()


def _paging_links(args: dict, total: int) -> dict:
    last = max(1, -(-total // args["per_page"]))
    here: dict[str, Any] = {k: v for k, v in request.args.to_dict().items() if k != "page"}
    link = lambda page: url_for(str(request.endpoint), **here, page=page)  # noqa: E731
    return {
        "page": args["page"],
        "last": last,
        "previous": link(args["page"] - 1) if args["page"] > 1 else None,
        "next": link(args["page"] + 1) if args["page"] < last else None,
    }


@bp.route("/credentials")
@page_login_required("admin")
def queue():
    """Verification queue: credentials waiting for a decision, oldest first."""
    args, errors = _args(QueueArgsSchema())
    if args is None:
        return render_template(
            "admin/queue.html", found=None, args={}, statuses=STATUSES, errors=errors, paging=None
        ), 422
    found = queues.verification_queue(args, args["page"], args["per_page"])
    return render_template(
        "admin/queue.html",
        found=found,
        args=args,
        statuses=STATUSES,
        errors={},
        paging=_paging_links(args, found.total),
    )


@bp.route("/rechecks")
@page_login_required("admin")
def rechecks():
    """Re-check queue: contested claims, credentials sent back or lapsed, re-checks coming due, numbers
    that do not fit their issuer's format."""
    args, errors = _args(RecheckArgsSchema())
    if args is None:
        return render_template("admin/rechecks.html", found=None, args={}, errors=errors, paging=None), 422
    found = queues.recheck_queue(args, args["page"], args["per_page"])
    return render_template(
        "admin/rechecks.html", found=found, args=args, errors={}, paging=_paging_links(args, found.total)
    )


def _render_credential(credential_id: int, form: DecisionForm, status: int = 200):
    credential = service.get(credential_id)
    form.set_claim(credential)
    # The form always carries the version now on screen: after a conflict, the admin decides on what they see.
    form.seen_version.data = str(credential.version)
    return render_template(
        "admin/credential.html",
        c=credential,
        form=form,
        actions=ACTIONS,
        rivals=decisions.rivals_of(credential),
        previewable=evidence.PREVIEWABLE,
        trail=history.trail(credential_id),
    ), status


@bp.route("/credentials/<id:credential_id>")
@page_login_required("admin")
def credential(credential_id: int):
    return _render_credential(credential_id, DecisionForm(formdata=None))


def _decided(decided):
    following = decisions.next_pending(decided)
    flash(f"Decision recorded: credential #{decided.id} is now {decided.status}.", "success")
    if following is None:
        return flashed(url_for(".queue"), "Nothing else is waiting for a decision.", "info")
    return redirect(url_for(".credential", credential_id=following.id))


@bp.route("/credentials/<id:credential_id>/decision", methods=["POST"])
@page_login_required("admin")
def decide(credential_id: int):
    form = DecisionForm()
    claim = service.get(credential_id)

    def fresh_first(data):
        if data["action"] not in FRESH_ACTIONS:
            return None
        return fresh_page_or_redirect(url_for(".credential", credential_id=credential_id))

    def decide_seen(data):
        if form.seen() is not None and form.seen() != claim.version:
            raise RuleError(409, STALE)
        return decisions.decide(current_user, credential_id, data)

    return form_page(
        form,
        DecisionSchema(),
        decide_seen,
        values=form.payload(claim.issuer.kind == "training-program"),
        guard=fresh_first,
        done=_decided,
        again=lambda outcome: _render_credential(credential_id, form, outcome.status),
        page_errors=(404,),
    )


@bp.route("/credentials/<id:credential_id>/evidence/<id:version>")
@page_login_required("admin")
def evidence_file(credential_id: int, version: int):
    return evidence.send(service.evidence_for(current_user, credential_id, version))


@bp.route("/credentials/<id:credential_id>/evidence/<id:version>/preview")
@page_login_required("admin")
def evidence_preview(credential_id: int, version: int):
    """Inline for PNG and JPEG only (evidence.send turns anything else into a download)."""
    return evidence.send(service.evidence_for(current_user, credential_id, version), inline=True)


class AuditPageArgsSchema(AuditArgsSchema):
    # The page's "Older" link: the events before this one (an id, bounded like every id).
    before = Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID))


@bp.route("/audit")
@page_login_required("admin")
def audit():
    """Audit log: every credential status change, newest first."""
    try:
        args = AuditPageArgsSchema().load(request.args.to_dict())
    except ma.ValidationError:
        abort(400)
    events = history.recent(args["credential_id"], args["before"])
    older = events[-1].id if len(events) == history.AUDIT_PAGE else None
    return render_template(
        "admin/audit.html", events=events, credential_id=args["credential_id"], older=older
    )
