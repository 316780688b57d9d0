"""Page forms render fields and carry CSRF tokens; the API's schemas judge the values, so a
rule is written once. This puts a schema's messages back on the form's fields."""

import marshmallow as ma


def attach_errors(form, messages: dict) -> None:
    for field, errors in messages.items():
        errors = errors if isinstance(errors, list) else [str(errors)]
        target = getattr(form, field, None)
        if target is None or not hasattr(target, "errors"):
            form.form_errors.extend(errors)
        else:
            target.errors = list(target.errors) + errors


def load_into(form, schema: ma.Schema, data: dict) -> dict | None:
    """The schema's result, or None with the form's fields carrying what is wrong."""
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        attach_errors(form, exc.messages)
        return None
