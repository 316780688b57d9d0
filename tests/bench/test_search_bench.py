"""The search bench's own rules: systems that share caches take turns going first, and the HTTP
client sends a request again when the server closed the kept-alive connection during a pause."""

import http.client

from bench.search import engine, speed
from bench.search.queries import build_queries


def test_systems_take_turns_going_first(monkeypatch):
    monkeypatch.setattr(speed, "cpu_busy", lambda seconds=1.0: 0.0)
    calls: list[str] = []

    def system(name):
        def search(query):
            calls.append(name)
            return [len(calls)]

        return search

    queries = build_queries(8)
    runs = speed.run_systems([system("whole"), system("ids")], queries, warmup=[])
    firsts = calls[0::2]
    assert firsts == ["whole", "ids"] * 4
    # Each system's answers and times are its own, one per query.
    assert [len(answers) for _, answers in runs] == [8, 8]
    assert [sum(len(v) for v in times.values()) for times, _ in runs] == [8, 8]


class Closing:
    """A connection the server closed while it waited: the first request on it fails."""

    def __init__(self):
        self.sent, self.closed = 0, 0

    def request(self, method, path):
        self.sent += 1
        if self.sent == 1:
            raise http.client.RemoteDisconnected("Remote end closed connection without response")

    def getresponse(self):
        class Response:
            status = 200

            def read(self):
                return b"{}"

        return Response()

    def close(self):
        self.closed += 1


def test_a_closed_kept_alive_connection_is_opened_again():
    server = engine.Gunicorn.__new__(engine.Gunicorn)
    server.connection = Closing()
    assert server.get("/healthz") == (200, b"{}")
    assert (server.connection.sent, server.connection.closed) == (2, 1)
