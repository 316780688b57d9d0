"""Account security pages: password change, sign out everywhere, forgotten password, email
confirmation, and the admin second factor (set up, pass at sign-in, confirm before verifying or
revoking, recovery codes). Routes on accounts.bp."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from directory.accounts import auth, confirmation, recovery, recovery_codes, service, sessions, totp
from directory.accounts.auth import page_login_required
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
from directory.web.forms import flashed, form_page
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
@page_login_required()
def security():
    return _render_security()


def _password_changed():
    return flashed(
        url_for(".security"),
        "Your password is changed. Every other browser and API token of your account is signed out.",
    )


@bp.route("/account/password", methods=["POST"])
@page_login_required()
@sign_in_limit
def change_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    return form_page(
        form,
        PasswordChangeSchema(),
        # Every session ends with the change; this browser carries on in a new one (one transaction).
        lambda data: sessions.change_password(user, data["current_password"], data["new_password"]),
        done=lambda _: _password_changed(),
        again=lambda outcome: _render_security(form, outcome.status, outcome.headers),
    )


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@page_login_required()
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
    return form_page(
        form,
        ResetRequestSchema(),
        lambda data: recovery.request_reset(data["email"]),
        done=lambda _: flashed(
            url_for(".login"),
            "If an account has this email, a link to reset its password is on its way.",
            "info",
        ),
        again=lambda outcome: (render_template("accounts/reset_request.html", form=form), outcome.status),
    )


@bp.route("/password-reset/<token>")
def reset_link(token: str):
    """The mailed link. The token moves into the session and the address bar loses it at once, so it
    does not linger in history or leak through a Referer from the next page."""
    session[RESET_SESSION_KEY] = recovery.open_link(token)
    return redirect(url_for(".reset_new"))


def _password_set(_):
    session.pop(RESET_SESSION_KEY, None)
    return flashed(url_for(".login"), "Your password is set. Sign in with it.")


@bp.route("/password-reset/new", methods=["GET", "POST"])
@password_reset_limit
def reset_new():
    row = recovery.check_handle(session.get(RESET_SESSION_KEY))
    form = ResetNewForm()
    return form_page(
        form,
        NewPasswordSchema(),
        lambda data: recovery.complete_reset(row, data["password"]),
        done=_password_set,
        again=lambda outcome: (render_template("accounts/reset_new.html", form=form), outcome.status),
    )


@bp.route("/confirm-email/<token>")
@confirm_email_limit
def confirm_email(token: str):
    """The link mailed at registration."""
    confirmation.confirm(token)
    flash("Thank you: your email address is confirmed.", "success")
    return redirect(url_for("web.home"))


@bp.route("/account/confirm-email", methods=["POST"])
@page_login_required()
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


def _second_factor_passed(codes: list[str] | None):
    target = safe_next(request.args.get("next")) or url_for("admin.index")
    if codes:
        # The first recovery codes, shown this once: the admin's way in without the phone.
        return render_template("accounts/recovery_codes.html", codes=codes, next_url=target)
    return redirect(target)


def _pass_second_factor(user, enrolling: bool, code: str) -> list[str] | None:
    """Enrolment proves the new secret and makes the first recovery codes; later sign-ins pass a code.
    Either marks this browser's session, in the service's one transaction."""
    grant = sessions.signed_in_grant()
    if enrolling:
        return totp.finish_enrolment(user, code, grant, recovery=True)
    totp.pass_code(user, code, grant)
    return None


@bp.route("/account/two-factor", methods=["GET", "POST"])
@page_login_required("admin")
@code_limit
def second_factor():
    """Admins: set up the authenticator the first time, then pass it once per sign-in."""
    user = current_user._get_current_object()
    enrolling = not user.totp_secret
    form = TotpForm()
    if enrolling and not user.totp_pending and not form.is_submitted():
        totp.start_enrolment(user)
    return form_page(
        form,
        TotpConfirmSchema(),
        lambda data: _pass_second_factor(user, enrolling, data["totp"]),
        done=_second_factor_passed,
        again=lambda outcome: (
            render_template(
                "accounts/two_factor.html",
                form=form,
                enrolling=enrolling,
                secret=user.totp_pending if enrolling else None,
                qr=totp.qr_svg_data_uri(user) if enrolling else None,
            ),
            outcome.status,
            outcome.headers or {},
        ),
    )


@bp.route("/account/recovery-codes", methods=["GET", "POST"])
@page_login_required("admin")
def new_recovery_codes():
    """Admins: a new set of recovery codes (the old set stops working), after a fresh sign-in."""
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


def _confirmed(_):
    return redirect(safe_next(request.args.get("next")) or url_for("admin.index"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@page_login_required("admin")
@sign_in_limit
@code_limit
def confirm():
    """Admins: prove password and authenticator again before a decision that needs a fresh sign-in."""
    user = current_user._get_current_object()
    form = ConfirmForm()
    return form_page(
        form,
        ConfirmSchema(),
        lambda data: service.reconfirm(user, data["password"], data["totp"], sessions.signed_in_grant()),
        done=_confirmed,
        again=lambda outcome: (
            render_template("accounts/confirm.html", form=form),
            outcome.status,
            outcome.headers or {},
        ),
    )
