"""What every schema shares: unknown fields are refused, and strings are trimmed."""

import marshmallow as ma


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class TrimmedString(ma.fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return text.strip()


class ErrorSchema(ma.Schema):
    code = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw())
