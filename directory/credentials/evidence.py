"""Evidence files: judged by their content, stored by a random name under the data dir (never
under static/), served only as attachments that a browser will not sniff or run."""

import hashlib
import os
import secrets
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from directory.credentials.models import Evidence
from directory.rules import RuleError

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


def store(upload: FileStorage | None) -> dict:
    """Check and keep an uploaded file; returns the Evidence fields. RuleError 413/415/422."""
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
    stored = f"{secrets.token_hex(16)}.bin"
    target = folder() / stored
    tmp = target.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
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
    (folder() / stored_name).unlink(missing_ok=True)


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
