import marshmallow as ma

from directory.schemas_base import Integer, PersonName, StrictSchema, TrimmedString

BODY = ma.validate.Length(min=20, max=5000, error="Write 20 to 5000 characters.")


class ReviewInSchema(StrictSchema):
    rating = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=5))
    body = TrimmedString(required=True, validate=BODY)
    invite_code = TrimmedString(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Regexp(r"^[A-Za-z0-9_-]{8,64}$", error="Not an invite code."),
    )
    author_name = PersonName(
        load_default="",
        validate=ma.validate.Length(max=60),
        metadata={"description": "First name and initial, or a pseudonym; never shown: the email"},
    )


class ReviewEditSchema(StrictSchema):
    rating = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=5))
    body = TrimmedString(required=True, validate=BODY)
    author_name = PersonName(load_default=None, allow_none=True, validate=ma.validate.Length(max=60))


class ResponseInSchema(StrictSchema):
    body = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=2000))


class FlagInSchema(StrictSchema):
    reason = TrimmedString(required=True, validate=ma.validate.Length(min=3, max=500))


class ModerationInSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(("hide", "restore")))
    reason = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=1000))


class PageArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))


class ResponseSchema(ma.Schema):
    body = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class ReviewSchema(ma.Schema):
    id = ma.fields.Integer()
    rating = ma.fields.Integer()
    body = ma.fields.String()
    verified_client = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class PublicReviewSchema(ReviewSchema):
    author = ma.fields.Function(lambda r: r.author_name or "A client")
    response = ma.fields.Nested(ResponseSchema, allow_none=True)


class ReviewPageSchema(ma.Schema):
    total = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(PublicReviewSchema))


class InviteSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime()


class FlagSchema(ma.Schema):
    id = ma.fields.Integer()
    review_id = ma.fields.Integer()
    reason = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class ModerationResultSchema(ma.Schema):
    id = ma.fields.Integer()
    hidden = ma.fields.Boolean()
