"""Primary-source roster import over the API: `POST /api/v1/admin/issuers/<slug>/roster`."""

import marshmallow as ma
from flask import request
from flask_smorest.fields import Upload

from directory.accounts.auth import api_login_required, current_api_user, require_fresh_sign_in
from directory.apibase import Blueprint
from directory.credentials import roster
from directory.credentials.schemas import NoFieldsSchema
from directory.schemas_base import StrictSchema

blp = Blueprint("roster_api", __name__, url_prefix="/api/v1", description="Issuer rosters")
# Room for the multipart envelope around a file of the largest size the service accepts.
REQUEST_LIMIT = roster.MAX_BYTES + 1024 * 1024


@blp.url_value_preprocessor
def _allow_large_rosters(endpoint, values):
    # A roster may pass the app-wide MAX_CONTENT_LENGTH (sized for evidence files); this runs before
    # anything reads the body, so the larger limit applies to this endpoint only.
    request.max_content_length = REQUEST_LIMIT


class RosterUploadSchema(StrictSchema):
    file = Upload(
        required=True,
        metadata={"description": "CSV, UTF-8, header number,name,status,expires_on; at most 20 MB"},
    )


class RosterArgsSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    dry_run = ma.fields.Boolean(
        load_default=False, metadata={"description": "Check and match, report, change nothing"}
    )


class LineErrorSchema(ma.Schema):
    line = ma.fields.Integer()
    message = ma.fields.String()


class RosterItemSchema(ma.Schema):
    credential_id = ma.fields.Integer()
    number = ma.fields.String()
    practitioner_id = ma.fields.Integer()
    line = ma.fields.Integer(allow_none=True, metadata={"description": "The roster line; null if absent"})
    reason = ma.fields.String()


class ExpiryDiffSchema(ma.Schema):
    credential_id = ma.fields.Integer()
    number = ma.fields.String()
    line = ma.fields.Integer()
    on_record = ma.fields.Date(allow_none=True)
    roster = ma.fields.Date()


class RosterDetailsSchema(ma.Schema):
    mismatched = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={"description": "Pending credentials on the roster that were not verified, and why"},
    )
    lapsed = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={
            "description": "Verified credentials missing from the roster or inactive on it (not revoked)"
        },
    )
    expiry_differs = ma.fields.List(
        ma.fields.Nested(ExpiryDiffSchema),
        metadata={"description": "Rows whose expires_on differs from the credential's (left as it was)"},
    )
    pending_not_on_roster = ma.fields.Integer()


class RosterResultSchema(ma.Schema):
    issuer = ma.fields.String()
    rows = ma.fields.Integer(metadata={"description": "Data rows in the file"})
    matched = ma.fields.Integer(
        metadata={"description": "Rows whose number is a pending or verified credential"}
    )
    verified = ma.fields.Integer(metadata={"description": "Pending credentials verified (method roster)"})
    mismatched = ma.fields.Integer()
    lapsed = ma.fields.Integer()
    errors = ma.fields.List(
        ma.fields.Nested(LineErrorSchema),
        metadata={"description": "Always empty here: a file with a bad line is refused whole (422)"},
    )
    dry_run = ma.fields.Boolean()
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the file as uploaded"})
    seconds = ma.fields.Float()
    details = ma.fields.Nested(RosterDetailsSchema)


@blp.route("/admin/issuers/<slug>/roster", methods=["POST"])
# Outermost, so that who may call is settled before the body is read (401/403 before any 422).
@api_login_required("admin")
@blp.arguments(RosterArgsSchema, location="query")
@blp.arguments(RosterUploadSchema, location="files")
@blp.arguments(NoFieldsSchema, location="form")
@blp.response(200, RosterResultSchema)
@blp.alt_response(403, description="Not an admin, or applying without a fresh sign-in (15 minutes)")
@blp.alt_response(404, description="No such issuer")
@blp.alt_response(409, description="A credential changed meanwhile; nothing was applied")
@blp.alt_response(413, description="The file is larger than 20 MB")
@blp.alt_response(
    422,
    description="Not UTF-8, wrong header, no rows (`errors.file`), or bad lines: "
    "`errors` is then a list of {line, message}; nothing was applied",
)
@blp.doc(security=[{"bearerAuth": []}])
def import_roster(args, files, _fields, slug):
    """Import an issuer's roster (CSV `number,name,status,expires_on`): verifies matching pending
    credentials (method `roster`), reports lapsed verified ones. All or nothing. Applying (not a dry run)
    verifies, so it needs a token issued with the authenticator code in the last 15 minutes."""
    if not args["dry_run"]:
        require_fresh_sign_in()
    return roster.import_roster(current_api_user(), slug, files["file"], dry_run=args["dry_run"])
