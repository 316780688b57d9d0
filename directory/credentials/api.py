from flask import current_app
from flask.views import MethodView

from directory.accounts.auth import FRESH_ACTIONS, api_login_required, current_api_user, require_fresh_sign_in
from directory.apibase import Blueprint
from directory.credentials import evidence, inflight, service
from directory.credentials.lifecycle import effective_status
from directory.credentials.schemas import (
    AuditArgsSchema,
    AuditEventSchema,
    CredentialInSchema,
    CredentialSchema,
    DecisionResultSchema,
    DecisionSchema,
    EvidenceArgsSchema,
    EvidenceUploadSchema,
    FeedArgsSchema,
    FeedSchema,
    LookupArgsSchema,
    LookupSchema,
    NoFieldsSchema,
    QueueArgsSchema,
    QueueItemSchema,
)

blp = Blueprint("credentials_api", __name__, url_prefix="/api/v1", description="Credentials and verification")
SECURED = {"security": [{"bearerAuth": []}]}
NO_PROFILE = "No profile saved yet (PUT /api/v1/me/profile first)"
QUOTA_413 = (
    "The file is larger than 5 MB, or larger than the room left in your evidence quota "
    "(50 MB over all your credentials and versions); `errors.evidence` says which"
)
# On function views api_login_required sits right under @blp.route, so the caller is checked
# before the body or query is parsed: a stranger learns nothing about the input rules.
FILE_RESPONSE = {
    "200": {
        "description": "The evidence file: an attachment (an image may be previewed inline)",
        "content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}},
    },
    "404": {"description": "No such evidence, or not yours"},
}


@blp.before_app_request
def _sweep_dead_uploads() -> None:
    # Once per process, before its first request: see inflight.py.
    inflight.sweep_once_per_process(current_app._get_current_object())


@blp.route("/me/credentials")
class MyCredentials(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, CredentialSchema(many=True))
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def get(self):
        """Your credentials, with their status and the latest decision's reason."""
        return service.mine(current_api_user())

    @blp.arguments(CredentialInSchema, location="form")
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(201, CredentialSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.alt_response(409, description="Already submitted")
    @blp.alt_response(413, description=QUOTA_413)
    @blp.alt_response(415, description="The file is not a PDF, PNG or JPEG")
    @blp.doc(**SECURED)
    def post(self, data, files):
        """Submit a credential with its evidence (multipart). It stays pending until decided."""
        return service.submit(current_api_user(), data, files["evidence"])


@blp.route("/me/credentials/<id:credential_id>/evidence")
class MyEvidence(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.arguments(NoFieldsSchema, location="form")
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(200, CredentialSchema)
    @blp.alt_response(
        409,
        description="Only a rejected or expired credential can be resubmitted, "
        "and one credential keeps at most 20 evidence versions (`errors.evidence`)",
    )
    @blp.alt_response(413, description=QUOTA_413)
    @blp.alt_response(415, description="The file is not a PDF, PNG or JPEG")
    @blp.doc(**SECURED)
    def post(self, _fields, files, credential_id):
        """Resubmit a rejected or expired credential with new evidence (a new version; old ones stay)."""
        return service.resubmit(current_api_user(), credential_id, files["evidence"])


@blp.route("/me/credentials/<id:credential_id>/evidence/file")
@api_login_required("practitioner")
@blp.arguments(EvidenceArgsSchema, location="query")
@blp.doc(responses=FILE_RESPONSE, **SECURED)
def my_evidence_file(args, credential_id):
    """Download your own evidence."""
    return evidence.send(service.evidence_for(current_api_user(), credential_id, args["version"]))


@blp.route("/admin/credentials")
@api_login_required("admin")
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueueItemSchema(many=True))
@blp.doc(**SECURED)
def admin_queue(args):
    """The verification queue, oldest first (status pending unless asked otherwise)."""
    return service.queue(args["status"])


@blp.route("/admin/credentials/<id:credential_id>")
@api_login_required("admin")
@blp.response(200, QueueItemSchema)
@blp.doc(**SECURED)
def admin_credential(credential_id):
    """One credential with its practitioner and evidence versions."""
    return service.get(credential_id)


@blp.route("/admin/credentials/<id:credential_id>/evidence")
@api_login_required("admin")
@blp.arguments(EvidenceArgsSchema, location="query")
@blp.doc(responses=FILE_RESPONSE, **SECURED)
def admin_evidence(args, credential_id):
    """The evidence file: the latest version, or `version`."""
    return evidence.send(
        service.evidence_for(current_api_user(), credential_id, args["version"]), args["inline"]
    )


@blp.route("/admin/credentials/<id:credential_id>/decision", methods=["POST"])
@api_login_required("admin")
@blp.arguments(DecisionSchema)
@blp.response(200, DecisionResultSchema)
@blp.alt_response(
    403,
    description="An admin cannot decide on their own credential, or verify/revoke without a fresh sign-in",
)
@blp.alt_response(409, description="A move the state machine forbids, or a decision made at the same moment")
@blp.doc(**SECURED)
def admin_decision(data, credential_id):
    """Verify, reject or revoke (a reason is required to reject or revoke). Verify and revoke need a token
    issued with the authenticator code in the last 15 minutes."""
    if data["action"] in FRESH_ACTIONS:
        require_fresh_sign_in()
    credential = service.decide(current_api_user(), credential_id, data["action"], data["reason"])
    return {"id": credential.id, "status": effective_status(credential)}


@blp.route("/admin/audit")
@api_login_required("admin")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.doc(**SECURED)
def admin_audit(args):
    """The audit events, hash-chained per credential."""
    return service.audit_trail(args["credential_id"])


@blp.route("/verify")
@blp.arguments(LookupArgsSchema, location="query")
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="No such credential on record")
def lookup(args):
    """Public lookup of a credential by issuer and number."""
    c = service.lookup(args["issuer"], args["number"])
    return {
        "status": effective_status(c),
        "title": c.title,
        "issuer": c.issuer,
        "number": c.number,
        "practitioner": c.practitioner,
        "method": c.method,
        "verified_at": c.verified_at,
        "next_check_due": service.next_check_due(c),
        "expires_on": c.expires_on,
    }


@blp.route("/verification-events")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedSchema)
def feed(args):
    """Public change feed of credential statuses (no reasons, no admin names), for mirroring."""
    events = service.events_after(args["after"], args["limit"])
    return {
        "events": [
            {
                "id": e.id,
                "credential_id": e.credential_id,
                "practitioner_id": e.credential.practitioner_id,
                "issuer": e.credential.issuer.slug,
                "number": e.credential.number,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "method": e.method,
                "at": e.at,
            }
            for e in events
        ],
        "next_after": events[-1].id if events else args["after"],
    }
