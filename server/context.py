"""What the HTTP layer holds for the life of the server: settings, engine, swarm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from server.errors import ApiError
from swarm.engine import Engine

if TYPE_CHECKING:
    from media.support import MediaSupport
    from swarm.service import SwarmService

SWARM_SUFFIX = "-swarm"


@dataclass(slots=True, frozen=True)
class Cors:
    """vLLM's --allowed-origins/-methods/-headers and --allow-credentials."""

    origins: tuple[str, ...]
    methods: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = ("*",)
    credentials: bool = False


@dataclass(slots=True)
class ServerSettings:
    served_name: str = "model"
    api_keys: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024 * 1024
    heartbeat_s: float = 15.0
    # Extra fields shown by /version (e.g. the vLLM version).
    version_info: dict[str, str] = field(default_factory=dict)
    # Cross-origin requests allowed (None: no CORS headers, browsers refuse other origins).
    cors: Cors | None = None

    def __post_init__(self) -> None:
        if self.max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        if self.heartbeat_s <= 0:
            raise ValueError("heartbeat_s must be positive")


@dataclass(slots=True)
class AppContext:
    settings: ServerSettings
    engine: Engine | None = None
    swarm: SwarmService | None = None
    media: MediaSupport | None = None
    # Extra per-app objects (media limits, tool registry, ...) keyed by name.
    extras: dict[str, Any] = field(default_factory=dict)

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise ApiError(503, "the model is still loading", type="server_error", code="loading")
        return self.engine

    def model_ids(self) -> list[str]:
        name = self.settings.served_name
        return [name, name + SWARM_SUFFIX] if self.swarm is not None else [name]

    def resolve_model(self, model: str) -> bool:
        """Return True for the swarm id, False for plain chat; 404 for anything else."""
        if model not in self.model_ids():
            raise ApiError(
                404,
                f"The model '{model}' does not exist. Available: {', '.join(self.model_ids())}.",
                param="model",
                code="model_not_found",
            )
        return model.endswith(SWARM_SUFFIX) and model != self.settings.served_name
