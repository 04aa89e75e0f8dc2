"""`/v1/responses`: create (plain or swarm), stream, retrieve, cancel.

Plain responses are vLLM's own (in-process `OpenAIServingResponses`, or the upstream's);
the conversation state behind `store` and `previous_response_id` lives in our run store,
so it works the same over both engines and the swarm. One core: a request always runs as
a stream of Responses events; `stream: false` returns the final response it carried.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from server.context import AppContext
from server.convert import json_object
from server.errors import ApiError
from server.passthrough import stream_response, until_disconnect
from server.response_store import ResponseRecords, as_items
from server.responses_swarm import swarm_events
from server.routes.completions import raw_engine
from swarm.engine import Json
from swarm.outputs import OutputStream

router = APIRouter()
TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
CANCELLED = "response.cancelled"


class LiveResponses:
    """Responses being generated in this process, by id: the stream each one reads."""

    def __init__(self) -> None:
        self.streams: dict[str, OutputStream[Json]] = {}
        self.cancelled: set[str] = set()

    async def cancel(self, response_id: str) -> bool:
        """Stop the producer of a live response (its engine work is aborted); False if none."""
        stream = self.streams.get(response_id)
        if stream is None:
            return False
        self.cancelled.add(response_id)
        await stream.interrupt()
        return True

    def forget(self, response_id: str) -> None:
        self.streams.pop(response_id, None)
        self.cancelled.discard(response_id)


def _live(ctx: AppContext) -> LiveResponses:
    live = ctx.extras.get("live_responses")
    if not isinstance(live, LiveResponses):
        live = ctx.extras["live_responses"] = LiveResponses()
    return live


def _records(request: Request) -> ResponseRecords:
    ctx: AppContext = request.app.state.ctx
    owner = request.scope["state"].get("owner")  # set when API keys are on
    return ResponseRecords(ctx.swarm.store if ctx.swarm is not None else None, owner)


@router.post("/v1/responses")
async def create_response(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    body = json_object(await request.body())
    if body.get("background"):
        raise ApiError(
            400, "Background responses are not supported; stream instead.", param="background"
        )
    records = _records(request)
    prev_id = body.pop("previous_response_id", None)
    history = await records.history(prev_id) if prev_id is not None else []
    items = [*history, *as_items(body.get("input"))]
    model, swarm = body.get("model"), body.get("swarm")
    is_swarm = (isinstance(model, str) and ctx.resolve_model(model)) or (
        isinstance(swarm, dict) and bool(swarm.get("enabled"))
    )
    if is_swarm:
        events = await swarm_events(ctx, request, body, items)
    else:
        engine = raw_engine(ctx, body, "responses")
        send = {k: v for k, v in body.items() if k != "swarm"}  # ours, not the engine's
        send.update(input=items, stream=True, store=False)
        result = await until_disconnect(request, engine.call_openai("responses", send))
        if isinstance(result, dict):  # an engine that answered a stream request whole
            raise ApiError(502, "the model server did not stream the response", type="server_error")
        events = result
    echo = {"previous_response_id": prev_id, "store": body.get("store", True) is not False}
    finished = _finishing(events, echo, items, records, _live(ctx))
    if body.get("stream"):
        return await stream_response(
            finished,
            frame=event_frame,
            frame_error=_error_frame,
            end=b"",
            heartbeat_s=ctx.settings.heartbeat_s,
        )
    return JSONResponse(await until_disconnect(request, _final(finished)))


@router.get("/v1/responses/{response_id}")
async def retrieve_response(request: Request, response_id: str) -> JSONResponse:
    response, _ = await _records(request).get(response_id)
    return JSONResponse(response)


@router.get("/v1/responses/{response_id}/input_items")
async def input_items(request: Request, response_id: str, order: str = "desc") -> JSONResponse:
    """The input a stored response was generated from (newest first unless `order=asc`;
    not paginated)."""
    if order not in ("asc", "desc"):
        raise ApiError(400, "order must be 'asc' or 'desc'", param="order")
    _, state = await _records(request).get(response_id)
    items = [
        {"id": item.get("id") or f"item_{response_id}_{i}", **item}
        for i, item in enumerate(state["input"])
    ]
    if order == "desc":
        items.reverse()
    first, last = (items[0]["id"], items[-1]["id"]) if items else (None, None)
    body = {"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": False}
    return JSONResponse(body)


@router.post("/v1/responses/{response_id}/cancel")
async def cancel_response(request: Request, response_id: str) -> JSONResponse:
    """Stop a response being generated; its stream ends with `response.cancelled`."""
    ctx: AppContext = request.app.state.ctx
    if not await _live(ctx).cancel(response_id):
        response, _ = await _records(request).get(response_id)
        raise ApiError(
            400,
            f"Response '{response_id}' is not in progress (status {response['status']}).",
            param="response_id",
        )
    return JSONResponse({"id": response_id, "object": "response", "status": "cancelled"})


def _error_frame(err: ApiError) -> bytes:
    """A mid-stream failure as the Responses `error` event (then the stream closes)."""
    return event_frame(
        {"type": "error", "code": err.code, "message": err.message, "param": err.param}
    )


def event_frame(event: Json) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event.get('type', 'message')}\ndata: {data}\n\n".encode()


async def _finishing(
    events: AsyncIterator[Json],
    echo: Json,
    items: list[Json],
    records: ResponseRecords,
    live: LiveResponses,
) -> AsyncGenerator[Json, None]:
    """Echo the client's fields into every response snapshot; store the final one; cancel.

    The events are read from a stream of their own, which `cancel` can interrupt even while
    the source is silent (a swarm waiting on a sub-agent).
    """
    stream = OutputStream.relay(events, name="responses")
    response_id: str | None = None
    last: Json | None = None
    sequence = 0
    ended = False
    try:
        async for event in stream:
            if isinstance(response := event.get("response"), dict):
                response.update(echo)
                last = response
                if response_id is None:
                    response_id = str(response["id"])
                    live.streams[response_id] = stream
            sequence = int(event.get("sequence_number") or sequence)
            if event.get("type") in TERMINAL and last is not None:
                ended = True
                if echo["store"]:
                    records.save(last, items)
            yield event
        if ended or last is None or response_id not in live.cancelled:
            return
        last = {**last, "status": "cancelled"}
        if echo["store"]:
            records.save(last, items)
        yield {"type": CANCELLED, "sequence_number": sequence + 1, "response": last}
    finally:
        if response_id is not None:
            live.forget(response_id)
        await stream.aclose()


async def _final(events: AsyncGenerator[Json, None]) -> Json:
    """The response a stream ends with; an `error` event becomes that error."""
    final: Json | None = None
    try:
        async for event in events:
            if event.get("type") == "error":
                raise _stream_error(event)
            if event.get("type") in TERMINAL or event.get("type") == CANCELLED:
                final = event["response"]
    finally:
        await events.aclose()
    if final is None:
        raise ApiError(502, "the model server ended the response early", type="server_error")
    return final


def _stream_error(event: Json) -> ApiError:
    nested = event.get("error")
    err: Json = nested if isinstance(nested, dict) else event
    status = 500 if err.get("type") == "server_error" else 400
    return ApiError(
        status,
        str(err.get("message") or "the response failed"),
        type=str(err.get("type") or "invalid_request_error"),
        param=err.get("param"),
        code=err.get("code") if isinstance(err.get("code"), str) else None,
    )
