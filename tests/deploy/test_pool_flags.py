"""The pool's flags: --upstream repeated or as a comma list (flags or env), and bad values refused."""

from __future__ import annotations

import pytest

from server.boot.cli import affinity, build_parser, upstream_urls
from server.boot.config import apply_config

A, B, C = "http://a:8000/v1", "http://b:8000/v1", "http://c:8000/v1"


def test_upstream_repeated_or_comma_separated() -> None:
    args = apply_config(build_parser(), ["--upstream", A, f"--upstream={B}, {C}"], {})
    assert upstream_urls(args) == [A, B, C]
    from_env = apply_config(build_parser(), [], {"KIMI_SWARM_UPSTREAM": f"{A},{B}"})
    assert upstream_urls(from_env) == [A, B]


def test_affinity_flags() -> None:
    args = apply_config(build_parser(), ["--upstream", A], {})
    default = affinity(args)
    assert (default.abs_threshold, default.rel_threshold, default.enabled) == (32, 1.5, True)
    argv = ["--upstream", A, "--upstream-affinity-threshold", "-1"]
    assert not affinity(apply_config(build_parser(), argv, {})).enabled


@pytest.mark.parametrize(
    "flag", [["--upstream-affinity-ratio", "0.5"], ["--upstream-health-interval-s", "0"]]
)
def test_bad_pool_values_exit_with_usage_errors(
    flag: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        apply_config(build_parser(), ["--upstream", A, *flag], {})
    assert exc.value.code == 2 and "must be at least" in capsys.readouterr().err
