from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from directory.accounts import devices, service, sessions, throttle
from directory.accounts.forms import LoginForm, RegisterForm
from directory.accounts.limits import register_limit, sign_in_limit
from directory.accounts.schemas import RegisterSchema, TokenRequestSchema
from directory.rules import RuleError
from directory.web.forms import attach_errors, load_into
from directory.web.safety import safe_next

bp = Blueprint("accounts", __name__)


def home_for(user) -> str:
    return url_for("practitioners.dashboard") if user.role == "practitioner" else url_for("web.home")


@bp.route("/register", methods=["GET", "POST"])
@register_limit
def register():
    form = RegisterForm()
    data = form.validate_on_submit() and load_into(form, RegisterSchema(), form.payload())
    if data:
        try:
            # The same answer whether or not the email was taken: nothing here tells who has an account.
            service.register(data["email"], data["password"], data["role"])
        except RuleError as exc:
            attach_errors(form, exc.errors or {"email": [exc.message]})
        else:
            flash(service.REGISTERED + " You can sign in now.", "success")
            return redirect(url_for(".login"))
    return render_template("accounts/register.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limit
def login():
    form = LoginForm()
    data = form.validate_on_submit() and load_into(form, TokenRequestSchema(), form.payload())
    if data:
        try:
            user = service.authenticate(data["email"], data["password"])
        except RuleError as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
            return render_template("accounts/login.html", form=form, error=exc.message), exc.status, headers
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
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, error=None), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # A POST, so CSRFProtect guards it: another site cannot sign anyone out.
    sessions.sign_out(current_user)
    flash("You are signed out.", "info")
    return redirect(url_for("web.home"))
