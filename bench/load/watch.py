"""What the load bench watches beside locust: the workers' memory every so often, and wrk's rate
for one search beside the same server's /healthz."""

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable

from bench.harness.processes import step

# The one search wrk repeats: words and a place, as the search box sends them.
WRK_SEARCH = "/api/v1/search?q=knots+in+my+shoulders&lat=40.7128&lon=-74.0060&radius_km=25"
WRK_CONNECTIONS, WRK_THREADS = 8, 2


class MemoryWatch:
    """Every `every` seconds, each worker's RSS and the load average, printed as it goes."""

    def __init__(self, rss: Callable[[], list[float | None]], every: float) -> None:
        self.rss, self.every = rss, every
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory-watch")

    def __enter__(self) -> "MemoryWatch":
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # and once at the end

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def _sample(self) -> None:
        at = round(time.monotonic() - self.started)
        rss = self.rss()
        load = round(os.getloadavg()[0], 2)
        self.samples.append({"at_s": at, "worker_rss_mb": rss, "load_1min": load})
        step(
            f"{at:>4} s: worker RSS {', '.join(f'{v:.0f}' for v in rss if v is not None)} MB, load average {load}"
        )

    def highest(self) -> float | None:
        values = [v for s in self.samples for v in s["worker_rss_mb"] if v is not None]
        return max(values) if values else None


def wrk_rate(base_url: str, path: str, seconds: int) -> dict:
    """wrk at WRK_CONNECTIONS connections for `seconds` on one path: requests a second, latency, errors."""
    command = [
        shutil.which("wrk") or "wrk",
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        base_url + path,
    ]
    step(" ".join(["wrk", *command[1:]]))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    return {
        "path": path,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_latency": _latency(out, "50%"),
        "p99_latency": _latency(out, "99%"),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0,
        "socket_errors": bool(re.search(r"Socket errors", out)),
        "load_1min_after": round(os.getloadavg()[0], 2),
    }


def _latency(out: str, percentile: str) -> str | None:
    found = re.search(rf"^\s+{re.escape(percentile)}\s+(\S+)", out, re.MULTILINE)
    return found.group(1) if found else None


def search_beside_healthz(base_url: str, seconds: int) -> dict:
    """The search's wrk rate as a share of /healthz's on the same server, measured one after the other."""
    healthz = wrk_rate(base_url, "/healthz", seconds)
    search = wrk_rate(base_url, WRK_SEARCH, seconds)
    return {
        "connections": WRK_CONNECTIONS,
        "seconds": seconds,
        "healthz": healthz,
        "search": search,
        "share": round(search["requests_per_s"] / healthz["requests_per_s"], 3),
    }
