"""What the credential tests share: the roster CSV header, a good line, uploads, status reads, and
the offline check of a signed record (the fixtures `admin` and `holder` are in conftest.py)."""

import io
import warnings

import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from directory.credentials.models import Credential, CredentialEvent
from directory.extensions import db

HEADER = "number,name,status,expires_on\n"
URL = "/api/v1/admin/issuers/camtc/roster"
GOOD = "CMT-1001,Casey Lin,active,2030-06-01\n"


def multipart(body: bytes | str, **fields) -> dict:
    """A multipart body in memory: for a large file the test client would spool one to a temporary
    file it never closes (a ResourceWarning, which the suite treats as an error)."""
    data = body.encode() if isinstance(body, str) else body
    boundary, encoded = encode_multipart(
        MultiDict({**fields, "file": FileStorage(io.BytesIO(data), "roster.csv", content_type="text/csv")})
    )
    return {"data": encoded, "content_type": f"multipart/form-data; boundary={boundary}"}


def upload(client, headers, body: bytes | str, slug: str = "camtc", **query):
    return client.post(
        f"/api/v1/admin/issuers/{slug}/roster", query_string=query, headers=headers, **multipart(body)
    )


def status_of(credential_id: int) -> tuple[str, str | None]:
    db.session.expire_all()
    credential = db.session.get(Credential, credential_id)
    return credential.status, credential.method


def event_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CredentialEvent))


def verify_by_document(client, admin, credential_id):
    decided = client.post(
        f"/api/v1/admin/credentials/{credential_id}/decision",
        json={"action": "verify"},
        headers=admin.headers,
    )
    assert decided.status_code == 200, decided.get_json()


def offline_check(token: str, jwks: dict):
    """What anyone does offline with the saved JWKS (README): joserfc, EdDSA only."""
    with warnings.catch_warnings():
        # joserfc notes that RFC 9864 prefers "Ed25519" to "EdDSA"; a verifier sees that warning.
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        return jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])
