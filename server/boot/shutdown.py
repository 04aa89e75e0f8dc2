"""Run uvicorn with a graceful-shutdown deadline and a clean exit on SIGTERM / SIGINT.

On SIGTERM uvicorn closes the listening sockets (new connections are refused), lets every
in-flight response finish (streams included: connections are only marked not-keep-alive),
cancels what is still running once `shutdown_timeout_s` has passed (the chat route's
`finally` then aborts the engine request and the swarm run sees `CancelledError`), and
runs the lifespan exit, which closes the swarm (`on_ready`) and then the engine.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

log = logging.getLogger("kimi_swarm.shutdown")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
UVICORN_LEVELS = frozenset({"critical", "error", "warning", "info", "debug"})


def _stopped(signum: int, _frame: FrameType | None) -> None:
    log.info("stopped on %s", signal.Signals(signum).name)


@contextmanager
def exit_cleanly_after_signal() -> Iterator[None]:
    """Make the signal uvicorn re-raises after its graceful stop end the process with code 0.

    uvicorn restores the handlers that were installed before it ran and re-raises the signal
    it caught; with the defaults that kills the process (143) or raises KeyboardInterrupt.
    """
    previous = {sig: signal.signal(sig, _stopped) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_server(
    app: Any,
    *,
    host: str,
    port: int,
    shutdown_timeout_s: float,
    log_level: str = "info",
    **listen: Any,
) -> None:
    """Serve `app` until SIGTERM/SIGINT, draining in-flight requests for up to the deadline.

    `listen`: more uvicorn settings (uds, ssl_*, root_path, h11_max_incomplete_event_size).
    """
    import uvicorn

    level = log_level.lower() if log_level.lower() in UVICORN_LEVELS else "info"
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=level,
        log_config=None,  # our handlers (server.logs) format uvicorn's lines too
        access_log=False,  # the edge middleware writes one access line per request
        timeout_keep_alive=30,
        # Annotated int, used as an asyncio.wait_for timeout: fractions work.
        timeout_graceful_shutdown=shutdown_timeout_s,  # type: ignore[arg-type]
        **listen,
    )
    server = uvicorn.Server(config)
    with exit_cleanly_after_signal():
        server.run()
    if not server.started and not server.should_exit:
        sys.exit(3)  # startup failed (e.g. the engine did not load), as `uvicorn.run` does
