from flask.views import MethodView

from directory.accounts.auth import FRESH_ACTIONS, api_login_required, api_user, require_fresh_sign_in
from directory.apibase import SECURED, Blueprint
from directory.credentials import (
    checkpoints,
    decisions,
    evidence,
    history,
    inflight,
    present,
    public,
    queues,
    service,
    standing,
)
from directory.credentials.schemas import (
    AdminCredentialSchema,
    AuditArgsSchema,
    AuditEventSchema,
    CheckpointSchema,
    CredentialInSchema,
    CredentialSchema,
    DecisionResultSchema,
    DecisionSchema,
    EvidenceArgsSchema,
    EvidenceUploadSchema,
    FeedArgsSchema,
    FeedSchema,
    LegalNameOutSchema,
    LegalNameSchema,
    LookupArgsSchema,
    LookupSchema,
    NoFieldsSchema,
    QueueArgsSchema,
    QueueItemSchema,
    RecheckArgsSchema,
    RecheckPageSchema,
)
from directory.extensions import app_object
from directory.practitioners import service as practitioners
from directory.rules import RuleError

blp = Blueprint("credentials_api", __name__, url_prefix="/api/v1", description="Credentials and verification")
PAGING_HEADERS = {
    "X-Total-Count": {"description": "How many match, over all pages", "schema": {"type": "integer"}}
}
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
    inflight.sweep_once_per_process(app_object())


