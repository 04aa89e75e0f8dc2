"""Why an outbound fetch was stopped. Each caller turns these into its own errors
(a tool result for `fetch_url` and web search, a 400 for media URLs)."""

from __future__ import annotations


class NetError(Exception):
    """Base class; the message is fit to show a user or a model."""


class BadURL(NetError):
    """Not an absolute http(s) URL with a usable host."""


class Unresolvable(NetError):
    """The host has no address (the resolver failed or answered nothing)."""

    def __init__(self, host: str, reason: str | None = None) -> None:
        detail = f"cannot resolve host {host!r} ({reason})" if reason else None
        super().__init__(detail or f"host {host!r} has no addresses")
        self.host = host


class Refused(NetError):
    """The host is, or resolves to, an address that is not public and not allow-listed."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(
            f"refusing to connect to {host!r}: it resolves to non-public address {address}"
        )
        self.host = host
        self.address = address


class TooManyRedirects(NetError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"too many redirects (more than {limit})")
        self.limit = limit


class SendFailed(NetError):
    """The request could not be sent or answered (connection refused, TLS, timeout...)."""

    def __init__(self, url: str, cause: Exception) -> None:
        super().__init__(f"could not fetch {url} ({type(cause).__name__}: {cause})")
        self.url = url
        self.cause = cause
