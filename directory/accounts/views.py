from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from directory.accounts import service, sessions
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
            user = service.register(data["email"], data["password"], data["role"])
        except RuleError as exc:
            attach_errors(form, exc.errors or {"email": [exc.message]})
        else:
            sessions.sign_in(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(home_for(user))
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
        target = safe_next(request.args.get("next"))
        if user.role == "admin":
            # The password alone opens no admin page: the authenticator code comes next.
            return redirect(url_for("accounts.second_factor", next=target or url_for("admin.index")))
        return redirect(target or home_for(user))
    status = 422 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, error=None), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # A POST, so CSRFProtect guards it: another site cannot sign anyone out.
    sessions.sign_out(current_user)
    flash("You are signed out.", "info")
    return redirect(url_for("web.home"))
