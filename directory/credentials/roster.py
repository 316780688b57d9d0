"""Primary-source roster import: an issuer's own list of who holds which number.

A roster is a CSV `number,name,status,expires_on` (UTF-8). Every line is checked before anything is
applied, so a file with one bad line changes nothing. Then each pending credential of the issuer whose
number is on an active row, held by someone whose name matches the row's, is verified (method
`roster`) through lifecycle.transition, all in one transaction. Verified credentials whose row is
missing or inactive are only reported as lapsed: a roster can be stale or partial, so taking a badge
away stays a person's decision.
"""

import codecs
import csv
import hashlib
import io
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from tqdm import tqdm

from directory.accounts.models import User
from directory.catalog.models import Issuer
from directory.credentials import lifecycle
from directory.credentials.models import Credential
from directory.extensions import db
from directory.logs import security_event
from directory.practitioners.models import Practitioner
from directory.rules import RuleError
from directory.timeutil import today_utc

HEADER = ("number", "name", "status", "expires_on")
MAX_BYTES = 20 * 1024 * 1024
MAX_NUMBER, MAX_NAME = 80, 200
# A file with thousands of bad lines is usually one systematic mistake; the first ones show it.
MAX_LISTED_ERRORS = 200
REASON = "Matched the issuer's roster"
LOAD_CHUNK = 500
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
# Apostrophes join (O'Brien = OBrien); every other non-alphanumeric character separates tokens.
MAX_EXTRA_WORDS = 2
APOSTROPHES = str.maketrans("", "", "'\u2019\u02bc`")


@dataclass(frozen=True, slots=True)
class RosterRow:
    line: int
    number: str
    name: str
    status: str
    expires_on: date | None

    def inactive_reason(self, today: date) -> str | None:
        if self.status.casefold() != "active":
            return f"The roster lists it as {self.status}."
        if self.expires_on and self.expires_on < today:
            return f"The roster says it expired on {self.expires_on.isoformat()}."
        return None


# -- names --------------------------------------------------------------------------------------------


def name_tokens(name: str) -> frozenset[str]:
    """Accents, case, punctuation, order and middle initials set aside: {"casey", "lin"}."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    plain = plain.translate(APOSTROPHES)
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return frozenset(w for w in words if len(w) > 1)


def names_match(a: str, b: str) -> bool:
    """The same person's name as two sources write it ("Lin, Casey A." and "Casey Lin").

    Equal token sets match; so does one name inside the other when it keeps at least two words and the
    other adds at most two, for a middle or second surname one source leaves out, or titles one adds
    ("Dr. Casey Lin, LMT"). A single word must match exactly: a lone surname in common is not enough,
    and neither is a name inside a longer business name."""
    x, y = name_tokens(a), name_tokens(b)
    if not x or not y:
        return False
    if x == y:
        return True
    smaller, larger = (x, y) if len(x) <= len(y) else (y, x)
    return len(smaller) >= 2 and len(larger) - len(smaller) <= MAX_EXTRA_WORDS and smaller <= larger


def number_key(number: str) -> str:
    # Case only: boards print "CMT-1001", people type "cmt-1001". Dropping hyphens or spaces could
    # make two different numbers one.
    return number.strip().casefold()


# -- reading ------------------------------------------------------------------------------------------


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


def parse_roster(data: bytes) -> list[RosterRow]:
    """Every row, or RuleError 422 listing every bad line as {line, message} (header = line 1)."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RuleError(422, f"The first line is not readable as CSV: {exc}.", field="file") from exc
    if header is None:
        raise RuleError(422, "The roster is empty.", field="file")
    if tuple(h.strip().lower() for h in header) != HEADER:
        shown = ",".join(header)[:200]
        raise RuleError(
            422, f"The first line must be the header {','.join(HEADER)}, not “{shown}”.", field="file"
        )
    rows: list[RosterRow] = []
    errors: list[dict] = []
    first_line: dict[str, int] = {}
    previous = reader.line_num
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            row, problems = _row(line, cells, first_line)
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


