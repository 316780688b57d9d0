"""App nodes as production runs them: gunicorn with gunicorn.conf.py, and `indexer --follow` beside it.

Each node has its own data dir (its own index) and shares one database with the others. Ports are
taken from 5100–5199 on loopback; every process is stopped with the node, and its output is kept in
the node's folder for the assertion messages.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO
from bench.harness.http import call
from bench.harness.processes import free_port


def _worker_ports(first: int = 5100, last: int = 5199) -> range:
    """This test worker's own slice of 5100-5199 (apart from the crash bench's 5200-5299), the whole of
    it without workers, so that two workers starting nodes at the same moment never take the same port."""
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    share = (last - first + 1) // count
    return range(first + worker * share, first + (worker + 1) * share)


PORTS = _worker_ports()


class Node:
    def __init__(self, name: str, database_url: str, folder: Path, workers: int = 2, follower: bool = True):
        self.name, self.folder, self.workers, self.follower = name, Path(folder), workers, follower
        self.data_dir = self.folder / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = 0
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DIRECTORY_DATA_DIR": str(self.data_dir),
            "SECRET_KEY": "the same on every node",
            "DIRECTORY_MAP_TILE_URL": "",
            "DIRECTORY_ACCESS_LOG": str(self.folder / "access.log"),
            "DIRECTORY_WORKERS": str(workers),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("DIRECTORY_TEST_DATABASE_URL", None)
        self.processes: dict[str, subprocess.Popen] = {}

    # -- processes ------------------------------------------------------------------------------
    def start(self, timeout: float = 60, wait: bool = True, taken: set[int] = frozenset()) -> "Node":
        self.port = free_port(PORTS, taken)
        self.env["DIRECTORY_BIND"] = f"127.0.0.1:{self.port}"
        self.env.setdefault("DIRECTORY_SITE_URL", f"http://127.0.0.1:{self.port}")
        command = [sys.executable, "-m", "gunicorn", "-c", str(REPO / "gunicorn.conf.py"), "wsgi:app"]
        self._spawn("gunicorn", command)
        if self.follower:
            self.start_indexer()
        if wait:
            self.wait_ready(timeout)
        return self

    def start_indexer(self) -> subprocess.Popen:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "directory", "indexer", "--follow"]
        return self._spawn("indexer", command)

    def _spawn(self, role: str, command: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{role}.log", "ab")  # noqa: SIM115 - the child holds it
        self.processes[role] = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=log, stderr=log)
        log.close()
        return self.processes[role]

    def stop(self, role: str | None = None, sig: int = signal.SIGTERM, timeout: float = 30) -> dict[str, int]:
        """Stop one process (or all of them, signalled at once); returns their exit codes."""
        names = [role] if role else list(self.processes)
        for name in names:
            if self.processes[name].poll() is None:
                self.processes[name].send_signal(sig)
        codes = {}
        for name in names:
            proc = self.processes.pop(name)
            try:
                codes[name] = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes

    def log(self, role: str) -> str:
        path = self.folder / f"{role}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(
            f"--- {self.name} {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.folder.glob("*.log")
        )

    # -- HTTP -----------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, token: str | None = None, query=None):
        return call(self.port, method, path, body, token, query)

    def search_ids(self, **query) -> list[int]:
        status, body = self.request("GET", "/api/v1/search", query=query)
        assert status == 200, (status, body)
        return [r["id"] for r in body["results"]]

    def ready(self) -> tuple[int, dict | None]:
        return self.request("GET", "/readyz")

    def wait_ready(self, timeout: float = 60, caught_up: bool = False) -> dict:
        """Until /readyz answers 200 (and, with caught_up, the index has applied every outbox row)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for role, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.name} {role} exited with {proc.returncode}\n{self.logs()}")
            try:
                status, body = self.ready()
                last = (status, body)
                if status == 200 and (not caught_up or body["lag"]["pending"] == 0):
                    return body
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout} s (last {last})\n{self.logs()}")


def start_all(nodes: list[Node], timeout: float = 60) -> list[Node]:
    """Start the nodes side by side (each on its own port), then wait until every one is ready."""
    taken: set[int] = set()
    for node in nodes:
        node.start(wait=False, taken=taken)
        taken.add(node.port)
    for node in nodes:
        node.wait_ready(timeout)
    return nodes


def stop_all(nodes: list[Node]) -> None:
    """SIGTERM to every process of every node at once (a second one would mean "stop now"), then wait."""
    for node in nodes:
        for proc in node.processes.values():
            if proc.poll() is None:
                proc.terminate()
    for node in nodes:
        for role in list(node.processes):
            proc = node.processes.pop(role)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
