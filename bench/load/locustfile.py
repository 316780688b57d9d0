"""The load test's visitors, for locust: 70% search, 20% profile views, 5% reviews, 5% profile updates.

Run by bench/load/visitors.py, which prepares the database and writes the plan this file reads (LOAD_PLAN: a
JSON file with the practitioner id range, the search queries, and the tokens of accounts made for
the run). Each simulated visitor takes its own client and practitioner account, so the only 429
expected is the per-account review limit (REVIEWS_PER_HOUR) once the client accounts run out;
a 429 is recorded as a failure named "429 (intended)" so that bench/load/visitors.py can count it apart.
When locust quits, the final figures per endpoint go to LOAD_OUT (its CSV files are written every
second and can miss the last requests).
"""

import itertools
import json
import os
import random

from locust import FastHttpUser, between, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115, PTH123  (read once, at import)
QUERIES = PLAN["queries"]
LOW, HIGH = PLAN["practitioner_ids"]
# Visitors of one locust process are greenlets: a shared counter hands each its own accounts.
CLIENTS = itertools.cycle(PLAN["client_tokens"])
PRACTITIONERS = itertools.cycle(PLAN["practitioner_tokens"])
INTENDED = "429 (intended)"
# LOAD_READ_ONLY=1 drops reviews and saves: the same reads without index writes, to compare against.
WRITES = 0 if os.environ.get("LOAD_READ_ONLY") == "1" else 5
OPENINGS = (
    "Found the knots in my shoulders nobody else could, and explained what she was doing.",
    "My sciatica eased after two sessions; firm but careful pressure throughout.",
    "Good trigger point work, on time, and the exercises actually help at home.",
)
WORDS = ("trigger point", "myofascial release", "sports massage", "desk workers", "runners", "posture")


def checked(response, allowed_429: bool = False) -> None:
    """Anything but 2xx is an error, except an intended 429, which is counted apart."""
    if response.status_code == 429 and allowed_429:
        response.failure(INTENDED)
    elif not 200 <= response.status_code < 300:
        response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
    else:
        response.success()


@events.quit.add_listener
def write_figures(**kwargs) -> None:
    stats = ENVIRONMENT[0].stats
    errors: dict[str, list[int]] = {}
    for error in stats.errors.values():
        counts = errors.setdefault(error.name, [0, 0])
        counts[1 if error.error == INTENDED else 0] += error.occurrences
    rows = []
    for entry in [*sorted(stats.entries.values(), key=lambda e: e.name), stats.total]:
        failed, intended = (
            errors.get(entry.name, [0, 0])
            if entry is not stats.total
            else [sum(e[0] for e in errors.values()), sum(e[1] for e in errors.values())]
        )
        rows.append(
            {
                "endpoint": entry.name if entry is not stats.total else "all",
                "requests": entry.num_requests,
                "rps": round(entry.total_rps, 1),
                **{
                    f"p{p}_ms": entry.get_response_time_percentile(p / 100) if entry.num_requests else None
                    for p in (50, 95, 99)
                },
                "max_ms": round(entry.max_response_time or 0),
                "errors": failed,
                "intended_429": intended,
            }
        )
    samples = [
        {"endpoint": e.name, "error": str(e.error), "count": e.occurrences} for e in stats.errors.values()
    ]
    with open(os.environ["LOAD_OUT"], "w") as fh:  # noqa: PTH123
        json.dump({"endpoints": rows, "error_messages": samples}, fh)


ENVIRONMENT: list = []
events.init.add_listener(lambda environment, **kwargs: ENVIRONMENT.append(environment))


class Visitor(FastHttpUser):
    wait_time = between(
        float(os.environ.get("LOAD_WAIT_MIN", "0.05")), float(os.environ.get("LOAD_WAIT_MAX", "0.25"))
    )

    def on_start(self) -> None:
        self.rng = random.Random()
        self.practitioner = next(PRACTITIONERS)
        self.saves = 0

    def pid(self) -> int:
        return self.rng.randint(LOW, HIGH)

    # -- 70% search: the API 5 in 7, the HTML page 2 in 7 ------------------------------------------
    @task(50)
    def search_api(self) -> None:
        params = self.rng.choice(QUERIES)
        with self.client.get(
            "/api/v1/search", params=params, name="GET /api/v1/search", catch_response=True
        ) as r:
            checked(r)

    @task(20)
    def search_page(self) -> None:
        params = self.rng.choice(QUERIES)
        with self.client.get("/", params=params, name="GET / (search page)", catch_response=True) as r:
            checked(r)

    # -- 20% profile views: page and API alike --------------------------------------------------
    @task(10)
    def profile_page(self) -> None:
        with self.client.get(
            f"/practitioners/{self.pid()}", name="GET /practitioners/<id>", catch_response=True
        ) as r:
            checked(r)

    @task(10)
    def profile_api(self) -> None:
        with self.client.get(
            f"/api/v1/practitioners/{self.pid()}", name="GET /api/v1/practitioners/<id>", catch_response=True
        ) as r:
            checked(r)

    # -- 5% reviews by clients -------------------------------------------------------------------
    @task(WRITES)
    def review(self) -> None:
        # One review per account and practitioner: a fresh random practitioner each time (a repeat
        # among 100,000 is negligible, and would show as a 409 error, not be hidden).
        token = next(CLIENTS)  # the next account, so the hourly limit is met only on wrap-around
        with self.client.post(
            f"/api/v1/practitioners/{self.pid()}/reviews",
            json={
                "rating": self.rng.randint(3, 5),
                "body": self.rng.choice(OPENINGS),
                "author_name": "Load T.",
            },
            headers={"Authorization": f"Bearer {token}"},
            name="POST /api/v1/practitioners/<id>/reviews",
            catch_response=True,
        ) as r:
            checked(r, allowed_429=True)

    # -- 5% profile updates by practitioners ------------------------------------------------------
    @task(WRITES)
    def update_profile(self) -> None:
        self.saves += 1
        token, number = self.practitioner
        with self.client.put(
            "/api/v1/me/profile",
            json={
                "display_name": f"Load Practitioner {number}",
                "headline": f"{self.rng.choice(WORDS).title()} for {self.rng.choice(WORDS)}",
                "approach": f"Save {self.saves}: I work with {self.rng.choice(WORDS)} and {self.rng.choice(WORDS)}.",
                "techniques": self.rng.sample(PLAN["techniques"], 2),
                "practicing_since": 2010,
                "languages": ["en"],
                "accepting_clients": True,
                "price_min": 60,
                "price_max": 120,
            },
            headers={"Authorization": f"Bearer {token}"},
            name="PUT /api/v1/me/profile",
            catch_response=True,
        ) as r:
            checked(r)
