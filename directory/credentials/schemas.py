from datetime import date

import marshmallow as ma
from flask_smorest.fields import Upload

from directory.credentials import standing
from directory.credentials.lifecycle import DECISIONS
from directory.credentials.models import KINDS
from directory.credentials.names import name_tokens
from directory.credentials.queues import RECHECK_KINDS
from directory.credentials.standing import STATUSES
from directory.schemas_base import Integer, PersonName, StrictSchema, TrimmedString
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
    number_key = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The number in the issuer's canonical form, the credential's identity "
            "(null for an old number that does not fit the issuer's format)"
        },
    )
    techniques = ma.fields.Function(lambda c: [t.slug for t in c.techniques])
    confirmed_techniques = ma.fields.Function(
        lambda c: [t.slug for t in c.confirmed_techniques],
        metadata={"description": "The techniques an admin confirmed on the certificate"},
    )
    status = ma.fields.Function(lambda c: standing.effective_status(c))
    label = ma.fields.Function(lambda c: standing.label(c, public=False))
    recheck_due = ma.fields.Function(lambda c: standing.recheck_due(c))
    method = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    checked_at = ma.fields.AwareDateTime(allow_none=True)
    next_check_due = ma.fields.Function(lambda c: _iso(standing.next_check_due(c)), allow_none=True)
    verified_legal_name = ma.fields.String(allow_none=True)
    source_issued_on = ma.fields.Date(
        allow_none=True, metadata={"description": "The issue date the source showed (null: not shown)"}
    )
    source_expires_on = ma.fields.Date(
        allow_none=True, metadata={"description": "The expiry the source showed (null: not shown)"}
    )
    reason = ma.fields.String(metadata={"description": "The latest decision's reason"})
    created_at = ma.fields.AwareDateTime()
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema))


def _iso(value):
    return value.isoformat() if value else None


class PractitionerRefSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()


class AdminPractitionerSchema(PractitionerRefSchema):
    legal_name = ma.fields.String(allow_none=True)


class QueueItemSchema(CredentialSchema):
    practitioner = ma.fields.Nested(AdminPractitionerSchema)


class AdminCredentialSchema(QueueItemSchema):
    rivals = ma.fields.List(
        ma.fields.Nested(QueueItemSchema),
        metadata={"description": "Every active claim of the same issuer and number, this one included"},
    )


class PagingSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    page = Integer(load_default=1, validate=ma.validate.Range(min=1, max=10000))
    per_page = Integer(load_default=50, validate=ma.validate.Range(min=1, max=100))


class QueueFilterSchema(PagingSchema):
    issuer = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64))
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(KINDS))
    # From 1900: a year is subtracted from the day (standing.due_by_sql), which year 1 has no room for.
    due_before = ma.fields.Date(
        load_default=None,
        validate=ma.validate.Range(min=date(1900, 1, 1), error="Give a day from 1900-01-01 on."),
        metadata={"description": "Only credentials whose next check is due by this day"},
    )
    q = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"description": "Part of a number, a display name or a legal name"},
    )


class QueueArgsSchema(QueueFilterSchema):
    status = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(STATUSES))


class RecheckArgsSchema(QueueFilterSchema):
    reason = ma.fields.String(load_default=None, validate=ma.validate.OneOf(RECHECK_KINDS))


class RecheckItemSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": " | ".join(RECHECK_KINDS)})
    changed = ma.fields.String(metadata={"description": "What changed, in a sentence"})
    credential = ma.fields.Nested(QueueItemSchema)


class RecheckPageSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    results = ma.fields.List(ma.fields.Nested(RecheckItemSchema))


class DecisionSchema(StrictSchema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(DECISIONS))
    reason = TrimmedString(load_default="", validate=ma.validate.Length(max=2000))
    issued_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "verify: the issue date the document shows (leave out if it shows none)"},
    )
    expires_on = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "verify: the expiry the document shows (leave out if it shows none)"},
    )
    techniques = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        load_default=None,
        validate=ma.validate.Length(max=10),
        metadata={
            "description": "verify a training-program certificate: the claimed techniques the document "
            "confirms, each checked by the admin"
        },
    )


