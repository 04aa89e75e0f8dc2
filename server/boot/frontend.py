"""vLLM's server (frontend) flags that `kimi-swarm serve` accepts: each is honoured or refused.

We reuse vLLM's `make_arg_parser`, so every `vllm serve` flag parses. Engine flags go to
vLLM's engine; the frontend flags fall into three sets below. A flag changed from its
default that we cannot honour stops the start with one clear line, never silently.
`check()` also refuses engine flags under `--upstream` (there is no in-process engine).
"""

from __future__ import annotations

from argparse import SUPPRESS, ArgumentParser, Namespace
from typing import Any

# Honoured by our HTTP server (server/boot/cli.py → uvicorn, CORS, root path, API keys).
HONOURED = frozenset({
    "host", "port", "uds", "api_key", "root_path",
    "ssl_keyfile", "ssl_certfile", "ssl_ca_certs", "ssl_cert_reqs", "ssl_ciphers",
    "allowed_origins", "allowed_methods", "allowed_headers", "allow_credentials",
    "uvicorn_log_level", "disable_uvicorn_access_log", "h11_max_incomplete_event_size",
    "disable_fastapi_docs",  # our app never serves docs
    "enable_request_id_headers",  # every response carries X-Request-Id
    "config",  # vLLM's YAML, expanded by its parser
})  # fmt: skip

# Honoured by vLLM's chat serving layer, which the in-process engine runs (not --upstream).
VIA_VLLM_CHAT = frozenset({
    "lora_modules", "chat_template", "chat_template_content_format",
    "trust_request_chat_template", "trust_request_mm_kwargs", "default_chat_template_kwargs",
    "response_role", "return_tokens_as_token_ids", "enable_auto_tool_choice",
    "exclude_tools_when_tool_choice_none", "tool_call_parser", "tool_parser_plugin",
    "tool_strict_level", "max_log_len", "enable_prompt_tokens_details",
    "enable_force_include_usage", "enable_log_outputs", "enable_log_deltas", "log_error_stack",
})  # fmt: skip

# Not supported: vLLM features of its own HTTP server or of endpoints we do not serve.
REFUSED = {
    "middleware": "add ASGI middleware in front of kimi-swarm instead",
    "enable_ssl_refresh": "restart the server to load new certificates",
    "h11_max_header_count": "not configurable here",
    "sse_keep_alive_interval": "use --heartbeat-s",
    "disable_access_log_for_endpoints": "use --disable-uvicorn-access-log",
    "enable_offline_docs": "kimi-swarm serves no API docs page",
    "enable_server_load_tracking": "see the kimi_swarm_* Prometheus metrics on /metrics",
    "enable_per_request_metrics": "see the kimi_swarm_* Prometheus metrics on /metrics",
    "enable_tokenizer_info_endpoint": "kimi-swarm serves no tokenizer endpoint",
    "tool_server": "kimi-swarm's sub-agent tools are configured with --tool / --mcp-server",
    "enable_scale_out": "scale out with several replicas behind --upstream (see README)",
    "fingerprint_mode": "kimi-swarm sends no system fingerprint",
    "fingerprint_value": "kimi-swarm sends no system fingerprint",
    "enable_flash_late_interaction": "kimi-swarm serves no scoring endpoint",
    "cohere_is_reasoning_model": "kimi-swarm serves no Cohere endpoint",
    "cohere_format": "kimi-swarm serves no Cohere endpoint",
    "anthropic_disabled_thinking_effort": "kimi-swarm serves no Anthropic endpoint",
    "headless": "kimi-swarm always serves HTTP",
    "api_server_count": "run several kimi-swarm replicas instead",
    "grpc": "kimi-swarm serves HTTP only",
    "grpc_port": "kimi-swarm serves HTTP only",
    "data_parallel_supervisor_port": "kimi-swarm runs no data-parallel supervisor",
    "dp_supervisor_probe_interval_s": "kimi-swarm runs no data-parallel supervisor",
    "dp_supervisor_probe_timeout_s": "kimi-swarm runs no data-parallel supervisor",
    "dp_supervisor_probe_failure_threshold": "kimi-swarm runs no data-parallel supervisor",
}
# Values that mean "not used" although they differ from the parser default.
_NEUTRAL: dict[str, tuple[Any, ...]] = {"api_server_count": (None, 1)}
# Engine flags that still mean something with --upstream.
_UPSTREAM_OK = frozenset({"model", "served_model_name", "tokenizer", "trust_remote_code"})


def changed(parser: ArgumentParser, args: Namespace, dest: str) -> bool:
    default = parser.get_default(dest)
    value = getattr(args, dest, default)
    if value in _NEUTRAL.get(dest, ()):
        return False
    if default == SUPPRESS and value is None:  # "absent unless given", filled in as None
        return False
    return bool(value != default)


def check(parser: ArgumentParser, args: Namespace, engine_fields: frozenset[str]) -> list[str]:
    """One line per flag that was set but cannot take effect (empty: all good)."""
    problems = [
        f"--{d.replace('_', '-')} is not supported by kimi-swarm serve ({why})"
        for d, why in REFUSED.items()
        if changed(parser, args, d)
    ]
    if getattr(args, "upstream", None):
        local = sorted(d for d in VIA_VLLM_CHAT | engine_fields if d not in _UPSTREAM_OK)
        problems += [
            f"--{d.replace('_', '-')} configures the in-process vLLM engine, "
            "which --upstream does not start (set it on the upstream server)"
            for d in local
            if changed(parser, args, d)
        ]
    return problems


def unclassified(parser: ArgumentParser, ours: frozenset[str], engine: frozenset[str]) -> set[str]:
    """Flags of the parser that no table above (nor ours, nor the engine's) accounts for."""
    known = HONOURED | VIA_VLLM_CHAT | REFUSED.keys() | ours | engine | {"help", "model_tag"}
    return {a.dest for a in parser._actions if a.dest not in known}
