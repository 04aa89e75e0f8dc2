"""Every flag of vLLM's own parser is accounted for: engine, honoured, via vLLM's chat layer,
or refused. A new vLLM server flag cannot slip through silently ignored."""

from __future__ import annotations

import pytest

from server.boot import frontend
from server.boot.cli import engine_fields, main


def test_every_vllm_server_flag_is_classified() -> None:
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = make_arg_parser(FlexibleArgumentParser(prog="vllm serve"))
    engine = engine_fields()
    assert frontend.unclassified(parser, frozenset(), engine) == set()
    tables = frontend.HONOURED | frontend.VIA_VLLM_CHAT | frontend.REFUSED.keys()
    assert not tables & engine  # the tables hold server flags only
    known = {a.dest for a in parser._actions}
    assert tables <= known, tables - known  # no stale names


def test_serve_refuses_a_flag_it_cannot_honour(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["serve", "--upstream", "http://127.0.0.1:9/v1", "--middleware", "pkg:mw",
            "--enforce-eager"]  # fmt: skip
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--middleware is not supported by kimi-swarm serve" in err
    assert "--enforce-eager configures the in-process vLLM engine" in err
