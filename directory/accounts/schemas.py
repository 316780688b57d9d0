import re

import marshmallow as ma

from directory.accounts.service import MIN_PASSWORD, SELF_SERVICE_ROLES
from directory.schemas_base import StrictSchema, TrimmedString


def new_password(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(
            min=MIN_PASSWORD, max=1000, error=f"Use {MIN_PASSWORD} to 1000 characters."
        ),
        **kwargs,
    )


def totp_code(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        load_only=True,
        validate=[
            ma.validate.Length(max=20, error="Six digits from your authenticator."),
            # ASCII digits and spaces: Python's \d and \s would take any script's ("１２３ ４５６").
            ma.validate.Regexp(
                r"^\s*\d{3}\s?\d{3}\s*$", flags=re.ASCII, error="Six digits from your authenticator."
            ),
        ],
        metadata={"description": "The current six-digit code of the admin's authenticator app."},
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


class ResetConfirmSchema(StrictSchema):
    token = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=200))
    password = new_password()


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
    practitioner_id = ma.fields.Integer(dump_only=True, allow_none=True)


class ConfirmSchema(StrictSchema):
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=1000))
    totp = totp_code(required=True)
