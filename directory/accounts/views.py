from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory.accounts import devices, service, sessions, throttle
from directory.accounts.auth import page_login_required
from directory.accounts.forms import LoginForm, RegisterForm
from directory.accounts.limits import register_limit, sign_in_limit
from directory.accounts.schemas import RegisterSchema, TokenRequestSchema
from directory.web.forms import flashed, form_page
from directory.web.safety import safe_next

bp = Blueprint("accounts", __name__)


def home_for(user) -> str:
    return url_for("practitioners.dashboard") if user.role == "practitioner" else url_for("web.home")


@bp.route("/register", methods=["GET", "POST"])
@register_limit
def register():
    form = RegisterForm()
    return form_page(
        form,
        RegisterSchema(),
        # The same answer whether or not the email was taken: nothing here tells who has an account.
        lambda data: service.register(data["email"], data["password"], data["role"]),
        done=lambda _: flashed(url_for(".login"), service.REGISTERED + " You can sign in now."),
        again=lambda outcome: (render_template("accounts/register.html", form=form), outcome.status),
    )


def _signed_in(user):
    sessions.sign_in(user)
    if user.email_confirmed_at is None:
        flash(
            "Confirm your email address with the link we mailed you: until then you cannot review, "
            "and a practitioner's profile is not listed in search.",
            "info",
        )
    target = safe_next(request.args.get("next"))
    if user.role == "admin":
        # The password alone opens no admin page: the authenticator code comes next.
        response = redirect(url_for("accounts.second_factor", next=target or url_for("admin.index")))
    else:
        response = redirect(target or home_for(user))
    # This browser is now known to the account: failures elsewhere will not hold it back.
    devices.remember(response, throttle.account_key(user.email))
    return response


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():
    form = LoginForm()
    return form_page(
        form,
        TokenRequestSchema(),
        lambda data: service.authenticate(data["email"], data["password"]),
        done=_signed_in,
        again=lambda outcome: (
            render_template("accounts/login.html", form=form),
            outcome.status,
            outcome.headers or {},
        ),
        # A wrong password (401) or too many (429) is said on the sign-in form itself.
        page_errors=(),
    )


@bp.route("/logout", methods=["POST"])
@page_login_required()
def logout():
    # A POST, so CSRFProtect guards it: another site cannot sign anyone out.
    sessions.sign_out(current_user)
    flash("You are signed out.", "info")
    return redirect(url_for("web.home"))
