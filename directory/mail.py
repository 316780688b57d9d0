"""Outgoing mail: a queue table, sent after the response.

`queue()` writes a message as a row of the caller's transaction (or of a given connection), so a mail
exists exactly when the action that wrote it committed, and the request does no mail work: the rows a
request queued are sent once its response has gone (`install`), and whatever that send could not
deliver is sent by `flask directory mailer`. Sending goes through Flask-Mail; with no mail server
configured (a laptop, the demo) each message is written to DATA_DIR/mail as an .eml file instead.
"""

import logging
import secrets
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, Response, current_app, has_request_context, request
from flask_mail import Message

from directory.accounts.models import MailMessage
from directory.extensions import app_object, db, mail
from directory.timeutil import now_utc

log = logging.getLogger(__name__)
ENVIRON_KEY = "directory.mail_queued"
MAX_ATTEMPTS = 5


def init_app(app: Flask) -> None:
    cfg = app.config
    if not cfg.get("MAIL_SERVER"):
        cfg["MAIL_SUPPRESS_SEND"] = True
    # Values from the environment arrive as strings.
    cfg["MAIL_PORT"] = int(cfg.get("MAIL_PORT") or 25)
    cfg["MAIL_USE_TLS"] = str(cfg.get("MAIL_USE_TLS", "")).lower() in ("1", "true", "yes")
    mail.init_app(app)
    app.after_request(_send_after_response)


def queue(recipient: str, subject: str, body: str, connection: sa.Connection | None = None) -> None:
    """A message to send once the current transaction (or `connection`'s) has committed."""
    values = {"recipient": recipient, "subject": subject, "body": body, "created_at": now_utc()}
    if connection is not None:
        inserted = sa.insert(MailMessage).values(**values).returning(MailMessage.id)
        queued: int | MailMessage = connection.execute(inserted).scalar_one()
    else:
        queued = MailMessage(**values)
        db.session.add(queued)
    if has_request_context():
        request.environ.setdefault(ENVIRON_KEY, []).append(queued)


def _send_after_response(response: Response) -> Response:
    queued = request.environ.pop(ENVIRON_KEY, None)
    if not queued:
        return response
    found = (item if isinstance(item, int) else _committed_id(item) for item in queued)
    ids = [i for i in found if i is not None]
    if ids:
        app = app_object()
        # Runs when the server closes the response: after the client has its answer, outside the request.
        response.call_on_close(lambda: _send_ids(app, ids))
    return response


def _committed_id(message: MailMessage) -> int | None:
    state = sa.inspect(message)
    return state.identity[0] if state.persistent and state.identity else None


def _send_ids(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            send_pending(ids)
        finally:
            db.session.remove()


def send_pending(ids: list[int] | None = None, limit: int = 500) -> int:
    """Send unsent messages (these `ids`, or the oldest `limit`); how many went."""
    statement = sa.select(MailMessage).where(
        MailMessage.sent_at.is_(None), MailMessage.attempts < MAX_ATTEMPTS
    )
    if ids is not None:
        statement = statement.where(MailMessage.id.in_(ids))
    sent = 0
    for message in db.session.scalars(statement.order_by(MailMessage.id).limit(limit)).all():
        message.attempts += 1
        try:
            deliver(message.recipient, message.subject, message.body)
        except Exception as exc:  # a mail server down must not lose the message: it stays queued
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("mail.send_failed", extra={"mail_id": message.id, "error": type(exc).__name__})
        else:
            message.sent_at = now_utc()
            sent += 1
        db.session.commit()
    return sent


def unsent_count() -> int:
    return (
        db.session.scalar(sa.select(sa.func.count(MailMessage.id)).where(MailMessage.sent_at.is_(None))) or 0
    )


def deliver(to: str, subject: str, body: str) -> None:
    message = Message(subject, recipients=[to], body=body)
    mail.send(message)
    if current_app.config.get("MAIL_SUPPRESS_SEND"):
        folder = Path(current_app.config["DATA_DIR"]) / "mail"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}.eml"
        path.write_bytes(message.as_bytes())
        path.chmod(0o600)
