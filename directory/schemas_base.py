"""What every schema shares: unknown fields are refused, strings are trimmed, numbers are written in
ASCII digits, a person's name shows as written, and no text holds what cannot be stored."""

import re
import unicodedata
from typing import Any

import marshmallow as ma


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


# --- text nothing can store ---------------------------------------------------------------------------
# A NUL cannot be stored in PostgreSQL text. A lone surrogate (JSON's "\ud800" with no pair) is half of a
# UTF-16 pair, not a character: it cannot be written as UTF-8, so the database, a password hash or a log
# line fails on it. Both are refused wherever a request carries text: JSON bodies (directory/apibase.py)
# and the query string, form fields, file names and path (directory/web/inputs.py).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = (
    "Remove the NUL character or lone surrogate from this text (\\u0000, or \\ud800 to \\udfff without "
    "its pair): it cannot be stored."
)


def shown(text: str) -> str:
    """`text` as it can be quoted back in an error: a NUL or lone surrogate as its escape."""
    return UNSTORABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def unstorable(value):
    """Errors for every string in `value` (parsed JSON: keys too) that holds a NUL or a lone surrogate,
    nested like marshmallow's ({field: [message]}, list items by index); None when there are none."""
    if isinstance(value, str):
        return [UNSTORABLE_MESSAGE] if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        found = {}
        for key, item in value.items():
            if isinstance(key, str) and UNSTORABLE.search(key):
                found[shown(key)] = ["Remove the NUL character or lone surrogate from this field name."]
            elif (inner := unstorable(item)) is not None:
                found[key] = inner
        return found or None
    if isinstance(value, list):
        # Keyed by position, as marshmallow reports a list's items.
        by_index = {i: inner for i, item in enumerate(value) if (inner := unstorable(item)) is not None}
        return by_index or None
    return None


# --- strings --------------------------------------------------------------------------------------------

# What TrimmedString lets through, as the OpenAPI document says it (an ECMA and Python regex).
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class TrimmedString(ma.fields.String):
    """Text as people type it: trimmed, and without control characters other than tab and line
    breaks (a NUL cannot be stored in PostgreSQL text and has no business in a form)."""

    default_error_messages = {"control": "Remove control characters from this text."}
    pattern = NO_CONTROL_CHARACTERS

    def __init__(self, *args, **kwargs):
        validators = kwargs.get("validate") or []
        validators = validators if isinstance(validators, list | tuple) else [validators]
        # A field with its own pattern (a country code, an invite code) keeps that one in the document.
        if not any(isinstance(v, ma.validate.Regexp) for v in validators):
            kwargs["metadata"] = {"pattern": self.pattern, **(kwargs.get("metadata") or {})}
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in text):
            raise self.make_error("control")
        return text.strip()


# Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) reorder the text after them: in a
# name shown inside a sentence ("Reviewed by …", a list of practitioners) they can reverse what follows
# or make one name read as another. The marks (U+200E, U+200F, U+061C) only settle the direction of
# punctuation beside them, and people who write right to left do use them: they stay.
DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Letters and symbols that draw nothing: the Hangul fillers and the blank Braille pattern.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(ch: str) -> bool:
    """A letter, digit, punctuation mark or symbol that draws something. Not: spaces, format
    characters (zero-width joiners, word joiners, the BOM, tag characters, soft hyphens), combining
    marks on their own, controls, unassigned code points."""
    return unicodedata.category(ch)[0] in "LNPS" and ch not in BLANK_GLYPHS


class PersonName(TrimmedString):
    """A person's name as the site shows it (a practitioner's display and legal names, a reviewer's
    name): any script, but nothing that reorders the text around it, and something a reader can see."""

    default_error_messages = {
        "direction": "Remove the direction-override characters (U+202A to U+202E, U+2066 to U+2069): "
        "they change how the text around a name reads.",
        "invisible": "Give a name with visible letters: this one has only blank or invisible characters.",
    }
    # The document's pattern: no control characters, no direction overrides (the visibility rule
    # is beyond a regex both ECMA and Python read alike).
    pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if DIRECTION_CONTROLS.search(text):
            raise self.make_error("direction")
        if text and not any(_visible(ch) for ch in text):
            raise self.make_error("invisible")
        return text


# --- numbers --------------------------------------------------------------------------------------------
# A number that arrives as text (a query string, a form, a JSON string) goes through int() or float(),
# which read the digits of every script: "١٩٩٠" and "１９９０" are 1990, and "1_990" is too. Nobody
# types those meaning the number, and a code compared as text later would not match; so text is read as
# a number only when it is written as JSON writes numbers, in ASCII.
INTEGER_TEXT = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
FLOAT_TEXT = re.compile(r"\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*", re.ASCII)


class _WrittenInAscii(ma.fields.Number):  # mixed into Integer and Float only
    text_pattern: re.Pattern[str]

    def _validated(self, value: Any) -> Any:
        if isinstance(value, str) and not self.text_pattern.fullmatch(value):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Integer(_WrittenInAscii, ma.fields.Integer):
    text_pattern = INTEGER_TEXT


class Float(_WrittenInAscii, ma.fields.Float):
    text_pattern = FLOAT_TEXT


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
