"""The real 127.0.0.1 HTTP server fixture of the tool tests, shared here."""

from tests.tools.conftest import http_server

__all__ = ["http_server"]
