"""The one exception services raise when a rule says no; errors.py renders it in the error shape. And
the shape of what crosses the layers: a schema's loaded values, a presenter's output."""

from typing import Any

# What a schema loads and a service takes, or a presenter gives a template or the API: names to values.
Data = dict[str, Any]


class RuleError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        retry_after: int | None = None,
        errors: dict | list | None = None,
        denied: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.retry_after = retry_after
        self.errors = errors or ({field: [message]} if field else None)
        # What a form shows: the errors by field, or else the message as the form's own error.
        self.field_errors: dict[str, Any] = (
            self.errors if isinstance(self.errors, dict) else {"_schema": [message]}
        )
        # A 404 that hides someone else's object is a refusal of access, logged as one.
        self.denied = denied or status in (401, 403)
