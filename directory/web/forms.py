"""Page forms render fields and carry CSRF tokens; the API's schemas judge the values, so a
rule is written once. This puts a schema's messages back on the form's fields."""

from dataclasses import dataclass

import marshmallow as ma
import wtforms
from flask import flash, redirect

from directory.rules import RuleError
from directory.schemas_base import FLOAT_TEXT, INTEGER_TEXT


class _NumberText(wtforms.Field):
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
        attach_errors(form, exc.normalized_messages())
        return None


@dataclass
class Outcome:
    """What a page form's submission came to: the service's result, or the status to answer with
    (and the refusal, for a page that shows it somewhere other than on the form)."""

    done: bool
    result: object = None
    status: int = 422
    headers: dict | None = None
    refusal: RuleError | None = None


def submit(
    form, schema: ma.Schema | None, action, page_errors=(403, 404), on_form: bool = True, values=None
) -> Outcome:
    """Check the form (CSRF, a required file), then its values (`values`, else `form.payload()`) with
    the API's schema (None: the form carries no values, only a file), then call the service. A refusal the page itself should answer
    (`page_errors`) propagates; any other lands on the form (unless `on_form` is False), with its
    status (and Retry-After)."""
    if not form.validate_on_submit():
        return Outcome(False)
    if schema is None:
        data: dict | None = {}
    else:
        data = load_into(form, schema, form.payload() if values is None else values)
    if data is None:
        return Outcome(False)
    try:
        return Outcome(True, action(data), 200)
    except RuleError as exc:
        if exc.status in page_errors:
            raise
        if on_form:
            attach_errors(form, exc.field_errors)
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Outcome(False, None, exc.status, headers, exc)


def form_page(form, schema: ma.Schema | None, action, *, done, again, guard=None, **options):
    """Every page form, one way: the page itself until the form is submitted; then `submit`, and
    `done(result)` (as a rule a flash and a redirect: see `flashed`) or `again(outcome)`, the page
    rendered again at the outcome's status with the form carrying what is wrong.

    `guard(data)`, between the checks and the service, may answer instead (a redirect to sign in
    afresh): a step that needs no service call when the values are wrong anyway."""
    if not form.is_submitted():
        return again(Outcome(False, status=200))
    answer = None

    def act(data):
        nonlocal answer
        answer = guard(data) if guard is not None else None
        return None if answer is not None else action(data)

    outcome = submit(form, schema, act, **options)
    if answer is not None:
        return answer
    return done(outcome.result) if outcome.done else again(outcome)


def flashed(url: str, message: str, category: str = "success"):
    """The usual end of a form that worked: say so on the next page."""
    flash(message, category)
    return redirect(url)