def _row(line: int, cells: list[str], first_line: dict[str, int]) -> tuple[RosterRow | None, list[str]]:
    if len(cells) != len(HEADER):
        return None, [f"Expected 4 columns ({','.join(HEADER)}), found {len(cells)}."]
    number, name, status, expires = (c.strip() for c in cells)
    problems = []
    if not number:
        problems.append("The number is empty.")
    elif len(number) > MAX_NUMBER:
        problems.append(f"The number is longer than {MAX_NUMBER} characters.")
    elif (seen := first_line.setdefault(number_key(number), line)) != line:
        problems.append(f"The number {number} appears again (first on line {seen}).")
    if not name:
        problems.append("The name is empty.")
    elif len(name) > MAX_NAME:
        problems.append(f"The name is longer than {MAX_NAME} characters.")
    if not status:
        problems.append("The status is empty (active, inactive, suspended, expired, revoked …).")
    expires_on = None
    if expires:
        try:
            if not DATE.fullmatch(expires):
                raise ValueError
            expires_on = date.fromisoformat(expires)
        except ValueError:
            problems.append(f"expires_on “{expires[:40]}” is not a date written YYYY-MM-DD.")
    return RosterRow(line, number, name, status, expires_on), problems


# -- matching and applying ----------------------------------------------------------------------------


def issuer_by_slug(slug: str) -> Issuer:
    issuer = db.session.scalar(sa.select(Issuer).where(Issuer.slug == slug))
    if issuer is None:
        raise RuleError(404, f"No issuer {slug}. See /api/v1/issuers.")
    return issuer


def default_admin(email: str | None) -> User:
    """The acting admin for the command line: the one named, or the only one there is."""
    query = sa.select(User).where(User.role == "admin")
    if email:
        admin = db.session.scalar(query.where(sa.func.lower(User.email) == email.strip().lower()))
        if admin is None:
            raise RuleError(404, f"No admin account {email}.", field="admin")
        return admin
    admins = list(db.session.scalars(query.order_by(User.id).limit(2)))
    if len(admins) != 1:
        raise RuleError(
            422,
            "Name the acting admin with --admin EMAIL."
            if admins
            else "There is no admin account: create one with `directory create-admin`.",
            field="admin",
        )
    return admins[0]


def import_roster(
    admin: User, issuer_slug: str, stream, progress: bool = False, dry_run: bool = False
) -> dict:
    """Check the whole file, then verify every matching pending credential in one transaction.

    `stream` is bytes or a binary file. Returns {rows, matched, verified, mismatched, lapsed, errors,
    …, details}; raises RuleError (403, 404, 409, 413, 422) with nothing applied."""
    started = time.perf_counter()
    if admin is None or admin.role != "admin":
        raise RuleError(403, "Only an admin imports rosters.")
    issuer = issuer_by_slug(issuer_slug)
    data = read_bytes(stream)
    rows = parse_roster(data)
    plan = _plan(admin, issuer, rows, progress)
    if not dry_run:
        _verify(admin, plan["to_verify"], progress)
        security_event("roster.import", issuer=issuer.slug, verified=len(plan["to_verify"]), rows=len(rows))
    return {
        "issuer": issuer.slug,
        "rows": len(rows),
        "matched": plan["matched"],
        "verified": len(plan["to_verify"]),
        "mismatched": len(plan["mismatched"]),
        "lapsed": len(plan["lapsed"]),
        "errors": [],
        "dry_run": dry_run,
        "sha256": hashlib.sha256(data).hexdigest(),
        "seconds": round(time.perf_counter() - started, 3),
        "details": {
            "mismatched": plan["mismatched"],
            "lapsed": plan["lapsed"],
            "expiry_differs": plan["expiry_differs"],
            "pending_not_on_roster": plan["pending_not_on_roster"],
        },
    }


