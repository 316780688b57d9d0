"""The engine under test, in-process and over HTTP (gunicorn, one worker, loopback only).

Both tell "not there yet" apart from "broken": a missing `directory.search.service.search` or a
404 from /api/v1/search raises EngineMissing, which the harness prints as "engine not available yet".
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import REPO
from bench.harness.processes import children, rss_mb
from bench.search.queries import Query, engine_args, http_params

SEARCH_PATH = "/api/v1/search"


def stop(process: subprocess.Popen) -> None:
    """Politely (SIGTERM, 30 s for the workers to finish), then not."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class EngineMissing(RuntimeError):
    """The engine (or its endpoint) does not exist yet."""


class InProcess:
    name = "engine"

    def __init__(self, app) -> None:
        try:
            from directory.search.service import search
        except ImportError as exc:
            raise EngineMissing(f"directory.search.service.search: {exc}") from exc
        self.app, self._search = app, search

    def search(self, query: Query) -> list[int]:
        # A fresh app context per query, as a request has: the session is removed at its end.
        with self.app.app_context():
            result = self._search(engine_args(query))
        return [row["id"] for row in result["results"]]


class InProcessCore(InProcess):
    """The engine's query work alone (index, filters, distance, ranking, page of ids), without
    reading the page's cards from the database: what the references return, ids."""

    name = "engine (ids)"

    def __init__(self, app) -> None:
        super().__init__(app)
        from directory.search.service import find
        from directory.timeutil import now_utc

        self._find, self._now = find, now_utc

    def search(self, query: Query) -> list[int]:
        with self.app.app_context():
            outcome = self._find(engine_args(query), self._now()).outcome
        return [hit.pid for hit in outcome.hits]


def reindex(env: dict[str, str]) -> dict:
    """`flask --app wsgi directory reindex` in a child process: wall time, exit code, peak RSS.
    Output goes to the terminal (the progress bar)."""
    import resource

    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        [sys.executable, "-m", "flask", "--app", "wsgi", "directory", "reindex"],
        cwd=REPO,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "seconds": round(seconds, 2),
        "returncode": done.returncode,
        "peak_rss_mb": round(peak_kb / 1024, 1),
    }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn --workers 1 --bind 127.0.0.1:<port> wsgi:app` for the length of a `with` block."""

    name = "engine HTTP"

    def __init__(self, env: dict[str, str], log_path: Path, timeout_s: float = 120.0) -> None:
        self.env, self.log_path, self.timeout_s = env, log_path, timeout_s
        self.port = free_port()

    def __enter__(self) -> "Gunicorn":
        self.log = open(self.log_path, "wb")  # noqa: SIM115  (closed in __exit__)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "120",
            "wsgi:app",
        ]
        env = {
            "DIRECTORY_SITE_URL": f"http://127.0.0.1:{self.port}",
            **self.env,
        }  # gunicorn.conf.py: production
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                self.get("/api/v1/vocabulary")
                return self
            except OSError:
                self.connection.close()
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {self.timeout_s:.0f} s; see {self.log_path}")

    def __exit__(self, *exc) -> None:
        self.connection.close()
        stop(self.process)
        self.log.close()

    def get(self, path: str) -> tuple[int, bytes]:
        # The connection is kept alive between requests; after a pause longer than gunicorn's
        # keep-alive (the bench waits for the machine to be quiet) the server has closed it, and
        # the request is sent again on a new one (http.client opens it: loopback, a fraction of a ms).
        try:
            return self._get(path)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.connection.close()
            return self._get(path)

    def _get(self, path: str) -> tuple[int, bytes]:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        return response.status, response.read()

    def search(self, query: Query) -> list[int]:
        status, body = self.get(f"{SEARCH_PATH}?{urlencode(http_params(query))}")
        if status == 404:
            raise EngineMissing(f"GET {SEARCH_PATH} answers 404")
        if status != 200:
            raise RuntimeError(f"GET {SEARCH_PATH} answered {status}: {body[:200]!r}")
        return [row["id"] for row in json.loads(body)["results"]]

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def worker_rss_mb(self, field: str = "VmRSS") -> float | None:
        sizes = [rss_mb(pid, field) for pid in self.worker_pids()]
        return max((s for s in sizes if s is not None), default=None)


def bench_env(database_url: str, data_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, DIRECTORY_DATA_DIR=data_dir, FLASK_APP="wsgi")
    return env