class LegalNameSchema(StrictSchema):
    legal_name = PersonName(
        required=True,
        validate=ma.validate.Length(min=3, max=200),
        metadata={"description": "The name on your licences, given and family names"},
    )

    @ma.validates("legal_name")
    def _full(self, value, **kwargs):
        if len(name_tokens(value)) < 2:
            raise ma.ValidationError("Give your full legal name as on your licences: given and family names.")


class LegalNameOutSchema(ma.Schema):
    legal_name = ma.fields.String(allow_none=True)
    sent_back = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Credentials sent back for a re-check by this change"}
    )


class DecisionResultSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()


class EvidenceArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    version = Integer(load_default=None, validate=ma.validate.Range(min=1, max=1000))
    inline = ma.fields.Boolean(load_default=False)


class LookupArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    issuer = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))


class HolderSchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String(
        metadata={
            "description": "The holder's name as the source verified it (their legal name): a profile's "
            "display name never appears here, since its owner can change it"
        }
    )
    legal_name = ma.fields.String(allow_none=True)


class LookupSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The credential's id (for its signed record)"})
    status = ma.fields.String()
    label = ma.fields.String(metadata={"description": "The status in words: verified, re-check due, …"})
    recheck_due = ma.fields.Boolean()
    title = ma.fields.String()
    issuer = ma.fields.Nested(IssuerRefSchema)
    number = ma.fields.String(metadata={"description": "As the holder wrote it"})
    number_key = ma.fields.String(metadata={"description": "In the issuer's canonical form"})
    practitioner = ma.fields.Nested(HolderSchema)
    method = ma.fields.String(allow_none=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    next_check_due = ma.fields.Date(allow_none=True)
    issued_on = ma.fields.Date(allow_none=True, metadata={"description": "As the source showed it, or null"})
    expires_on = ma.fields.Date(allow_none=True)
    expires_on_verified = ma.fields.Boolean()


class FeedArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    # Bounded like every id, so a huge number is a 422 rather than an overflow inside the database.
    after = Integer(load_default=0, validate=ma.validate.Range(min=0, max=MAX_ID))
    limit = Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))


class FeedEventSchema(ma.Schema):
    id = ma.fields.Integer()
    credential_id = ma.fields.Integer()
    practitioner_id = ma.fields.Integer()
    issuer = ma.fields.String()
    number = ma.fields.String()
    number_key = ma.fields.String(allow_none=True)
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    method = ma.fields.String()
    at = ma.fields.AwareDateTime()


class FeedSchema(ma.Schema):
    events = ma.fields.List(ma.fields.Nested(FeedEventSchema))
    next_after = ma.fields.Integer()


class CheckpointSchema(ma.Schema):
    jws = ma.fields.String(
        metadata={
            "description": "Compact JWS signed with a key of /.well-known/jwks.json; claims {iss, typ: "
            "audit-checkpoint, iat, count, last_event_id, last_hash, digest}"
        }
    )
    count = ma.fields.Integer()
    last_event_id = ma.fields.Integer()
    last_hash = ma.fields.String()
    digest = ma.fields.String()
    created_at = ma.fields.AwareDateTime()


class AuditArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    credential_id = Integer(load_default=None, validate=ma.validate.Range(min=1, max=MAX_ID))


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer()
    credential_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "null for the log's own events"}
    )
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor = ma.fields.String()
    actor_ref = ma.fields.String(metadata={"description": "The pseudonymous reference the hash covers"})
    method = ma.fields.String()
    reason = ma.fields.String()
    evidence_sha256 = ma.fields.String()
    at = ma.fields.AwareDateTime()
    prev_hash = ma.fields.String()
    hash = ma.fields.String()
