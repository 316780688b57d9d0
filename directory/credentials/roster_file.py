"""Reading an issuer's roster: a CSV `number,name,status,expires_on[,issued_on]` in UTF-8.

Every line is checked before anything is applied, so a file with one bad line changes nothing, and
every bad line is named. Numbers are read in the issuer's canonical form (numbers.py), the form claims
are compared in.
"""

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from directory.credentials import numbers, standing
from directory.rules import RuleError
from directory.timeutil import day

HEADER = ("number", "name", "status", "expires_on")
HEADER_WITH_ISSUE = (*HEADER, "issued_on")
MAX_BYTES = 20 * 1024 * 1024
MAX_NUMBER, MAX_NAME = 80, 200
# A file with thousands of bad lines is usually one systematic mistake; the first ones show it.
MAX_LISTED_ERRORS = 200
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    number: str
    key: str  # the issuer's canonical form
    name: str
    status: str
    expires_on: date | None
    issued_on: date | None = None

    def inactive_reason(self, today: date) -> str | None:
        if self.status.casefold() != "active":
            return f"The roster lists it as {self.status}."
        if standing.past(self.expires_on, today):
            return f"The roster says it expired on {day(self.expires_on)}."
        return None


def read_bytes(stream) -> bytes:
    data = bytes(stream) if isinstance(stream, bytes | bytearray) else stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise RuleError(413, f"The roster is larger than {MAX_BYTES // (1024 * 1024)} MB.", field="file")
    return data


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RuleError(
            422,
            f"The roster is not UTF-8 text (line {line} has the byte 0x{data[exc.start]:02x}). "
            "Save it as “CSV UTF-8” and upload it again.",
            field="file",
        ) from exc


def parse_roster(data: bytes, issuer) -> list[RosterRow]:
    """Every row, or RuleError 422 listing every bad line as {line, message} (header = line 1)."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RuleError(422, f"The first line is not readable as CSV: {exc}.", field="file") from exc
    if header is None:
        raise RuleError(422, "The roster is empty.", field="file")
    columns = tuple(h.strip().lower() for h in header)
    if columns not in (HEADER, HEADER_WITH_ISSUE):
        shown = ",".join(header)[:200]
        raise RuleError(
            422,
            f"The first line must be the header {','.join(HEADER)} (and optionally ,issued_on), "
            f"not “{shown}”.",
            field="file",
        )
    fmt = numbers.NumberFormat.of(issuer)
    rows: list[RosterRow] = []
    errors: list[dict] = []
    first_line: dict[str, int] = {}
    previous = reader.line_num
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            row, problems = _row(line, cells, len(columns), fmt, issuer.name, first_line)
            errors.extend({"line": line, "message": p} for p in problems)
            if row is not None and not problems:
                rows.append(row)
    except csv.Error as exc:
        errors.append({"line": previous + 1, "message": f"Not readable as CSV: {exc}; reading stopped here."})
    if errors:
        listed = errors[:MAX_LISTED_ERRORS]
        more = f" (the first {len(listed)} are listed)" if len(errors) > len(listed) else ""
        raise RuleError(
            422,
            f"Nothing was applied: the roster has {len(errors)} problem{'s' * (len(errors) != 1)}"
            f"{more}. Correct the file and upload it again.",
            errors=listed,
        )
    if not rows:
        raise RuleError(422, "The roster has a header but no rows.", field="file")
    return rows


def _row(
    line: int, cells: list[str], width: int, fmt, issuer_name: str, first_line: dict[str, int]
) -> tuple[RosterRow | None, list[str]]:
    if len(cells) != width:
        names = ",".join(HEADER_WITH_ISSUE[:width])
        return None, [f"Expected {width} columns ({names}), found {len(cells)}."]
    number, name, status, expires, *issued = (c.strip() for c in cells)
    problems = []
    key = ""
    if not number:
        problems.append("The number is empty.")
    elif len(number) > MAX_NUMBER:
        problems.append(f"The number is longer than {MAX_NUMBER} characters.")
    else:
        try:
            key = numbers.canonical(number, fmt, issuer_name)
        except numbers.NumberRefused as exc:
            problems.append(f"The number “{number[:40]}”: {exc}")
        else:
            if (seen := first_line.setdefault(key, line)) != line:
                problems.append(f"The number {number} appears again (first on line {seen}).")
    if not name:
        problems.append("The name is empty.")
    elif len(name) > MAX_NAME:
        problems.append(f"The name is longer than {MAX_NAME} characters.")
    if not status:
        problems.append("The status is empty (active, inactive, suspended, expired, revoked …).")
    expires_on = _date("expires_on", expires, problems)
    issued_on = _date("issued_on", issued[0], problems) if issued else None
    return RosterRow(line, number, key, name, status, expires_on, issued_on), problems


def _date(column: str, text: str, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        if not DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{column} “{text[:40]}” is not a date written YYYY-MM-DD.")
        return None
