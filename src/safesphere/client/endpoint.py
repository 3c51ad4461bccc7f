"""Where the server is: a base URL, optionally carrying the engine key as its password."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    """Scheme, host, port and path prefix, without credentials or a trailing slash."""
    api_key: str | None


def parse_base_url(url: str, api_key: str | None = None) -> Endpoint:
    """Split ``http://cam-01:<key>@host:8000`` into the bare URL and the key (an explicit key wins).

    Engines that only let their user set a base URL carry the key this way; it is never sent in the
    URL itself, only as a header.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL with a host, got {url!r}")
    embedded = unquote(parts.password) if parts.password else None
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    bare = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return Endpoint(base_url=bare, api_key=api_key or embedded)
