"""Imports every model so that metadata (and Alembic's autogenerate) sees the whole schema."""

from directory.accounts.models import (
    ApiToken,
    AuthFailure,
    EmailConfirmation,
    MailMessage,
    PasswordReset,
    RecoveryCode,
    User,
    WebSession,
)
from directory.catalog.models import ClientGroup, Condition, Issuer, Technique
from directory.credentials.models import Credential, CredentialEvent, Evidence
from directory.geo.models import GeocodeCache
from directory.practitioners.models import PracticeLocation, Practitioner
from directory.reviews.models import (
    ModerationAction,
    Review,
    ReviewFlag,
    ReviewInvite,
    ReviewResponse,
    ReviewRevision,
)
from directory.search.models import SearchOutbox

__all__ = [
    "ApiToken",
    "AuthFailure",
    "EmailConfirmation",
    "MailMessage",
    "PasswordReset",
    "RecoveryCode",
    "ClientGroup",
    "Condition",
    "Credential",
    "CredentialEvent",
    "Evidence",
    "GeocodeCache",
    "Issuer",
    "ModerationAction",
    "Review",
    "ReviewFlag",
    "ReviewInvite",
    "ReviewResponse",
    "ReviewRevision",
    "PracticeLocation",
    "Practitioner",
    "SearchOutbox",
    "Technique",
    "User",
    "WebSession",
]
