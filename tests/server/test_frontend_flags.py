"""vLLM's server flags: --uds, --ssl-*, --root-path and CORS really take effect; the rest are
refused with a clear error (never silently ignored)."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import subprocess
from argparse import Namespace
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from server.app import create_app
from server.boot import frontend
from server.boot.cli import cors, listen_options
from server.context import AppContext, ServerSettings
from tests.server.fake_engine import ReplyEngine, serving

BODY = {"model": "fake", "messages": [{"role": "user", "content": "hi"}]}


def flags(**given: object) -> Namespace:
    base: dict[str, object] = {
        "uds": None, "ssl_keyfile": None, "ssl_certfile": None, "ssl_ca_certs": None,
        "ssl_cert_reqs": 0, "ssl_ciphers": None, "root_path": None,
        "h11_max_incomplete_event_size": None, "allowed_origins": [],
        "allowed_methods": ["*"], "allowed_headers": ["*"], "allow_credentials": False,
    }  # fmt: skip
    return Namespace(**{**base, **given})


@asynccontextmanager
async def real_server(args: Namespace, **settings: object) -> AsyncIterator[None]:
    app = create_app(
        AppContext(ServerSettings(served_name="fake", cors=cors(args), **settings)),  # type: ignore[arg-type]
        lambda: serving(ReplyEngine()),
    )
    listen = listen_options(args)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, **listen)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def test_uds_and_root_path(tmp_path: Path) -> None:
    sock = str(tmp_path / "kimi.sock")
    args = flags(uds=sock, root_path="/api")
    async with real_server(args, api_keys=("k",)):
        transport = httpx.AsyncHTTPTransport(uds=sock)
        async with httpx.AsyncClient(transport=transport, base_url="http://kimi") as client:
            auth = {"Authorization": "Bearer k"}
            # Behind a proxy that strips /api; uvicorn hands the app /api/v1/... with root /api.
            chat = await client.post("/v1/chat/completions", json=BODY, headers=auth)
            assert chat.status_code == 200, chat.text
            # The key check sees the route path under the prefix: no key, no answer.
            assert (await client.get("/v1/models")).status_code == 401


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(key), str(cert)


async def test_tls_with_ssl_keyfile_and_certfile(tmp_path: Path) -> None:
    key, cert = _self_signed(tmp_path)
    sock = str(tmp_path / "tls.sock")
    async with real_server(flags(uds=sock, ssl_keyfile=key, ssl_certfile=cert)):
        trust = ssl.create_default_context(cafile=cert)
        transport = httpx.AsyncHTTPTransport(uds=sock, verify=trust)
        async with httpx.AsyncClient(transport=transport, base_url="https://127.0.0.1") as c:
            assert (await c.get("/v1/models")).status_code == 200
        plain = httpx.AsyncHTTPTransport(uds=sock)
        async with httpx.AsyncClient(transport=plain, base_url="http://127.0.0.1") as c:
            with pytest.raises(httpx.HTTPError):  # no TLS, no answer
                await c.get("/v1/models")


async def test_allowed_origins_answer_preflights_before_the_key_check(tmp_path: Path) -> None:
    sock = str(tmp_path / "cors.sock")
    args = flags(uds=sock, allowed_origins=["https://app.example"])
    async with real_server(args, api_keys=("k",)):
        transport = httpx.AsyncHTTPTransport(uds=sock)
        async with httpx.AsyncClient(transport=transport, base_url="http://kimi") as client:
            pre = await client.options(
                "/v1/chat/completions",
                headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "authorization"},
            )  # fmt: skip
            assert pre.status_code == 200
            assert pre.headers["access-control-allow-origin"] == "https://app.example"
            other = await client.get("/v1/models", headers={"Origin": "https://evil.example",
                                                           "Authorization": "Bearer k"})  # fmt: skip
            assert "access-control-allow-origin" not in other.headers


def small_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--middleware", action="append", default=[])
    p.add_argument("--sse-keep-alive-interval", type=int, default=0)
    p.add_argument("--api-server-count", type=int, default=None)
    p.add_argument("--tool-call-parser", default=None)
    p.add_argument("--enforce-eager", action="store_true")
    p.add_argument("--served-model-name", nargs="+", default=None)
    p.add_argument("--upstream", action="append", default=[])
    p.add_argument("--log-level", default=argparse.SUPPRESS)  # vLLM's: absent unless given
    return p


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--middleware", "m:f"], "--middleware is not supported"),
        (["--sse-keep-alive-interval", "5"], "use --heartbeat-s"),
        (["--api-server-count", "4"], "--api-server-count is not supported"),
        (["--upstream", "http://u/v1", "--tool-call-parser", "hermes"], "--tool-call-parser"),
        (["--upstream", "http://u/v1", "--enforce-eager"], "which --upstream does not start"),
    ],
)
def test_flags_we_cannot_honour_are_refused(argv: list[str], said: str) -> None:
    parser = small_parser()
    problems = frontend.check(parser, parser.parse_args(argv), frozenset({"enforce_eager"}))
    assert len(problems) == 1 and said in problems[0]


def test_flags_at_their_defaults_or_meaningful_pass() -> None:
    parser = small_parser()
    engine = frozenset({"enforce_eager", "log_level"})
    for argv in ([], ["--api-server-count", "1"], ["--upstream", "u", "--served-model-name", "m"]):
        assert frontend.check(parser, parser.parse_args(argv), engine) == []
    args = parser.parse_args(["--upstream", "u"])
    args.log_level = None  # what `serve` fills in for an absent --log-level
    assert frontend.check(parser, args, engine) == []
