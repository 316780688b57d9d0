from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri


def safe_next(target: str | None) -> str | None:
    """Only a path on this site, as a browser would read it, and fit for a Location header: otherwise
    None (the caller's default). `next=https://evil.example` and `//evil.example` must not redirect away.

    A browser drops tabs and line breaks from a URL and reads a backslash as a slash, so `/\\t/evil.example`
    and `/\\evil.example` are `//evil.example` to it: a target with any control character (CR/LF would
    also break the header), DEL or backslash is refused. Anything else outside ASCII is percent-encoded,
    as a header must be, then the result is checked again."""
    if not target or any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    target = iri_to_uri(target)
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
