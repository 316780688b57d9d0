import marshmallow as ma

from directory.accounts.service import MIN_PASSWORD, SELF_SERVICE_ROLES
from directory.schemas_base import StrictSchema, TrimmedString


class RegisterSchema(StrictSchema):
    email = TrimmedString(required=True, validate=[ma.validate.Email(), ma.validate.Length(max=254)])
    password = ma.fields.String(
        required=True,
        load_only=True,
        validate=ma.validate.Length(
            min=MIN_PASSWORD, max=1000, error=f"Use {MIN_PASSWORD} to 1000 characters."
        ),
    )
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


class TokenSchema(ma.Schema):
    token = ma.fields.String(dump_only=True)
    expires_at = ma.fields.AwareDateTime(dump_only=True)


class MeSchema(UserSchema):
    practitioner_id = ma.fields.Integer(dump_only=True, allow_none=True)
