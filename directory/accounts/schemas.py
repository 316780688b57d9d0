import re

import marshmallow as ma

from directory.accounts.passwords import MIN_LENGTH, weakness
from directory.accounts.service import SELF_SERVICE_ROLES
from directory.schemas_base import StrictSchema, TrimmedString

CODE_ERROR = "Six digits from your authenticator, or one of your recovery codes."
# ASCII digits only ([0-9], not \d, which takes full-width and other scripts' digits too).
CODE_PATTERN = r"^\s*(?:[0-9]{3}\s?[0-9]{3}|[0-9A-Za-z]{4}-?[0-9A-Za-z]{4}-?[0-9A-Za-z]{4})\s*$"


def _strong_enough(password: str) -> None:
    problem = weakness(password)
    if problem:
        raise ma.ValidationError(problem)


def new_password(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        load_only=True,
        # The lengths are here too so that the OpenAPI document states them; passwords.weakness is the rule.
        validate=[
            ma.validate.Length(min=MIN_LENGTH, error=f"Use at least {MIN_LENGTH} characters."),
            ma.validate.Length(max=1000, error="Use at most 1000 characters."),
            _strong_enough,
        ],
        metadata={
            "description": f"At least {MIN_LENGTH} characters, not one repeated character, not a common password."
        },
        **kwargs,
    )


def totp_code(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        load_only=True,
        validate=[
            ma.validate.Length(max=20, error=CODE_ERROR),
            # ASCII spaces too: Python's \s would take any script's.
            ma.validate.Regexp(CODE_PATTERN, flags=re.ASCII, error=CODE_ERROR),
        ],
        metadata={
            "description": "The current six-digit code of the admin's authenticator app, or one of the "
            "admin's single-use recovery codes (XXXX-XXXX-XXXX)."
        },
        **kwargs,
    )


class RegisterSchema(StrictSchema):
    email = TrimmedString(
        required=True,
        validate=[ma.validate.Email(), ma.validate.Length(max=254)],
        metadata={"format": "email"},
    )
    password = new_password()
    role = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(SELF_SERVICE_ROLES, error="Choose client or practitioner."),
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String(dump_only=True)
    role = ma.fields.String(dump_only=True)


class TokenRequestSchema(StrictSchema):
    email = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=254))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1000))
    totp = totp_code(required=False)


class PasswordChangeSchema(StrictSchema):
    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=1, max=1000)
    )
    new_password = new_password()


class ResetRequestSchema(StrictSchema):
    email = TrimmedString(
        required=True,
        validate=[ma.validate.Email(), ma.validate.Length(max=254)],
        metadata={"format": "email"},
    )


class NewPasswordSchema(StrictSchema):
    password = new_password()


class ResetConfirmSchema(NewPasswordSchema):
    token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))


class EmailTokenSchema(StrictSchema):
    token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))


class InviteRequestSchema(StrictSchema):
    email = TrimmedString(
        required=True,
        validate=[ma.validate.Email(), ma.validate.Length(max=254)],
        metadata={"format": "email", "description": "The client's address: the invite is mailed there."},
    )


class RecoveryCodesSchema(ma.Schema):
    codes = ma.fields.List(
        ma.fields.String(), dump_only=True, metadata={"description": "Shown once: keep them somewhere safe."}
    )


class TotpConfirmSchema(StrictSchema):
    totp = totp_code(required=True)


class TotpEnrolmentSchema(ma.Schema):
    secret = ma.fields.String(
        dump_only=True, metadata={"description": "Base32, for typing into an authenticator"}
    )
    otpauth_uri = ma.fields.String(dump_only=True, metadata={"description": "The same, as an otpauth:// URI"})


class MessageSchema(ma.Schema):
    message = ma.fields.String(dump_only=True)


class TokenSchema(ma.Schema):
    token = ma.fields.String(dump_only=True)
    expires_at = ma.fields.AwareDateTime(dump_only=True)


class MeSchema(UserSchema):
    email_confirmed = ma.fields.Boolean(dump_only=True)
    practitioner_id = ma.fields.Integer(dump_only=True, allow_none=True)


class ConfirmSchema(StrictSchema):
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1000))
    totp = totp_code(required=True)
