"""Shared fixtures for tool tests: a real HTTP server on 127.0.0.1 and a small document corpus."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


def make_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF (with xref table) showing `text` in Helvetica."""
    stream = f"BT /F1 12 Tf 10 50 Td ({text}) Tj ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]/Contents 4 0 R"
        b"/Resources<</Font<</F1 5 0 R>>>>>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(stream), stream),
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = make_pdf("Hello PDF world")

ARTICLE = """<!doctype html><html><head><title>Otters</title></head><body>
<nav>Home | About | Contact</nav>
<article><h1>Sea otters</h1>
<p>Sea otters use rocks as tools to crack open shellfish. They are a keystone species of the
kelp forest, keeping sea urchin numbers in check so the kelp can grow.</p>
<p>An adult sea otter eats about a quarter of its body weight every day.</p></article>
<footer>(c) 2024 Example</footer></body></html>"""


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


class LocalServer:
    """Serves fixed routes; records every path (and `Host` header) it was asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.host_headers: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                server.host_headers.append(self.headers.get("Host"))
                route = server.routes.get(self.path, Route(404, b"not found"))
                time.sleep(route.delay_s)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    server = LocalServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join(5)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "animals").mkdir(parents=True)
    (docs / "animals" / "otters.html").write_text(ARTICLE)
    (docs / "kelp.md").write_text(
        "# Kelp forests\n\nKelp forests grow in cold, nutrient-rich water. Giant kelp can grow "
        "half a metre per day.\n\nSea urchins graze kelp."
    )
    (docs / "volcano.txt").write_text(
        "Volcanoes\n\nMount Etna is an active stratovolcano on the east coast of Sicily."
    )
    (docs / "report.pdf").write_bytes(PDF)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a pdf")
    (docs / "ignored.bin").write_bytes(b"\x00\x01")
    return docs
