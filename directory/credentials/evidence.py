"""Evidence files: judged by their content, stored by a random name under the data dir (never
under static/), served only as attachments that a browser will not sniff or run."""

import hashlib
import os
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from directory.credentials import inflight
from directory.credentials.models import Credential, Evidence
from directory.extensions import db
from directory.rules import Data, RuleError

MAX_BYTES = 5 * 1024 * 1024
# (signature at offset 0, type); the name and the declared content type are not believed.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
PREVIEWABLE = ("image/png", "image/jpeg")


def sniff(head: bytes) -> str | None:
    for signature, kind in SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def folder() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "evidence"
    path.mkdir(parents=True, exist_ok=True)
    return path


def room_left(practitioner_id: int) -> int:
    """Bytes this practitioner may still store: the quota less every version of every credential's
    evidence (rejected ones too: their files stay on disk for the audit trail)."""
    used = (
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Evidence.size), 0))
            .join(Credential, Credential.id == Evidence.credential_id)
            .where(Credential.practitioner_id == practitioner_id)
        )
        or 0
    )
    quota: int = current_app.config["EVIDENCE_QUOTA_BYTES"]
    return quota - used


def _size(size: int) -> str:
    size = max(size, 0)
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size // 1024} kB"


def store(upload: FileStorage | None, room: int | None = None) -> Data:
    """Check and keep an uploaded file; returns the Evidence fields. RuleError 413/415/422.
    `room`: the bytes the owner may still store (room_left); a larger file is refused (413)."""
    if upload is None:
        raise RuleError(422, "Attach the evidence: a PDF, PNG or JPEG.", field="evidence")
    data = upload.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RuleError(413, "The evidence file is larger than 5 MB.", field="evidence")
    if not data:
        raise RuleError(422, "The evidence file is empty.", field="evidence")
    kind = sniff(data[:16])
    if kind is None or (kind == "application/pdf" and b"%%EOF" not in data[-2048:]):
        raise RuleError(415, "The evidence must be a PDF, PNG or JPEG file.", field="evidence")
    if room is not None and len(data) > room:
        quota = current_app.config["EVIDENCE_QUOTA_BYTES"]
        raise RuleError(
            413,
            f"Your evidence files may take {_size(quota)} in all and {_size(room)} is left; "
            f"this file is {_size(len(data))}. Send a smaller scan (a lower resolution will do).",
            field="evidence",
        )
    stored = f"{secrets.token_hex(16)}.bin"
    target = folder() / stored
    tmp = target.with_suffix(".part")
    # Claimed until the caller's transaction ends (settle or discard); see inflight.py.
    inflight.begin(target)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        discard(stored)
        raise
    original = (upload.filename or "evidence")[:255]
    return {
        "stored_name": stored,
        "original_name": original,
        "content_type": kind,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def discard(stored_name: str) -> None:
    """Remove a stored file whose database row was never committed."""
    target = folder() / stored_name
    target.unlink(missing_ok=True)
    target.with_suffix(".part").unlink(missing_ok=True)
    inflight.end(target)


def settle(stored_name: str) -> None:
    """The row naming this file has committed: the upload is no longer in flight."""
    inflight.end(folder() / stored_name)


def send(evidence: Evidence, inline: bool = False) -> Response:
    """The file itself: an attachment (inline only for image previews), never sniffed, sandboxed."""
    inline = inline and evidence.content_type in PREVIEWABLE
    name = secure_filename(evidence.original_name) or "evidence"
    response = send_file(
        folder() / evidence.stored_name,
        mimetype=evidence.content_type,
        as_attachment=not inline,
        download_name=name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
