"""One client process of a multi-process load: `python -m tests.ops.load '<json job>'`.

A job is practitioners saving their profiles, or an admin deciding credentials, spread over the nodes
given by port; it prints one JSON line: the statuses it got, the answers it did not expect (anything
but 200, and 409 for a decision another admin made first), and each write's time.
"""

import json
import random
import sys
import time
from functools import partial

from bench.harness.http import call


def profiles(job: dict, nodes: list[partial], out: dict) -> None:
    for round_ in range(job["rounds"]):
        for i, item in enumerate(job["practitioners"]):
            node = nodes[(round_ + i) % len(nodes)]
            word = f"{job['tag']}r{round_}p{item['pid']}"
            body = {
                "display_name": f"Load {item['pid']}",
                "approach": f"Round {round_}: {word}.",
                "accepting_clients": True,
                "languages": ["en", "es"] if round_ % 2 else ["en"],
            }
            record(out, node, "PUT", "/api/v1/me/profile", body, item["token"], allowed=(200,))


def decisions(job: dict, nodes: list[partial], out: dict) -> None:
    rng = random.Random(job["seed"])
    ids = list(job["credentials"])
    rng.shuffle(ids)
    for cid in ids:
        for action in ("verify", "revoke"):
            body = {"action": action, "reason": f"load test {action}"}
            path = f"/api/v1/admin/credentials/{cid}/decision"
            # 409: the other admin moved this credential first (one wins, the other is told).
            record(out, rng.choice(nodes), "POST", path, body, job["token"], allowed=(200, 409))


def record(out: dict, request, *args, allowed) -> None:
    started = time.perf_counter()
    try:
        status, body = request(*args)
    except OSError as exc:
        status, body = 0, {"error": repr(exc)}
    out["seconds"].append(round(time.perf_counter() - started, 4))
    out["statuses"][str(status)] = out["statuses"].get(str(status), 0) + 1
    if status not in allowed:
        out["unexpected"].append({"request": args[:2], "status": status, "body": body})


def main() -> None:
    job = json.loads(sys.argv[1])
    nodes = [partial(call, port) for port in job["ports"]]
    out: dict = {"statuses": {}, "unexpected": [], "seconds": []}
    {"profiles": profiles, "decisions": decisions}[job["kind"]](job, nodes, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
