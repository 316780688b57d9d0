"""One HTTP request on a new loopback connection, as a load balancer makes them."""

import http.client
import json
from urllib.parse import urlencode


def call(
    port: int,
    method: str,
    path: str,
    body=None,
    token: str | None = None,
    query=None,
    headers=None,
    timeout: float = 30.0,
):
    """(status, parsed JSON or None). A dict body is sent as JSON, bytes as they are. OSError when the
    server is gone (refused, reset, closed without an answer), so a caller can count the write unanswered."""
    headers = {"Accept": "application/json", **(headers or {})}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if query:
        path = f"{path}?{urlencode(query, doseq=True)}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except http.client.HTTPException as exc:  # RemoteDisconnected, IncompleteRead, BadStatusLine
        raise ConnectionError(str(exc)) from exc
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, None
