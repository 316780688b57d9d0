from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: `next=https://evil.example` or `//evil.example` must not redirect away."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
