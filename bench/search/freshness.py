"""How soon a change is visible to search: save a profile, then search for the word it added.

Runs in-process against a kept bench directory (`python -m bench.search.speed --keep DIR` makes one), on a
copy of its database, so the benchmark's data stays as it was. Prints median, p95 and worst, and
writes bench/results/freshness-N.json.

    python -m bench.search.freshness --keep /tmp/bench-100k --rounds 30
"""

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench import RESULTS
from bench import report as readme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", required=True, help="a directory made by bench.search.speed --keep")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    source = Path(args.keep)
    work = Path(tempfile.mkdtemp(prefix="freshness-"))
    shutil.copy(source / "directory.db", work / "directory.db")
    shutil.copytree(source / "data", work / "data")

    from directory import create_app
    from directory.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'directory.db'}",
            "DATA_DIR": str(work / "data"),
            "RATELIMIT_ENABLED": False,
        }
    )
    client = app.test_client()
    with app.app_context():
        count = db.session.execute(db.text("SELECT COUNT(*) FROM practitioners")).scalar()
    client.post(
        "/api/v1/auth/register",
        json={"email": "fresh@example.org", "password": "freshness bench", "role": "practitioner"},
    )
    # Listed once its email is confirmed: with the mailed link's token, as its owner would.
    with app.app_context():
        from directory.accounts.models import MailMessage

        mailed = db.session.scalar(
            db.select(MailMessage.body).where(MailMessage.recipient == "fresh@example.org")
        )
    confirm = re.search(r"/confirm-email/([\w-]+)", mailed).group(1)
    assert client.post("/api/v1/auth/confirm-email", json={"token": confirm}).status_code == 204
    token = client.post(
        "/api/v1/auth/tokens", json={"email": "fresh@example.org", "password": "freshness bench"}
    ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/search", query_string={"q": "pain"})  # open the index before timing
    delays = []
    for n in range(args.rounds):
        word = f"freshword{n}x"
        started = time.perf_counter()
        saved = client.put(
            "/api/v1/me/profile",
            headers=headers,
            json={"display_name": "Fresh", "approach": f"Now with {word}."},
        )
        assert saved.status_code == 200, saved.get_json()
        while client.get("/api/v1/search", query_string={"q": word}).get_json()["total"] != 1:
            if time.perf_counter() - started > 10:
                raise SystemExit(f"{word} not visible after 10 s")
        delays.append((time.perf_counter() - started) * 1000)
    delays.sort()
    figures = {
        "practitioners": count,
        "rounds": args.rounds,
        "median_ms": round(statistics.median(delays), 1),
        "p95_ms": round(delays[int(0.95 * (len(delays) - 1))], 1),
        "max_ms": round(delays[-1], 1),
    }
    print(
        f"save → visible to search at {count:,} practitioners: median {figures['median_ms']} ms, "
        f"p95 {figures['p95_ms']} ms, worst {figures['max_ms']} ms ({args.rounds} rounds)"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"freshness-{count}.json").write_text(json.dumps(figures, indent=1) + "\n")
    readme.write()  # the READMEs' tables, from every JSON file now there
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