def _holdings(issuer: Issuer) -> dict[str, list]:
    """The issuer's pending and verified credentials with their holders, in one query, by number."""
    records = db.session.execute(
        sa.select(
            Credential.id,
            Credential.number,
            Credential.status,
            Credential.expires_on,
            Credential.practitioner_id,
            Practitioner.display_name,
            Practitioner.user_id,
        )
        .join(Practitioner, Practitioner.id == Credential.practitioner_id)
        .where(Credential.issuer_id == issuer.id, Credential.status.in_(("pending", "verified")))
        .order_by(Credential.id)
    ).all()
    by_number: dict[str, list] = defaultdict(list)
    for record in records:
        by_number[number_key(record.number)].append(record)
    return by_number


def _plan(admin: User, issuer: Issuer, rows: list[RosterRow], progress: bool) -> dict:
    today = today_utc()
    holdings = _holdings(issuer)
    matched, to_verify = 0, []
    mismatched, lapsed, expiry_differs = [], [], []
    seen: set[str] = set()

    def item(record, row: RosterRow | None, reason: str) -> dict:
        return {
            "credential_id": record.id,
            "number": record.number,
            "practitioner_id": record.practitioner_id,
            "line": row.line if row else None,
            "reason": reason,
        }

    for row in tqdm(rows, desc="Matching roster", unit=" rows", disable=not progress):
        key = number_key(row.number)
        records = holdings.get(key)
        if not records:
            continue
        seen.add(key)
        matched += 1
        inactive = row.inactive_reason(today)
        for record in records:
            if row.expires_on and row.expires_on != record.expires_on:
                expiry_differs.append(
                    {
                        "credential_id": record.id,
                        "number": record.number,
                        "line": row.line,
                        "on_record": record.expires_on,
                        "roster": row.expires_on,
                    }
                )
            if record.status == "verified":
                if inactive and _live(record, today):
                    lapsed.append(item(record, row, inactive))
            elif inactive:
                mismatched.append(item(record, row, inactive))
            elif not names_match(row.name, record.display_name):
                mismatched.append(
                    item(record, row, f"The roster's name “{row.name}” is not “{record.display_name}”.")
                )
            elif record.user_id == admin.id:
                mismatched.append(item(record, row, "Your own credential: another admin must decide on it."))
            else:
                to_verify.append(record.id)
    pending_not_on_roster = 0
    for key, records in holdings.items():
        if key in seen:
            continue
        for record in records:
            if record.status == "pending":
                pending_not_on_roster += 1
            elif _live(record, today):
                lapsed.append(item(record, None, "Not on the roster."))
    lapsed.sort(key=lambda x: x["credential_id"])
    return {
        "matched": matched,
        "to_verify": to_verify,
        "mismatched": mismatched,
        "lapsed": lapsed,
        "expiry_differs": expiry_differs,
        "pending_not_on_roster": pending_not_on_roster,
    }


def _live(record, today: date) -> bool:
    # A verified credential already past its own expiry reads as expired: no badge left to lapse.
    return not (record.expires_on and record.expires_on < today)


def _chunks(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _verify(admin: User, ids: list[int], progress: bool) -> None:
    """All or nothing: one commit at the end; any failure rolls every verification back."""
    try:
        with tqdm(total=len(ids), desc="Verifying", unit=" credentials", disable=not progress) as bar:
            for chunk in _chunks(ids, LOAD_CHUNK):
                credentials = db.session.scalars(
                    sa.select(Credential)
                    .where(Credential.id.in_(chunk))
                    .options(selectinload(Credential.practitioner), selectinload(Credential.evidence))
                ).all()
                for credential in credentials:
                    lifecycle.transition(credential, "verify", admin, reason=REASON, method="roster")
                bar.update(len(credentials))
        db.session.commit()
    except (StaleDataError, sa.exc.IntegrityError, RuleError) as exc:
        db.session.rollback()
        raise RuleError(
            409,
            "A credential changed while the roster was being applied, so nothing was applied. "
            "Upload the roster again.",
        ) from exc
    except BaseException:
        db.session.rollback()
        raise
