"""`GET /v1/models`: the plain model id and, when the swarm is on, `<name>-swarm`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from server.context import AppContext
from server.errors import ApiError

router = APIRouter()
_CREATED = int(time.time())


def _card(model_id: str) -> dict[str, object]:
    return {"id": model_id, "object": "model", "created": _CREATED, "owned_by": "kimi-swarm"}


@router.get("/v1/models")
async def list_models(request: Request) -> dict[str, object]:
    ctx: AppContext = request.app.state.ctx
    return {"object": "list", "data": [_card(m) for m in ctx.model_ids()]}


@router.get("/v1/models/{model_id}")
async def get_model(model_id: str, request: Request) -> dict[str, object]:
    ctx: AppContext = request.app.state.ctx
    if model_id not in ctx.model_ids():
        raise ApiError(
            404, f"The model '{model_id}' does not exist.", param="model", code="model_not_found"
        )
    return _card(model_id)
