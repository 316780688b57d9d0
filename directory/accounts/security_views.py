"""Account security pages: password change, sign out everywhere, forgotten password, email
confirmation, and the admin second factor (set up, pass at sign-in, confirm before verifying or
revoking, recovery codes). Routes on accounts.bp."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from directory.accounts import auth, confirmation, recovery, recovery_codes, service, sessions, totp
from directory.accounts.forms import (
    ConfirmForm,
    EmptyForm,
    PasswordChangeForm,
    ResetNewForm,
    ResetRequestForm,
    TotpForm,
)
from directory.accounts.limits import code_limit, confirm_email_limit, password_reset_limit, sign_in_limit
from directory.accounts.schemas import (
    ConfirmSchema,
    NewPasswordSchema,
    PasswordChangeSchema,
    ResetRequestSchema,
    TotpConfirmSchema,
)
from directory.accounts.views import bp
from directory.rules import RuleError
from directory.web.forms import submit
from directory.web.safety import safe_next

# Holds a random handle bound to the reset row, never the mailed token (accounts/recovery.py).
RESET_SESSION_KEY = "password_reset_handle"


def _render_security(password_form=None, status=200, headers=None):
    return (
        render_template(
            "accounts/security.html",
            password_form=password_form or PasswordChangeForm(formdata=None),
            everywhere_form=EmptyForm(),
            codes_left=recovery_codes.remaining(current_user) if current_user.role == "admin" else None,
        ),
        status,
        headers or {},
    )


@bp.route("/account/security")
@login_required
def security():
    return _render_security()


@bp.route("/account/password", methods=["POST"])
@login_required
@sign_in_limit
def change_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    outcome = submit(
        form,
        PasswordChangeSchema(),
        # Every session ends with the change; this browser carries on in a new one.
        lambda data: sessions.change_password(user, data["current_password"], data["new_password"]),
    )
    if not outcome.done:
        return _render_security(form, outcome.status, outcome.headers)
    flash(
        "Your password is changed. Every other browser and API token of your account is signed out.",
        "success",
    )
    return redirect(url_for(".security"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere():
    if not EmptyForm().validate_on_submit():
        abort(400)
    sessions.sign_out_everywhere(current_user._get_current_object())
    flash("Every browser and API token of your account is signed out.", "info")
    return redirect(url_for(".login"))


@bp.route("/password-reset", methods=["GET", "POST"])
@password_reset_limit
def reset_request():
    form = ResetRequestForm()
    if request.method == "POST":
        outcome = submit(form, ResetRequestSchema(), lambda data: recovery.request_reset(data["email"]))
        if outcome.done:
            flash("If an account has this email, a link to reset its password is on its way.", "info")
            return redirect(url_for(".login"))
        return render_template("accounts/reset_request.html", form=form), outcome.status
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/password-reset/<token>")
def reset_link(token: str):
    """The mailed link. The token moves into the session and the address bar loses it at once, so it
    does not linger in history or leak through a Referer from the next page."""
    session[RESET_SESSION_KEY] = recovery.open_link(token)
    return redirect(url_for(".reset_new"))


@bp.route("/password-reset/new", methods=["GET", "POST"])
@password_reset_limit
def reset_new():
    row = recovery.check_handle(session.get(RESET_SESSION_KEY))
    form = ResetNewForm()
    if request.method == "POST":
        outcome = submit(
            form, NewPasswordSchema(), lambda data: recovery.complete_reset(row, data["password"])
        )
        if outcome.done:
            session.pop(RESET_SESSION_KEY, None)
            flash("Your password is set. Sign in with it.", "success")
            return redirect(url_for(".login"))
        return render_template("accounts/reset_new.html", form=form), outcome.status
    return render_template("accounts/reset_new.html", form=form)


def _admin_only():
    if current_user.role != "admin":
        abort(403)


@bp.route("/confirm-email/<token>")
@confirm_email_limit
def confirm_email(token: str):
    """The link mailed at registration."""
    confirmation.confirm(token)
    flash("Thank you: your email address is confirmed.", "success")
    return redirect(url_for("web.home"))


@bp.route("/account/confirm-email", methods=["POST"])
@login_required
@confirm_email_limit
def resend_confirmation():
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    if user.email_confirmed_at is not None:  # an old tab's button: nothing to do, and no error to show
        flash("Your email address is confirmed already.", "info")
        return redirect(url_for(".security"))
    try:
        confirmation.resend(user)
    except RuleError as exc:  # too many this hour: said on the page the button is on
        flash(exc.message, "error")
    else:
        flash("A new confirmation link is on its way to your address.", "info")
    return redirect(url_for(".security"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@code_limit
def second_factor():
    """Admins: set up the authenticator the first time, then pass it once per sign-in."""
    _admin_only()
    user = current_user._get_current_object()
    enrolling = not user.totp_secret
    form = TotpForm()
    status, headers = 200, None
    if request.method == "POST":
        grant = sessions.current_grant()

        def step(data):
            if enrolling:
                # The first recovery codes come with the set-up, shown this once: the way in without the phone.
                return totp.finish_enrolment(user, data["totp"], grant, recovery=True)
            return totp.pass_code(user, data["totp"], grant)

        outcome = submit(form, TotpConfirmSchema(), step)
        if outcome.done:
            target = safe_next(request.args.get("next")) or url_for("admin.index")
            if enrolling:
                return render_template("accounts/recovery_codes.html", codes=outcome.result, next_url=target)
            return redirect(target)
        status, headers = outcome.status, outcome.headers
    elif enrolling and not user.totp_pending:
        totp.start_enrolment(user)
    return (
        render_template(
            "accounts/two_factor.html",
            form=form,
            enrolling=enrolling,
            secret=user.totp_pending if enrolling else None,
            qr=totp.qr_svg_data_uri(user) if enrolling else None,
        ),
        status,
        headers or {},
    )


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@login_required
def new_recovery_codes():
    """Admins: a new set of recovery codes (the old set stops working), after a fresh sign-in."""
    _admin_only()
    back = auth.fresh_page_or_redirect(url_for(".new_recovery_codes"))
    if back is not None:
        return back
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        codes = recovery_codes.make(current_user._get_current_object())
        return render_template("accounts/recovery_codes.html", codes=codes, next_url=url_for(".security"))
    return render_template(
        "accounts/recovery_codes_new.html", form=EmptyForm(), left=recovery_codes.remaining(current_user)
    )


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@sign_in_limit
@code_limit
def confirm():
    """Admins: prove password and authenticator again before a decision that needs a fresh sign-in."""
    _admin_only()
    user = current_user._get_current_object()
    form = ConfirmForm()
    status, headers = 200, None
    if request.method == "POST":
        grant = sessions.current_grant()
        outcome = submit(
            form, ConfirmSchema(), lambda data: service.reconfirm(user, data["password"], data["totp"], grant)
        )
        if outcome.done:
            return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))
        status, headers = outcome.status, outcome.headers
    return render_template("accounts/confirm.html", form=form), status, headers or {}
