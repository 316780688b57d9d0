"""The one exception services raise when a rule says no; errors.py renders it in the error shape."""


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
        # A 404 that hides someone else's object is a refusal of access, logged as one.
        self.denied = denied or status in (401, 403)
