"""Primary-source roster import over the API: `POST /api/v1/admin/issuers/<slug>/roster`."""

import marshmallow as ma
from flask import current_app, request
from flask_smorest.fields import Upload

from directory.accounts.auth import api_login_required, api_user, require_fresh_sign_in
from directory.apibase import Blueprint
from directory.credentials import roster, roster_file
from directory.credentials.schemas import NoFieldsSchema
from directory.schemas_base import StrictSchema

blp = Blueprint("roster_api", __name__, url_prefix="/api/v1", description="Issuer rosters")
# Room for the multipart envelope around a file of the largest size the service accepts.
REQUEST_LIMIT = roster_file.MAX_BYTES + 1024 * 1024


@blp.url_value_preprocessor
def _allow_large_rosters(endpoint, values):
    # A roster may pass the app-wide MAX_CONTENT_LENGTH (sized for evidence files); this runs before
    # anything reads the body, so the larger limit applies to this endpoint only.
    request.max_content_length = REQUEST_LIMIT


class RosterUploadSchema(StrictSchema):
    file = Upload(
        required=True,
        metadata={
            "description": "CSV, UTF-8, header number,name,status,expires_on (optionally ,issued_on); "
            "at most 20 MB"
        },
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


class DateDiffSchema(ma.Schema):
    credential_id = ma.fields.Integer()
    number = ma.fields.String()
    line = ma.fields.Integer()
    field = ma.fields.String(metadata={"description": "issued_on or expires_on"})
    claimed = ma.fields.Date(allow_none=True, metadata={"description": "What the claimant typed"})
    roster = ma.fields.Date(metadata={"description": "What the roster says (this is what is verified)"})


class RosterDetailsSchema(ma.Schema):
    mismatched = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={"description": "Pending credentials on the roster that were not verified, and why"},
    )
    lapsed = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={"description": "Verified credentials missing from the roster or inactive on it: lapsed"},
    )
    sent_back = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={
            "description": "Verified credentials whose row names someone else: sent back for a re-check"
        },
    )
    contested = ma.fields.List(
        ma.fields.Nested(RosterItemSchema),
        metadata={"description": "Contested claims on the roster: never verified here, an admin decides"},
    )
    confirmed = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "Ids of verified credentials the roster confirmed"}
    )
    dates_differ = ma.fields.List(
        ma.fields.Nested(DateDiffSchema),
        metadata={"description": "Dates the claimant typed that the roster contradicts (the roster's stand)"},
    )
    pending_not_on_roster = ma.fields.Integer()


class RosterResultSchema(ma.Schema):
    issuer = ma.fields.String()
    rows = ma.fields.Integer(metadata={"description": "Data rows in the file"})
    matched = ma.fields.Integer(
        metadata={"description": "Rows whose number is a pending or verified credential"}
    )
    verified = ma.fields.Integer(
        metadata={
            "description": "Credentials verified (method roster): pending ones, or sent back and lapsed ones"
        }
    )
    confirmed = ma.fields.Integer(metadata={"description": "Verified credentials the roster re-checked"})
    sent_back = ma.fields.Integer()
    mismatched = ma.fields.Integer()
    lapsed = ma.fields.Integer()
    contested = ma.fields.Integer()
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
@blp.alt_response(
    413,
    description="The file is larger than 20 MB, or it would change more credentials than a request applies "
    "(ROSTER_REQUEST_MAX_CHANGES; use the command line)",
)
@blp.alt_response(
    422,
    description="Not UTF-8, wrong header, no rows (`errors.file`), or bad lines: "
    "`errors` is then a list of {line, message}; nothing was applied",
)
@blp.doc(security=[{"bearerAuth": []}])
def import_roster(args, files, _fields, slug):
    """Import an issuer's roster (CSV `number,name,status,expires_on[,issued_on]`): verifies matching
    pending credentials with the roster's dates (method `roster`), re-checks every verified one
    (confirmed, lapsed, or sent back), never verifies a contested claim. All or nothing. Applying (not a
    dry run) verifies, so it needs a token issued with the authenticator code in the last 15 minutes."""
    if not args["dry_run"]:
        require_fresh_sign_in()
    return roster.import_roster(
        api_user(),
        slug,
        files["file"],
        dry_run=args["dry_run"],
        max_changes=current_app.config["ROSTER_REQUEST_MAX_CHANGES"],
    )
