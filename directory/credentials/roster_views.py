"""Roster import pages for admins: pick an issuer, upload its CSV, read the summary."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from directory.accounts.auth import fresh_page_or_redirect
from directory.catalog.models import Issuer
from directory.credentials import roster
from directory.credentials.roster_api import REQUEST_LIMIT
from directory.extensions import db
from directory.rules import RuleError

bp = Blueprint("rosters", __name__)


class RosterForm(FlaskForm):
    file = FileField(
        "Roster (CSV, UTF-8: number,name,status,expires_on, optionally ,issued_on)",
        validators=[FileRequired("Choose the roster file.")],
    )
    dry_run = BooleanField("Only check: report what would change, change nothing")


@bp.url_value_preprocessor
def _allow_large_rosters(endpoint, values):
    # Before CSRF protection reads the form (an app-wide before_request), or the app-wide limit
    # sized for evidence files would refuse a large roster.
    if endpoint == "rosters.issuer_roster":
        request.max_content_length = REQUEST_LIMIT


def credential_url(credential_id: int) -> str | None:
    """The admin page of one credential, where a lapsed one can be revoked (if that page is there)."""
    for endpoint in ("admin.credential", "admin.credential"):
        if endpoint in current_app.view_functions:
            return url_for(endpoint, credential_id=credential_id)
    return None


def _admin_only() -> None:
    if current_user.role != "admin":
        abort(403)


@bp.route("/admin/rosters")
@login_required
def index():
    """Issuer rosters: verify pending credentials from an issuer's own list."""
    _admin_only()
    issuers = list(db.session.scalars(sa.select(Issuer).order_by(Issuer.name)))
    chosen = request.args.get("issuer", "").strip()
    if chosen and any(i.slug == chosen for i in issuers):
        return redirect(url_for("rosters.issuer_roster", slug=chosen))
    return render_template("admin/roster.html", issuers=issuers, issuer=None), 404 if chosen else 200


@bp.route("/admin/issuers/<slug>/roster", methods=["GET", "POST"])
@login_required
def issuer_roster(slug: str):
    _admin_only()
    try:
        issuer = roster.issuer_by_slug(slug)
    except RuleError:
        abort(404)
    form = RosterForm()
    summary, failure, status = None, None, 200
    if form.validate_on_submit():
        if not form.dry_run.data:
            stale = fresh_page_or_redirect(url_for("rosters.issuer_roster", slug=issuer.slug))
            if stale:
                return stale
        try:
            summary = roster.import_roster(
                current_user._get_current_object(),
                issuer.slug,
                form.file.data,
                dry_run=form.dry_run.data,
                max_changes=current_app.config["ROSTER_REQUEST_MAX_CHANGES"],
            )
        except RuleError as exc:
            failure, status = exc, exc.status
    elif request.method == "POST":
        status = 422
    return render_template(
        "admin/roster.html",
        issuer=issuer,
        form=form,
        summary=summary,
        failure=failure,
        line_errors=failure.errors if failure and isinstance(failure.errors, list) else [],
        credential_url=credential_url,
    ), status
