"""gunicorn.conf.py as production runs it: probes, an access log without secrets, a graceful stop, and
gthread workers that keep answering while a few clients trickle their requests in."""

import http.client
import os
import runpy
import select
import signal
import socket
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import request

from tests.ops.nodes import REPO, Node

SECRET = "Zq9-reset-token-that-must-not-be-logged"


@pytest.fixture
def conf():
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_defaults_are_loopback_two_workers_and_no_trusted_proxy(conf, monkeypatch):
    assert conf["bind"] == ["127.0.0.1:8000"] and conf["workers"] == 2
    assert conf["worker_class"] == "gthread" and conf["threads"] == 4
    assert conf["timeout"] > 0 and conf["graceful_timeout"] > 0 and conf["preload_app"] is False
    assert "forwarded_allow_ips" not in conf  # gunicorn's own default: loopback only
    assert conf["control_socket_disable"] is True
    monkeypatch.setenv("DIRECTORY_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("DIRECTORY_WORKERS", "5")
    monkeypatch.setenv("DIRECTORY_FORWARDED_ALLOW_IPS", "10.0.0.5")
    monkeypatch.setenv("DIRECTORY_THREADS", "8")
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert conf["bind"] == ["0.0.0.0:9000"] and conf["workers"] == 5
    assert conf["worker_class"] == "gthread" and conf["threads"] == 8
    assert conf["forwarded_allow_ips"] == "10.0.0.5"


@pytest.mark.parametrize(
    ("environ", "shown"),
    [
        (
            {"PATH_INFO": f"/password-reset/{SECRET}", "RAW_URI": f"/password-reset/{SECRET}"},
            "/password-reset/<token>",
        ),
        ({"PATH_INFO": "/password-reset/new", "RAW_URI": "/password-reset/new"}, "/password-reset/new"),
        (
            {"PATH_INFO": f"/confirm-email/{SECRET}", "RAW_URI": f"/confirm-email/{SECRET}"},
            "/confirm-email/<token>",
        ),
        (
            {"PATH_INFO": "/search", "QUERY_STRING": f"token={SECRET}", "RAW_URI": f"/search?token={SECRET}"},
            "/search",
        ),
        # What the app recorded for a routed request wins (directory/ops.py).
        (
            {"PATH_INFO": f"/x/{SECRET}", "RAW_URI": f"/x/{SECRET}", "directory.log_path": "/x/<code>"},
            "/x/<code>",
        ),
    ],
)
def test_the_access_logger_prints_no_secret(conf, environ, shown):
    logger = conf["AccessLogger"].__new__(conf["AccessLogger"])
    environ = {
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://site/password-reset/{SECRET}",
        **environ,
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("X-Request-ID", "abc")])
    request = SimpleNamespace(
        headers=[("AUTHORIZATION", f"Bearer {SECRET}"), ("COOKIE", f"session={SECRET}")]
    )
    logger.cfg = SimpleNamespace(access_log_format=conf["access_log_format"])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = conf["access_log_format"] % atoms
    assert shown in line and SECRET not in line
    assert SECRET not in repr(atoms)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/password-reset/{SECRET}", "/password-reset/<token>"),
        ("/password-reset/new", "/password-reset/new"),
        ("/practitioners/12345", "/practitioners/12345"),
        (f"/no-such-page/{SECRET}", f"/no-such-page/{SECRET}"),
    ],
)
def test_the_app_records_the_route_for_secret_paths(client, path, shown):
    with client:
        client.get(path)
        assert request.environ["directory.log_path"] == shown


@pytest.mark.slow
def test_a_node_under_gunicorn_answers_probes_logs_no_secret_and_stops_gracefully(app, tmp_path):
    node = Node("solo", app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "solo", workers=1, follower=False)
    try:
        node.start()
        assert node.request("GET", "/healthz") == (200, {"status": "ok"})
        assert node.request("GET", f"/password-reset/{SECRET}?token={SECRET}")[0] == 422
        assert node.request("GET", f"/api/v1/search?q={SECRET}")[0] == 200
    finally:
        codes = node.stop(sig=signal.SIGTERM)
    assert codes == {"gunicorn": 0}, node.logs()
    access = (node.folder / "access.log").read_text()
    assert "GET /password-reset/<token> HTTP/1.1" in access and 'GET /healthz HTTP/1.1" 200' in access
    assert SECRET not in access and SECRET not in node.log("gunicorn")
    assert "rid=" in access and "rid=-" not in access.splitlines()[-1]


def test_a_gunicorn_node_is_production_and_reading_the_settings_changes_no_environment(monkeypatch):
    monkeypatch.delenv("DIRECTORY_ENV", raising=False)
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    assert conf["raw_env"] == ["DIRECTORY_ENV=production"]
    assert "DIRECTORY_ENV" not in os.environ
    monkeypatch.setenv("DIRECTORY_ENV", "development")
    assert "raw_env" not in runpy.run_path(str(REPO / "gunicorn.conf.py"))


class Tricklers:
    """Clients that send a request's headers a byte at a time and never finish them, as a slow or
    hostile client does: each holds a worker thread for as long as it keeps sending."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        self.stop = threading.Event()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def _trickle(self) -> None:
        head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        sent = 0
        while not self.stop.is_set():
            byte = head[sent : sent + 1] or b"a"  # then a header value that never ends
            for sock in self.sockets:
                sock.sendall(byte)
            sent += 1
            self.started.set()
            self.stop.wait(0.2)

    def __enter__(self) -> "Tricklers":
        self.thread.start()
        assert self.started.wait(5)
        return self

    def unanswered(self) -> bool:
        """None of them has had a byte back: each is still being read by a thread."""
        readable, _, _ = select.select(self.sockets, [], [], 0)
        return not readable

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


def _get(port: int, path: str) -> int:
    """The status of a plain request; TimeoutError when no answer comes within 5 s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize(("threads", "slow_clients", "answered"), [(4, 3, True), (1, 1, False)])
def test_a_worker_keeps_answering_while_slow_clients_hold_some_of_its_threads(
    app, tmp_path, threads, slow_clients, answered
):
    """One worker; a few clients trickle their headers in. With threads to spare, ordinary requests are
    answered (each given 5 s); with every thread held (the control), they are not, which is what a sync
    worker does with a single slow client, and why the proxy in front must buffer requests."""
    node = Node("slow", app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "slow", workers=1, follower=False)
    node.env["DIRECTORY_THREADS"] = str(threads)
    try:
        node.start()
        with Tricklers(node.port, slow_clients) as tricklers:
            threading.Event().wait(1)  # a few bytes in: each slow client is now a thread reading headers
            if answered:
                for path in ("/healthz", "/api/v1/vocabulary", "/healthz", "/api/v1/issuers"):
                    assert _get(node.port, path) == 200, node.logs()
            else:
                with pytest.raises(TimeoutError):
                    _get(node.port, "/healthz")
            assert tricklers.unanswered()
        assert _get(node.port, "/healthz") == 200  # the slow clients gone, every thread is free again
    finally:
        node.stop(sig=signal.SIGTERM)
