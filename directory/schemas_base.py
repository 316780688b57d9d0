"""What every schema shares: unknown fields are refused, and strings are trimmed."""

import marshmallow as ma


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


# What TrimmedString lets through, as the OpenAPI document says it (an ECMA and Python regex).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class TrimmedString(ma.fields.String):
    """Text as people type it: trimmed, and without control characters other than tab and line
    breaks (a NUL cannot be stored in PostgreSQL text and has no business in a form)."""

    default_error_messages = {"control": "Remove control characters from this text."}

    def __init__(self, *args, **kwargs):
        validators = kwargs.get("validate") or []
        validators = validators if isinstance(validators, list | tuple) else [validators]
        # A field with its own pattern (a country code, an invite code) keeps that one in the document.
        if not any(isinstance(v, ma.validate.Regexp) for v in validators):
            kwargs["metadata"] = {"pattern": NO_CONTROL_CHARACTERS, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in text):
            raise self.make_error("control")
        return text.strip()


class ErrorSchema(ma.Schema):
    """The one error body (errors.py renders it); the OpenAPI document's Error component."""

    code = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "Its reason phrase"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, in a sentence"})
    errors = ma.fields.Raw(
        metadata={
            "description": "The fields at fault, {field: [messages]} (nested like the body); "
            "a roster import lists its bad lines instead, [{line, message}]",
            "oneOf": [{"type": "object"}, {"type": "array", "items": {"type": "object"}}],
        }
    )
    request_id = ma.fields.String(
        metadata={"description": "Quote it when reporting a problem: it finds the request in the logs"}
    )
