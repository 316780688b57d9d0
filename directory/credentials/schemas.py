import marshmallow as ma
from flask_smorest.fields import Upload

from directory.credentials.lifecycle import DECISIONS
from directory.credentials.models import KINDS, STATUSES
from directory.schemas_base import StrictSchema, TrimmedString
from directory.timeutil import today_utc
from directory.web.converters import MAX_ID


def _known_techniques(slugs: list[str]) -> None:
    from directory.catalog import service as catalog
    from directory.catalog.models import Technique

    unknown = catalog.unknown_slugs(Technique, slugs)
    if unknown:
        raise ma.ValidationError(f"Unknown technique: {', '.join(unknown)}.")


class CredentialInSchema(StrictSchema):
    issuer = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=64))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(KINDS))
    title = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=200))
    number = TrimmedString(required=True, validate=ma.validate.Length(min=1, max=80))
    issued_on = ma.fields.Date(required=True)
    expires_on = ma.fields.Date(load_default=None, allow_none=True)
    # The slug check is the list's own validator, run once every item loaded: as a schema-level
    # `validates`, it also ran on a half-loaded list and mixed its message into the per-item errors
    # ({1: [...], "_schema": [...]}), keys that JSON cannot sort (a 500).
    techniques = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        load_default=list,
        validate=[ma.validate.Length(max=10), _known_techniques],
    )

    @ma.validates("issued_on")
    def _issued(self, value, **kwargs):
        if value > today_utc():
            raise ma.ValidationError("A credential cannot be issued in the future.")

    @ma.validates_schema
    def _expiry(self, data, **kwargs):
        if data.get("expires_on") and data.get("issued_on") and data["expires_on"] < data["issued_on"]:
            raise ma.ValidationError("It cannot expire before it was issued.", "expires_on")


class EvidenceUploadSchema(StrictSchema):
    evidence = Upload(required=True, metadata={"description": "PDF, PNG or JPEG (by content), at most 5 MB"})


class NoFieldsSchema(StrictSchema):
    """The text part of a multipart body whose only part is a file: a field sent beside it (`status`,
    `version`, `sha256` …) is refused with a 422 naming it, not silently dropped."""

    @ma.pre_load
    def _refuse_every_field(self, data, **kwargs):
        # Keys as text: a part sent without a name arrives under None, which the JSON error cannot sort.
        if data:
            raise ma.ValidationError({str(name): ["Unknown field."] for name in data})
        return data


class IssuerRefSchema(ma.Schema):
    slug = ma.fields.String()
    name = ma.fields.String()
    kind = ma.fields.String()


class EvidenceSchema(ma.Schema):
    version = ma.fields.Integer()
    original_name = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    uploaded_at = ma.fields.AwareDateTime()


class CredentialSchema(ma.Schema):
    """What the owner and admins see."""

    id = ma.fields.Integer()
    issuer = ma.fields.Nested(IssuerRefSchema)
    kind = ma.fields.String()
    title = ma.fields.String()
    number = ma.fields.String()
    issued_on = ma.fields.Date()
    expires_on = ma.fields.Date(allow_none=True)
    techniques = ma.fields.Function(lambda c: [t.slug for t in c.techniques])
    status = ma.fields.Function(lambda c: _effective(c))
    method = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    reason = ma.fields.String(metadata={"description": "The latest decision's reason"})
    created_at = ma.fields.AwareDateTime()
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema))


def _effective(credential):
    from directory.credentials.lifecycle import effective_status

    return effective_status(credential)


class PractitionerRefSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()


class QueueItemSchema(CredentialSchema):
    practitioner = ma.fields.Nested(PractitionerRefSchema)


class QueueArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(STATUSES))


class DecisionSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISIONS))
    reason = TrimmedString(load_default="", validate=ma.validate.Length(max=2000))


class DecisionResultSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()


class EvidenceArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    version = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=1000))
    inline = ma.fields.Boolean(load_default=False)


class LookupArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    issuer = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))


class LookupSchema(ma.Schema):
    status = ma.fields.String()
    title = ma.fields.String()
    issuer = ma.fields.Nested(IssuerRefSchema)
    number = ma.fields.String()
    practitioner = ma.fields.Nested(PractitionerRefSchema)
    method = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    next_check_due = ma.fields.Date(allow_none=True)
    expires_on = ma.fields.Date(allow_none=True)


class FeedArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    # Bounded like every id, so a huge number is a 422 rather than an overflow inside the database.
    after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class FeedEventSchema(ma.Schema):
    id = ma.fields.Integer()
    credential_id = ma.fields.Integer()
    practitioner_id = ma.fields.Integer()
    issuer = ma.fields.String()
    number = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    method = ma.fields.String()
    at = ma.fields.AwareDateTime()


class FeedSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(FeedEventSchema))
    next_after = ma.fields.Integer()


class AuditArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    credential_id = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID))


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    credential_id = ma.fields.Integer()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor = ma.fields.String()
    method = ma.fields.String()
    reason = ma.fields.String()
    evidence_sha256 = ma.fields.String()
    at = ma.fields.AwareDateTime()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()
