"""The invariants of the crash bench, checked from outside the node, and the index damage phases.

After each kill (the load paused, what died restarted): every acknowledged write is in the database;
`flask directory audit-verify` passes; once the node has caught up, its index equals the database
(directory/search/consistency.py, practitioner by practitioner, field by field); every file in the
evidence folder is named by a row, and every row's file is there with the bytes it was given.
"""

import contextlib
import hashlib
import os
import random
import shutil
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import sqlalchemy as sa

from bench.faults.crashkit import call

SEARCH = "/api/v1/search?q=crashword&per_page=5"


def _poke(port: int, times: int = 4) -> None:
    """A few searches at once, so every worker serves one (each catches up, and sweeps at its first)."""
    threads = [threading.Thread(target=_quiet_search, args=(port,)) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _quiet_search(port: int) -> None:
    with contextlib.suppress(OSError):
        call(port, "GET", SEARCH, timeout=30)


class Checker:
    """Runs inside an app context on the node's database and data folder (not the node's processes)."""

    def __init__(self, app, node, people: dict, settle_seconds: float = 20.0):
        self.app, self.node, self.people = app, node, people
        self.settle_seconds = settle_seconds

    def all(self, ledger) -> dict:
        from directory.extensions import db

        db.session.remove()  # a fresh view of the database
        result = {"lost": self.lost_writes(ledger), "audit": self.audit()}
        result["index"] = self.index()
        result["evidence"] = self.evidence()
        db.session.remove()
        return result

    @staticmethod
    def failures(result: dict) -> int:
        return (
            len(result["lost"])
            + (0 if result["audit"]["ok"] else 1)
            + result["index"]["count"]
            + len(result["evidence"]["orphaned"])
            + len(result["evidence"]["missing"])
            + len(result["evidence"]["torn"])
        )

    # -- acknowledged writes ---------------------------------------------------------------------
    def lost_writes(self, ledger) -> list[dict]:
        from directory.credentials.models import Credential, CredentialEvent, Evidence
        from directory.extensions import db
        from directory.practitioners.models import PracticeLocation, Practitioner
        from directory.reviews.models import Review

        with ledger.lock:
            writes = list(ledger.writes)
        lost: list[dict] = []
        approach = dict(db.session.execute(sa.select(Practitioner.id, Practitioner.approach)).all())
        bodies = dict(db.session.execute(sa.select(Review.id, Review.body)).all())
        lost += _overwrites(writes, "profile", approach)
        lost += _overwrites(writes, "review", bodies)
        # By id and label: SQLite hands the highest id out again once its row is deleted.
        places = set(db.session.execute(sa.select(PracticeLocation.id, PracticeLocation.label)).all())
        deleting = {(w["key"], w["value"]) for w in writes if w["kind"] == "place-delete"}
        for w in writes:
            if not w["acked"]:
                continue
            place = (w["key"], w["value"])
            if w["kind"] == "place" and place not in places and place not in deleting:
                lost.append({"kind": "place", "key": w["key"], "problem": "added, acknowledged, gone"})
            if w["kind"] == "place-delete" and place in places:
                lost.append(
                    {"kind": "place-delete", "key": w["key"], "problem": "deleted, acknowledged, still there"}
                )
        numbers = {
            number: (cid, pid)
            for cid, number, pid in db.session.execute(
                sa.select(Credential.id, Credential.number, Credential.practitioner_id)
            )
        }
        evidence = {
            (cid, digest)
            for cid, digest in db.session.execute(sa.select(Evidence.credential_id, Evidence.sha256))
        }
        for w in writes:
            if not w["acked"]:
                continue
            if w["kind"] == "credential":
                found = numbers.get(w["key"])
                if (
                    found is None
                    or found[1] != w["value"]["pid"]
                    or (found[0], w["value"]["sha256"]) not in evidence
                ):
                    lost.append(
                        {
                            "kind": "credential",
                            "key": w["key"],
                            "problem": "submitted, acknowledged, not there",
                        }
                    )
            if w["kind"] == "evidence" and (w["key"], w["value"]) not in evidence:
                lost.append(
                    {"kind": "evidence", "key": w["key"], "problem": "resubmitted, acknowledged, not there"}
                )
        admin = self.people["admin"].user_id
        events = Counter(
            db.session.execute(
                sa.select(CredentialEvent.credential_id, CredentialEvent.to_status).where(
                    CredentialEvent.actor_id == admin
                )
            ).all()
        )
        decided = Counter((w["key"], w["value"]) for w in writes if w["kind"] == "decision" and w["acked"])
        for (cid, status), count in decided.items():
            if events[(cid, status)] < count:
                lost.append(
                    {
                        "kind": "decision",
                        "key": cid,
                        "problem": f"{count} acknowledged {status}, {events[(cid, status)]} recorded",
                    }
                )
        return lost

    # -- the audit chain -------------------------------------------------------------------------
    def audit(self) -> dict:
        outcome = self.app.test_cli_runner().invoke(args=["directory", "audit-verify"])
        return {"ok": outcome.exit_code == 0, "output": outcome.output.strip()[-500:]}

    # -- the index -------------------------------------------------------------------------------
    def index(self) -> dict:
        """Ask the node to catch up (a search does), then compare; again until equal or out of time."""
        from directory.extensions import db
        from directory.search.consistency import compare_store
        from directory.search.index import IndexStore

        store = IndexStore(str(self.node.data_dir))
        deadline = time.monotonic() + self.settle_seconds
        attempts = 0
        while True:
            attempts += 1
            _poke(self.node.port, times=1)
            db.session.remove()
            try:
                result = compare_store(store, limit=10)
            except Exception as exc:  # noqa: BLE001  (IndexUnavailable, or any failure to read a damaged one)
                # Damage the node has not noticed yet reads as garbage here (a zlib or unpickling error) as
                # it does in a search, which the next search's check turns into a rebuild: asked again until
                # the deadline, and reported as a mismatch if it stays.
                problem = f"{type(exc).__name__}: {exc}"
                result = {"practitioners": 0, "count": 1, "mismatches": [{"pid": None, "problem": problem}]}
            if result["count"] == 0 or time.monotonic() > deadline:
                return result | {"attempts": attempts}
            time.sleep(0.3)

    # -- evidence files --------------------------------------------------------------------------
    def evidence(self) -> dict:
        from directory.credentials.models import Evidence
        from directory.extensions import db

        folder = self.node.data_dir / "evidence"
        deadline = time.monotonic() + self.settle_seconds
        while True:
            db.session.remove()
            rows = dict(db.session.execute(sa.select(Evidence.stored_name, Evidence.sha256)).all())
            files = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
            orphaned = sorted(files - rows.keys())
            if not orphaned or time.monotonic() > deadline:
                break
            _poke(self.node.port)  # a restarted worker sweeps before its first request
            time.sleep(0.2)
        missing = sorted(rows.keys() - files)
        torn = sorted(
            name
            for name in rows.keys() & files
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != rows[name]
        )
        return {
            "files": len(files),
            "rows": len(rows),
            "orphaned": orphaned,
            "missing": missing,
            "torn": torn,
        }


def _overwrites(writes: list[dict], kind: str, found: dict) -> list[dict]:
    """A key written over and over by one thread holds its last acknowledged value, or the value of
    an attempt after it that got no answer (it may have committed before the server died)."""
    allowed: dict = {}
    for w in writes:
        if w["kind"] != kind or w["key"] is None:
            continue
        if w["acked"]:
            allowed[w["key"]] = {w["value"]}
        elif w["key"] in allowed:
            allowed[w["key"]].add(w["value"])
    return [
        {"kind": kind, "key": key, "problem": f"holds {found.get(key)!r}, not the last acknowledged value"}
        for key, values in allowed.items()
        if found.get(key) not in values
    ]


# -- damaging the index while the node serves -------------------------------------------------------
DAMAGES = ("delete", "corrupt-segments", "corrupt-current")


def damage(search_root: Path, how: str, rng: random.Random) -> str:
    """Delete the index folder, or garble it: truncate and overwrite segment files, or the pointer."""
    if how == "delete":
        shutil.rmtree(search_root, ignore_errors=True)
        return "deleted the whole index folder"
    live = (search_root / (search_root / "CURRENT").read_text().strip()).resolve()
    if how == "corrupt-current":
        (search_root / "CURRENT").write_bytes(os.urandom(24))
        return "garbled CURRENT"
    files = sorted(p for p in live.iterdir() if p.name.startswith(("MAIN_", "_MAIN_")) and p.stat().st_size)
    done = []
    for number, path in enumerate(files):
        try:
            data = bytearray(path.read_bytes())
        except FileNotFoundError:
            continue  # dropped by a commit finishing just now
        if number % 2 == 0:
            path.write_bytes(bytes(data[: len(data) // 2]))
            done.append(f"truncated {path.name}")
        else:
            for _ in range(max(1, len(data) // 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data))
            done.append(f"garbled {path.name}")
    return "; ".join(done)


def damage_phase(node, load, checker, ledger, how: str, rng: random.Random, timeout: float = 120.0) -> dict:
    """Searches all along; the writes stop only for the instant of the damage. Every search must get
    200 (`degraded` allowed), a new index must go live, and then equal the database."""
    from directory.search.index import IndexStore

    store = IndexStore(str(node.data_dir))
    answers: Counter = Counter()
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            try:
                status, body = call(node.port, "GET", SEARCH, timeout=30)
            except OSError as exc:
                answers[f"no answer ({type(exc).__name__})"] += 1
                continue
            answers["200 degraded" if status == 200 and (body or {}).get("degraded") else str(status)] += 1

    searcher = threading.Thread(target=search, daemon=True)
    workers_before = set(node.worker_pids())
    load.start()
    searcher.start()
    time.sleep(rng.uniform(0.3, 1.0))
    load.pause()
    before = store.current()
    what = damage(store.root, how, rng)
    started = time.monotonic()
    load.start()
    while time.monotonic() - started < timeout:
        now = store.current()
        if now is not None and now != before and (now / "progress.json").exists():
            break
        time.sleep(0.05)
    rebuilt = time.monotonic() - started
    time.sleep(1.0)  # searches and writes on the new index
    stop.set()
    searcher.join(timeout=60)
    load.pause()
    result = checker.all(ledger)
    deaths = len(workers_before - set(node.worker_pids()))
    bad = sum(n for key, n in answers.items() if not key.startswith("200"))
    return {
        "damage": how,
        "what": what,
        "searches": sum(answers.values()),
        "answers": dict(answers),
        "not_200": bad,
        "degraded": answers["200 degraded"],
        "rebuilt_seconds": round(rebuilt, 2) if rebuilt < timeout else None,
        "worker_deaths": deaths,
        "checks": result,
        "failures": Checker.failures(result) + bad + deaths + (0 if rebuilt < timeout else 1),
    }


def group_lost(results: list[dict]) -> dict:
    """Distinct lost writes by kind, over every check."""
    by_kind: dict = defaultdict(set)
    for result in results:
        for item in result["lost"]:
            by_kind[item["kind"]].add((item["key"], item["problem"]))
    return {kind: len(items) for kind, items in by_kind.items()}
