"""`POST /v1/completions`, `/tokenize`, `/detokenize`: served by the engine as vLLM serves them."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from server.context import AppContext
from server.convert import json_object
from server.engines.openai_api import Endpoint, OpenAIEndpoints
from server.errors import ApiError
from server.passthrough import stream_response, until_disconnect
from server.sse import DONE
from swarm.engine import Json

router = APIRouter()


@router.post("/v1/completions")
async def completions(request: Request) -> Response:
    return await _serve(request, "completions")


@router.post("/tokenize")
async def tokenize(request: Request) -> Response:
    return await _serve(request, "tokenize")


@router.post("/detokenize")
async def detokenize(request: Request) -> Response:
    return await _serve(request, "detokenize")


def raw_engine(ctx: AppContext, body: Json, endpoint: Endpoint) -> OpenAIEndpoints:
    """The engine's raw endpoints, after checking `model` names the plain model."""
    model = body.get("model")
    if model is not None:
        if not isinstance(model, str):
            raise ApiError(400, "Invalid value for 'model': expected a string.", param="model")
        if ctx.resolve_model(model):
            raise ApiError(
                400,
                f"The swarm model '{model}' serves /v1/chat/completions and /v1/responses "
                f"only; use '{ctx.settings.served_name}' for /{endpoint}.",
                param="model",
            )
    engine = ctx.require_engine()
    if not isinstance(engine, OpenAIEndpoints):
        raise ApiError(404, f"This server's engine does not serve /{endpoint}.", code="not_found")
    return engine


async def _serve(request: Request, endpoint: Endpoint) -> Response:
    ctx: AppContext = request.app.state.ctx
    body = json_object(await request.body())
    engine = raw_engine(ctx, body, endpoint)
    result = await until_disconnect(request, engine.call_openai(endpoint, body))
    if isinstance(result, dict):
        return JSONResponse(result)
    return await stream_response(
        result,
        frame=_data_frame,
        frame_error=lambda err: _data_frame(err.body()),
        end=DONE,
        heartbeat_s=ctx.settings.heartbeat_s,
    )


def _data_frame(event: Json) -> bytes:
    return b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