@blp.route("/me/credentials")
class MyCredentials(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, CredentialSchema(many=True))
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def get(self):
        """Your credentials, with their status and the latest decision's reason."""
        return service.mine(api_user())

    @blp.arguments(CredentialInSchema, location="form")
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(201, CredentialSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.alt_response(
        409, description="Already submitted, or 20 claims of yours are waiting for a decision already"
    )
    @blp.alt_response(413, description=QUOTA_413)
    @blp.alt_response(415, description="The file is not a PDF, PNG or JPEG")
    @blp.doc(**SECURED)
    def post(self, data, files):
        """Submit a credential with its evidence (multipart). It stays pending until decided, or is
        `contested` when another account claims or holds the same issuer and number. `number` is judged
        by the issuer's format (see /api/v1/issuers): plain ASCII letters and digits, separators as printed."""
        return service.submit(api_user(), data, files["evidence"])


@blp.route("/me/credentials/<id:credential_id>/evidence")
class MyEvidence(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.arguments(NoFieldsSchema, location="form")
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(200, CredentialSchema)
    @blp.alt_response(
        409,
        description="Only a rejected, expired, lapsed or sent-back credential can be resubmitted, "
        "and one credential keeps at most 20 evidence versions (`errors.evidence`)",
    )
    @blp.alt_response(413, description=QUOTA_413)
    @blp.alt_response(415, description="The file is not a PDF, PNG or JPEG")
    @blp.doc(**SECURED)
    def post(self, _fields, files, credential_id):
        """Resubmit a rejected, expired, lapsed or sent-back credential with new evidence (a new version; old
        ones stay)."""
        return service.resubmit(api_user(), credential_id, files["evidence"])


@blp.route("/me/credentials/<id:credential_id>/evidence/file")
@api_login_required("practitioner")
@blp.arguments(EvidenceArgsSchema, location="query")
@blp.doc(responses=FILE_RESPONSE, **SECURED)
def my_evidence_file(args, credential_id):
    """Download your own evidence."""
    return evidence.send(service.evidence_for(api_user(), credential_id, args["version"]))


@blp.route("/admin/credentials")
@api_login_required("admin")
@blp.arguments(QueueArgsSchema, location="query")
@blp.response(200, QueueItemSchema(many=True), headers=PAGING_HEADERS)
@blp.doc(**SECURED)
def admin_queue(args):
    """The verification queue, oldest first (status pending unless asked otherwise), paged
    (`page`, `per_page`; the total is in `X-Total-Count`), filtered by issuer, kind and due date, and
    searchable by number or name (`q`)."""
    found = queues.verification_queue(args, args["page"], args["per_page"])
    return found.items, {"X-Total-Count": str(found.total)}


@blp.route("/admin/rechecks")
@api_login_required("admin")
@blp.arguments(RecheckArgsSchema, location="query")
@blp.response(200, RecheckPageSchema)
@blp.doc(**SECURED)
def admin_rechecks(args):
    """The re-check queue: contested claims, credentials sent back or lapsed, re-checks due within 30 days
    (or overdue), and numbers that do not fit their issuer's format, each with what changed. Paged."""
    found = queues.recheck_queue(args, args["page"], args["per_page"])
    return {"total": found.total, "page": args["page"], "per_page": args["per_page"], "results": found.items}


@blp.route("/admin/credentials/<id:credential_id>")
@api_login_required("admin")
@blp.response(200, AdminCredentialSchema)
@blp.doc(**SECURED)
def admin_credential(credential_id):
    """One credential with its practitioner (and legal name), evidence versions, and every rival claim
    of the same issuer and number, side by side."""
    credential = service.get(credential_id)
    credential.rivals = decisions.rivals_of(credential)
    return credential


@blp.route("/admin/credentials/<id:credential_id>/evidence")
@api_login_required("admin")
@blp.arguments(EvidenceArgsSchema, location="query")
@blp.doc(responses=FILE_RESPONSE, **SECURED)
def admin_evidence(args, credential_id):
    """The evidence file: the latest version, or `version`."""
    return evidence.send(service.evidence_for(api_user(), credential_id, args["version"]), args["inline"])


@blp.route("/admin/credentials/<id:credential_id>/decision", methods=["POST"])
@api_login_required("admin")
@blp.arguments(DecisionSchema)
@blp.response(200, DecisionResultSchema)
@blp.alt_response(
    403,
    description="An admin cannot decide on their own credential, or verify/revoke without a fresh sign-in",
)
@blp.alt_response(
    409,
    description="A move the state machine forbids, a decision made at the same moment, a verification of a "
    "practitioner without a legal name, or of a number another account claims (decide it from the contest)",
)
@blp.doc(**SECURED)
def admin_decision(data, credential_id):
    """Verify, reject or revoke (a reason is required to reject or revoke). Verify compares the claim with
    the practitioner's legal name and records the dates the document shows (`issued_on`, `expires_on`)
    and, for a training-program certificate, each technique confirmed (`techniques`); verifying a verified
    credential confirms it at a re-check; verifying a contested claim gives this account the number and
    rejects (or revokes) every rival. Verify and revoke need a token issued with the authenticator code
    in the last 15 minutes."""
    if data["action"] in FRESH_ACTIONS:
        require_fresh_sign_in()
    credential = decisions.decide(api_user(), credential_id, data)
    return {"id": credential.id, "status": standing.effective_status(credential)}


@blp.route("/admin/audit")
@api_login_required("admin")
@blp.arguments(AuditArgsSchema, location="query")
@blp.response(200, AuditEventSchema(many=True))
@blp.doc(**SECURED)
def admin_audit(args):
    """The audit events, hash-chained per credential."""
    return history.trail(args["credential_id"])


@blp.route("/verify")
@blp.arguments(LookupArgsSchema, location="query")
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="No verified holder of that issuer and number")
def lookup(args):
    """Public lookup of a credential by issuer and number (in any spelling the issuer's format allows):
    it names only the account an admin or the roster verified."""
    return present.lookup(public.lookup(args["issuer"], args["number"]))


@blp.route("/verification-events")
@blp.arguments(FeedArgsSchema, location="query")
@blp.response(200, FeedSchema)
def feed(args):
    """Public change feed for mirroring: a credential becoming verified, and a verified one revoked,
    lapsing, expiring or sent back for a re-check. No pending, contested or rejected claims, no reasons,
    no admin names."""
    events = public.events_after(args["after"], args["limit"])
    return {
        "events": [present.feed_event(e) for e in events],
        "next_after": events[-1].id if events else args["after"],
    }


@blp.route("/audit/checkpoint")
@blp.response(200, CheckpointSchema)
@blp.alt_response(404, description="No checkpoint has been published yet")
def audit_checkpoint():
    """The newest signed checkpoint of the audit log (count of events, newest hash, running digest). Keep
    it: `flask --app wsgi directory audit-verify --checkpoint FILE` later proves the log was not cut short."""
    newest = checkpoints.latest()
    if newest is None:
        raise RuleError(404, "No checkpoint has been published yet.")
    return checkpoints.document(newest), {"Cache-Control": "public, max-age=60"}


@blp.route("/me/legal-name")
class MyLegalName(MethodView):
    decorators = [api_login_required("practitioner")]

    @blp.response(200, LegalNameOutSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def get(self):
        """Your legal name, as rosters and admins compare it (shown publicly only in signed records and
        the credential lookup)."""
        return {"legal_name": practitioners.require_profile(api_user()).legal_name, "sent_back": []}

    @blp.arguments(LegalNameSchema)
    @blp.response(200, LegalNameOutSchema)
    @blp.alt_response(404, description=NO_PROFILE)
    @blp.doc(**SECURED)
    def put(self, data):
        """Set your legal name. Changing it once a credential is verified sends every verified credential
        back for a re-check (their badges go until an admin or a roster checks them again)."""
        return service.set_legal_name(api_user(), data["legal_name"])
