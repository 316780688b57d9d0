from flask.views import MethodView
from flask_smorest import abort

from directory.accounts import confirmation, recovery, recovery_codes, service, totp
from directory.accounts.auth import api_grant, api_login_required, api_user, current_api_grant
from directory.accounts.limits import (
    code_limit,
    confirm_email_limit,
    password_reset_limit,
    register_limit,
    sign_in_limit,
)
from directory.accounts.schemas import (
    EmailTokenSchema,
    MeSchema,
    MessageSchema,
    PasswordChangeSchema,
    RecoveryCodesSchema,
    RegisterSchema,
    ResetConfirmSchema,
    ResetRequestSchema,
    TokenRequestSchema,
    TokenSchema,
    TotpConfirmSchema,
    TotpEnrolmentSchema,
)
from directory.apibase import SECURED, Blueprint

blp = Blueprint("accounts_api", __name__, url_prefix="/api/v1", description="Accounts and API tokens")
NO_TOKEN = "No valid token"  # noqa: S105  # nosec B105: a description, not a secret
RESET_SENT = "If an account has this email, a link to reset its password is on its way."


@blp.route("/auth/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(202, MessageSchema)
    @blp.alt_response(429, description="Too many registrations from this address")
    @register_limit
    def post(self, data):
        """Create a client or practitioner account; a link to confirm the email is mailed to it. The answer is
        the same when the email is taken (its owner is mailed instead), so it never tells who has an account.
        Until the email is confirmed the account can sign in but cannot review, redeem an invite or be listed."""
        service.register(data["email"], data["password"], data["role"])
        return {"message": service.REGISTERED}


@blp.route("/auth/tokens")
class Tokens(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong email, password or authenticator code")
    @blp.alt_response(
        429,
        description="Too many failed tries for this account or from this address (wait Retry-After seconds), "
        "or too many wrong authenticator codes for this account",
    )
    @sign_in_limit
    @code_limit
    def post(self, data):
        """Exchange email and password for a bearer token. Admins with an authenticator also send `totp` (or a
        recovery code); only a token issued with it reaches the admin API."""
        token, row = service.issue_api_token(data["email"], data["password"], data.get("totp"))
        return {"token": token, "expires_at": row.expires_at}


@blp.route("/auth/tokens/current")
class CurrentToken(MethodView):
    @blp.response(204)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.doc(**SECURED)
    @api_login_required()
    def delete(self):
        """Sign out: this token stops working at once."""
        service.end_api_token(api_grant())


@blp.route("/auth/sign-out-everywhere")
class SignOutEverywhere(MethodView):
    @blp.response(204)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.doc(**SECURED)
    @api_login_required()
    def post(self):
        """End every signed-in browser and every API token of this account, this one included."""
        service.sign_out_everywhere(api_user())


@blp.route("/auth/password")
class Password(MethodView):
    @blp.arguments(PasswordChangeSchema)
    @blp.response(204)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.alt_response(429, description="Too many failed tries for this account or from this address")
    @blp.doc(**SECURED)
    @sign_in_limit
    @api_login_required()
    def post(self, data):
        """Change the password. Every session and token of the account ends, this token included."""
        service.change_password(api_user(), data["current_password"], data["new_password"])


@blp.route("/auth/password-reset")
class PasswordReset(MethodView):
    @blp.arguments(ResetRequestSchema)
    @blp.response(202, MessageSchema)
    @blp.alt_response(429, description="Too many requests from this address")
    @password_reset_limit
    def post(self, data):
        """Mail a one-use link to reset the password. The answer is the same whether or not the account exists."""
        recovery.request_reset(data["email"])
        return {"message": RESET_SENT}


@blp.route("/auth/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    @blp.arguments(ResetConfirmSchema)
    @blp.response(204)
    @blp.alt_response(429, description="Too many requests from this address")
    @password_reset_limit
    def post(self, data):
        """Set a new password with the token from the mailed link; every session and token of the account ends."""
        recovery.complete_with_token(data["token"], data["password"])


@blp.route("/auth/confirm-email")
class ConfirmEmail(MethodView):
    @blp.arguments(EmailTokenSchema)
    @blp.response(204)
    @blp.alt_response(429, description="Too many requests from this address")
    @confirm_email_limit
    def post(self, data):
        """Confirm an account's email with the token from the mailed link."""
        confirmation.confirm(data["token"])


@blp.route("/auth/confirm-email/resend")
class ResendConfirmation(MethodView):
    @blp.response(202, MessageSchema)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.alt_response(409, description="The email is confirmed already")
    @blp.alt_response(429, description="Too many confirmation mails this hour")
    @blp.doc(**SECURED)
    @api_login_required()
    def post(self):
        """Mail a new confirmation link to this account's address."""
        confirmation.resend(api_user())
        return {"message": "A new confirmation link is on its way."}


@blp.route("/auth/recovery-codes")
class RecoveryCodes(MethodView):
    @blp.response(201, RecoveryCodesSchema)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.alt_response(403, description="Only admins with a token issued with their authenticator code")
    @blp.alt_response(429, description="Too many tries from this address")
    @blp.doc(**SECURED)
    @code_limit
    @api_login_required("admin")
    def post(self):
        """A new set of ten single-use recovery codes (the old set stops working), shown this once. Each
        lets the admin in instead of an authenticator code."""
        grant = api_grant()
        if grant.mfa_at is None:
            abort(
                403, message="New recovery codes need a token issued with your authenticator code (`totp`)."
            )
        return {"codes": recovery_codes.make(grant.user)}


@blp.route("/auth/totp")
class TotpEnrolment(MethodView):
    @blp.response(201, TotpEnrolmentSchema)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.alt_response(403, description="Only admins set up an authenticator")
    @blp.alt_response(409, description="An authenticator is already set up")
    @blp.doc(**SECURED)
    @api_login_required("admin")
    def post(self):
        """Start setting up an authenticator (admins): a new secret, confirmed by a first code."""
        user = api_user()
        secret = totp.start_enrolment(user)
        return {"secret": secret, "otpauth_uri": totp.provisioning_uri(user)}


@blp.route("/auth/totp/confirm")
class TotpConfirm(MethodView):
    @blp.arguments(TotpConfirmSchema)
    @blp.response(204)
    @blp.alt_response(401, description="No valid token, or a wrong code")
    @blp.alt_response(403, description="Only admins set up an authenticator")
    @blp.alt_response(409, description="No setup was started")
    @blp.alt_response(429, description="Too many wrong codes for this account, or tries from this address")
    @blp.doc(**SECURED)
    @code_limit
    @api_login_required("admin")
    def post(self, data):
        """Finish the setup with the authenticator's current code; this token then reaches the admin API."""
        totp.finish_enrolment(api_user(), data["totp"], current_api_grant())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description=NO_TOKEN)
    @blp.doc(**SECURED)
    @api_login_required()
    def get(self):
        """Who the token belongs to."""
        user = api_user()
        practitioner = user.practitioner
        return {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "email_confirmed": user.email_confirmed_at is not None,
            "practitioner_id": practitioner.id if practitioner else None,
        }
