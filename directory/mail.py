"""Outgoing mail through Flask-Mail. With no mail server configured (a laptop, the demo), each message
is written to DATA_DIR/mail as an .eml file instead, so that a password reset still works there."""

import secrets
from pathlib import Path

from flask import Flask, current_app
from flask_mail import Message

from directory.extensions import mail


def init_app(app: Flask) -> None:
    cfg = app.config
    if not cfg.get("MAIL_SERVER"):
        cfg["MAIL_SUPPRESS_SEND"] = True
    # Values from the environment arrive as strings.
    cfg["MAIL_PORT"] = int(cfg.get("MAIL_PORT") or 25)
    cfg["MAIL_USE_TLS"] = str(cfg.get("MAIL_USE_TLS", "")).lower() in ("1", "true", "yes")
    mail.init_app(app)


def send(to: str, subject: str, body: str) -> None:
    message = Message(subject, recipients=[to], body=body)
    mail.send(message)
    if current_app.config.get("MAIL_SUPPRESS_SEND"):
        folder = Path(current_app.config["DATA_DIR"]) / "mail"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{secrets.token_hex(8)}.eml"
        path.write_bytes(message.as_bytes())
        path.chmod(0o600)
