"""Credential numbers in each issuer's canonical form: the one identity of a credential.

Every issuer in the catalog has a number format (`Issuer.number_pattern`, `number_separators`,
`number_example`), seeded from how the issuer prints its numbers. A number as typed is trimmed,
must be plain ASCII (so a Cyrillic "С" or a full-width "１" never passes for a Latin letter or a
digit), loses the separators that do not count for that issuer, is upper-cased, and must then match
the pattern whole. The result is what claims, rosters and lookups compare: "cmt 1001", "CMT-1001"
and "CMT1001" are one CAMTC number, while "CMT-1OO1" (letter O) is refused by the pattern.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from directory.rules import RuleError

if TYPE_CHECKING:
    from directory.catalog.models import Issuer

# Where an issuer's format is unknown: ASCII letters and digits, hyphens kept as they are.
DEFAULT_PATTERN = r"[A-Z0-9]+(?:-[A-Z0-9]+)*"
DEFAULT_SEPARATORS = ""
PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*", re.ASCII)


@dataclass(frozen=True)
class NumberFormat:
    pattern: str = DEFAULT_PATTERN
    separators: str = DEFAULT_SEPARATORS
    example: str = ""

    @classmethod
    def of(cls, issuer: "Issuer") -> "NumberFormat":
        return cls(issuer.number_pattern, issuer.number_separators, issuer.number_example)


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


class NumberRefused(ValueError):
    """The number cannot be one of this issuer's; the message says why, for the person who typed it."""


def canonical(number: str, fmt: NumberFormat, issuer_name: str = "this issuer") -> str:
    """The canonical form, or NumberRefused saying what is wrong with the number as typed."""
    text = number.strip()
    if not text:
        raise NumberRefused("Give the number as it is printed on the licence or certificate.")
    if not PRINTABLE_ASCII.fullmatch(text):
        for char in text:
            if not (" " <= char <= "~"):
                raise NumberRefused(
                    f"Use only the letters A–Z, the digits 0–9 and the separators printed on the document: "
                    f"“{char}” (U+{ord(char):04X}) is not one of them."
                )
        raise NumberRefused("The number has more than one space in a row.")
    key = text.translate(str.maketrans("", "", fmt.separators)).upper()
    if not _compiled(fmt.pattern).fullmatch(key):
        shown = f" It looks like {fmt.example}." if fmt.example else ""
        raise NumberRefused(f"That is not how {issuer_name} numbers are written.{shown}")
    return key


def canonical_or_422(number: str, issuer: "Issuer") -> str:
    """For a claim or a lookup: the canonical number, or a 422 naming `number`."""
    try:
        return canonical(number, NumberFormat.of(issuer), issuer.name)
    except NumberRefused as exc:
        raise RuleError(422, str(exc), field="number") from exc


def canonical_or_none(number: str, issuer: "Issuer") -> str | None:
    """For numbers already on record: None when the number does not fit the issuer's format."""
    try:
        return canonical(number, NumberFormat.of(issuer), issuer.name)
    except NumberRefused:
        return None
