"""A node under test for the crash bench (bench/faults/crash.py) and its reduced test (tests/ops/test_crash.py):
gunicorn with its workers and the node's indexer, each started, killed with SIGKILL and restarted.

Everything runs from the repository with the virtualenv's own programs, on loopback, with its own
database URL and data folder. Nothing here knows the load or the checks (crashload.py, crashcheck.py).
"""

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import REPO
from bench.harness import http
from bench.harness.processes import alive, children

BIN = Path(sys.executable).parent
PORTS = range(5200, 5300)  # apart from tests/ops/nodes.py's, so a crash run and the suite can share a machine


def call(port: int, method: str, path: str, body=None, headers=None, timeout: float = 15.0):
    """The harness's call, with the load's 15 s: a write unanswered by then counts as unacknowledged."""
    return http.call(port, method, path, body, headers=headers, timeout=timeout)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, kind) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {kind}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Node:
    """gunicorn (`workers` sync workers) and, when the command exists, `flask directory indexer --follow`."""

    def __init__(self, work: Path, database_url: str, port: int, workers: int = 2, indexer: bool = True):
        self.work, self.database_url, self.port, self.workers = work, database_url, port, workers
        self.data_dir = work / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen | None = None
        self.indexer: subprocess.Popen | None = None
        self.want_indexer = indexer and self.has_indexer_command()
        self.env = dict(os.environ)
        self.env.update(
            DATABASE_URL=database_url,
            DIRECTORY_DATA_DIR=str(self.data_dir),
            FLASK_APP="wsgi",
            DIRECTORY_ACCESS_LOG="",  # the request log would dwarf everything else in server.log
            DIRECTORY_SITE_URL=f"http://127.0.0.1:{port}",  # gunicorn.conf.py makes the node production
            PYTHONUNBUFFERED="1",
        )
        self.env.pop("DIRECTORY_BIND", None)
        self.env.pop("DIRECTORY_WORKERS", None)

    @staticmethod
    def has_indexer_command() -> bool:
        out = subprocess.run(  # noqa: S603 - our own virtualenv's flask, fixed arguments
            [str(BIN / "flask"), "--app", "wsgi", "directory", "--help"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return " indexer " in out.stdout

    # -- starting --------------------------------------------------------------------------------
    def start(self) -> None:
        self.start_server()
        if self.want_indexer:
            self.start_indexer()

    def start_server(self) -> None:
        command = [
            str(BIN / "gunicorn"),
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "wsgi:app",
        ]
        with open(self.work / "server.log", "ab") as log:
            # Its own session: `kill -9` of the whole server reaches the master and every worker.
            self.server = subprocess.Popen(  # noqa: S603
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_ready()

    def start_indexer(self) -> None:
        command = [str(BIN / "flask"), "--app", "wsgi", "directory", "indexer", "--follow"]
        with open(self.work / "indexer.log", "ab") as log:
            self.indexer = subprocess.Popen(  # noqa: S603
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until every worker is up and the app answers from the database."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.server.returncode}; see {self.work}/server.log"
                )
            if len(self.worker_pids()) == self.workers:
                try:
                    if call(self.port, "GET", "/api/v1/issuers", timeout=5)[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"the server was not ready within {timeout:.0f} s; see {self.work}/server.log")

    def worker_pids(self) -> list[int]:
        return children(self.server.pid) if self.server else []

    # -- killing ---------------------------------------------------------------------------------
    def kill_worker(self, rng: random.Random) -> dict:
        """SIGKILL one worker; the gunicorn master starts another in its place."""
        before = self.worker_pids()
        victim = rng.choice(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = self.worker_pids()
            if victim not in now and len(now) == self.workers:
                break
            time.sleep(0.05)
        self.wait_ready()
        return {"pid": victim}

    def kill_indexer(self) -> dict:
        victim = self.indexer.pid
        os.kill(victim, signal.SIGKILL)
        self.indexer.wait(timeout=30)
        self.start_indexer()
        return {"pid": victim}

    def kill_server(self) -> dict:
        """SIGKILL the master and every worker at once (the process group), then start it again."""
        master, workers = self.server.pid, self.worker_pids()
        os.killpg(master, signal.SIGKILL)
        self.server.wait(timeout=30)
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.start_server()
        return {"pid": master, "workers": workers}

    # -- stopping --------------------------------------------------------------------------------
    def stop(self) -> None:
        for process in (self.indexer, self.server):
            if process is None or process.poll() is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        self.server = self.indexer = None
