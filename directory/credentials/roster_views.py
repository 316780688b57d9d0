"""Roster import pages for admins: pick an issuer, upload its CSV, read the summary."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField

from directory.accounts.auth import fresh_page_or_redirect, page_login_required
from directory.catalog import service as catalog
from directory.credentials import roster, service
from directory.credentials.roster_api import REQUEST_LIMIT
from directory.rules import RuleError
from directory.web.forms import form_page

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
    if "admin.credential" in current_app.view_functions:
        return url_for("admin.credential", credential_id=credential_id)
    return None


@bp.route("/admin/rosters")
@page_login_required("admin")
def index():
    """Issuer rosters: verify pending credentials from an issuer's own list."""
    issuers = catalog.issuers()
    chosen = request.args.get("issuer", "").strip()
    if chosen and any(i.slug == chosen for i in issuers):
        return redirect(url_for("rosters.issuer_roster", slug=chosen))
    return render_template("admin/roster.html", issuers=issuers, issuer=None), 404 if chosen else 200


@bp.route("/admin/issuers/<slug>/roster", methods=["GET", "POST"])
@page_login_required("admin")
def issuer_roster(slug: str):
    try:
        issuer = service.issuer(slug, status=404)
    except RuleError:
        abort(404)
    form = RosterForm()

    def page(status: int, summary=None, failure=None):
        return render_template(
            "admin/roster.html",
            issuer=issuer,
            form=form,
            summary=summary,
            failure=failure,
            line_errors=failure.errors if failure and isinstance(failure.errors, list) else [],
            credential_url=credential_url,
        ), status

    def fresh_first(_):
        # Only a real import changes what the public trusts; a dry run may go ahead on an older sign-in.
        if form.dry_run.data:
            return None
        return fresh_page_or_redirect(url_for("rosters.issuer_roster", slug=issuer.slug))

    return form_page(
        form,
        None,
        lambda _: roster.import_roster(
            current_user._get_current_object(),
            issuer.slug,
            form.file.data,
            dry_run=form.dry_run.data,
            max_changes=current_app.config["ROSTER_REQUEST_MAX_CHANGES"],
        ),
        guard=fresh_first,
        done=lambda summary: page(200, summary=summary),
        # The refusal has its own section (a table of bad lines), not the form's error list.
        again=lambda outcome: page(outcome.status, failure=outcome.refusal),
        page_errors=(),
        on_form=False,
    )
