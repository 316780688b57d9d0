"""Page forms render fields and carry CSRF tokens; the API's schemas judge the values, so a
rule is written once. This puts a schema's messages back on the form's fields."""

from dataclasses import dataclass

import marshmallow as ma
import wtforms

from directory.rules import RuleError
from directory.schemas_base import FLOAT_TEXT, INTEGER_TEXT


class _NumberText:
    """WTForms reads a number box with int() or float(), which take any script's digits ("١٩٩٠" is
    1990): text not written as a number in ASCII is handed to the schema as it is, for the schema to
    refuse with its own message (schemas_base.Integer, Float)."""

    text_pattern = INTEGER_TEXT

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0] and not self.text_pattern.fullmatch(valuelist[0]):
            self.data = valuelist[0]
            return
        super().process_formdata(valuelist)


class IntegerField(_NumberText, wtforms.IntegerField):
    pass


class FloatField(_NumberText, wtforms.FloatField):
    text_pattern = FLOAT_TEXT


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


@dataclass
class Outcome:
    """What a page form's submission came to: the service's result, or the status to answer with."""

    done: bool
    result: object = None
    status: int = 422
    headers: dict | None = None


def submit(form, schema: ma.Schema, action, page_errors=(403, 404)) -> Outcome:
    """Check the form with the API's schema, then call the service. A refusal the page itself should
    answer (`page_errors`) propagates; any other lands on the form, with its status (and Retry-After)."""
    form.validate_on_submit()
    data = load_into(form, schema, form.payload())
    if data is None:
        return Outcome(False)
    try:
        return Outcome(True, action(data), 200)
    except RuleError as exc:
        if exc.status in page_errors:
            raise
        attach_errors(form, exc.errors or {"_schema": [exc.message]})
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Outcome(False, None, exc.status, headers)
