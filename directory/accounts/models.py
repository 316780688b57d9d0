import secrets
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.extensions import Model
from directory.timeutil import UTCDateTime, now_utc

ROLES = ("client", "practitioner", "admin")


class User(Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    # None means the account cannot sign in (demo practitioners, for one).
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Authenticator (TOTP) second factor: admins must have one. `totp_pending` holds a secret being
    # enrolled until a first code proves the authenticator has it; `totp_last_step` refuses a code twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_pending: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # What the audit chain's hashes cover instead of the email: a random pseudonym, so deleting the
    # person later (or changing their email) never breaks a chain or a kept checkpoint.
    audit_ref: Mapped[str] = mapped_column(sa.String(32), unique=True, default=lambda: secrets.token_hex(16))
    # None until the owner opens the confirmation link mailed at registration (accounts/confirmation.py).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The client address the account was registered from: a review invite cannot be redeemed by an
    # account made from where the practitioner signed in (reviews/invites.py).
    registered_from: Mapped[str | None] = mapped_column(sa.String(45))

    practitioner = relationship("Practitioner", back_populates="user", uselist=False)

    __table_args__ = (sa.CheckConstraint("role IN ('client', 'practitioner', 'admin')", name="role"),)

    # Flask-Login protocol. get_id() returns the server-side session token, not the user id,
    # so that ending the session row ends the cookie (see accounts/sessions.py).
    # Set per request by accounts.sessions, never stored: a plain attribute, which the mapper must not see
    # annotated (it would read an annotation as a column).
    if TYPE_CHECKING:
        session_token: str | None = None
    else:
        session_token = None
    is_active = True
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    def get_id(self) -> str | None:
        return self.session_token


class GrantColumns:
    """What a signed-in browser and an API token share: a random secret kept only as its SHA-256,
    an absolute end (`expires_at`), an idle end (`last_seen_at` + the idle limit), when the password
    was last proved (`authenticated_at`, for actions that need a fresh sign-in) and when the second
    factor was (`mfa_at`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    authenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mfa_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The client address that signed in (reviews/invites.py compares it with the redeemer's).
    address: Mapped[str | None] = mapped_column(sa.String(45))


class WebSession(GrantColumns, Model):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored."""

    __tablename__ = "web_sessions"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    end_column = "ended_at"


class ApiToken(GrantColumns, Model):
    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    end_column = "revoked_at"


class PasswordReset(Model):
    """A one-use link sent by mail; only the token's SHA-256 is stored. A request for an unknown address
    writes a row too (`user_id` None, never usable), so that asking costs the same either way.
    `handle_hash` binds the link to the browser that opened it: the browser's session carries a random
    handle, never the token (accounts/recovery.py)."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the normalised address asked for: the per-address hourly limit counts unknown ones too.
    email_digest: Mapped[str] = mapped_column(sa.String(64), index=True, default="")
    handle_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


class EmailConfirmation(Model):
    """A one-use confirmation link mailed to a new account; only the token's SHA-256 is stored."""

    __tablename__ = "email_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class AuthFailure(Model):
    """One failed password or authenticator code (`kind`), counted by accounts/throttle.py.

    `account` is the SHA-256 of the normalised email, so an unknown account is counted (and throttled)
    exactly like a known one; `device` is the nonce of the known-browser cookie the attempt carried, if
    any. Rows are written on their own connection and committed at once: the failed attempt's rollback
    cannot take them back."""

    __tablename__ = "auth_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(10))
    account: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(45))
    device: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.Index("ix_auth_failures_account", "kind", "account", "at"),
        sa.Index("ix_auth_failures_address", "kind", "address", "at"),
        sa.CheckConstraint("kind IN ('password', 'code')", name="kind"),
    )


class RecoveryCode(Model):
    """One of an admin's ten single-use recovery codes, kept only as its SHA-256 (shown once)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailMessage(Model):
    """The mail queue: a message is a row written in the request's transaction and sent after the
    response (directory/mail.py), or by `flask directory mailer` if that send failed."""

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
