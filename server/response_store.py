"""Responses kept in the run store: `retrieve`, and `previous_response_id` chains.

A stored response keeps its full input as items; the conversation a follow-up continues
is that input plus the response's output items (instructions never carry over). Like
runs, a response belongs to the API key that created it (others get a 404).
"""

from __future__ import annotations

from typing import Any

from server.errors import ApiError
from swarm.engine import Json
from swarm.store import RunStore

_KIND = "response"


def as_items(value: Any) -> list[Json]:
    """Responses `input` (text or items) → a list of items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return list(value)
    raise ApiError(
        400, "Invalid value for 'input': expected a string or a list of items.", param="input"
    )


class ResponseRecords:
    def __init__(self, store: RunStore | None, owner: str | None) -> None:
        self._store = store
        self._owner = owner

    def save(self, response: Json, input_items: list[Json]) -> None:
        """Queue the write (committed in order by the store's writer)."""
        if self._store is None:
            return
        record = {**response, "owner": self._owner}
        state = {"kind": _KIND, "input": input_items}
        self._store.put_run(str(response["id"]), str(response["status"]), record, state)

    async def get(self, response_id: str, *, param: str = "response_id") -> tuple[Json, Json]:
        """(response, saved state) of a stored response of this owner; 404 otherwise."""
        record = state = None
        if self._store is not None:
            await self._store.flush()  # a follow-up may arrive before the writer committed
            record = await self._store.get(response_id)
            found = await self._store.state(response_id)
            state = found[1] if found is not None else None
        if (
            record is None
            or state is None
            or state.get("kind") != _KIND
            or record.pop("owner", None) != self._owner
        ):
            raise ApiError(
                404, f"Response with id '{response_id}' not found.", param=param, code="not_found"
            )
        for key in ("created", "updated"):  # the store's bookkeeping, not response fields
            record.pop(key, None)
        return record, state

    async def history(self, response_id: str) -> list[Json]:
        """The items a follow-up of `response_id` continues."""
        response, state = await self.get(response_id, param="previous_response_id")
        return [*state["input"], *_replayable(response.get("output") or [])]


def _replayable(output: list[Json]) -> list[Json]:
    """Output items as input items (fields the input schema rejects dropped)."""
    items = []
    for item in output:
        item = {k: v for k, v in item.items() if v is not None}
        if item.get("type") == "reasoning":
            item.pop("status", None)
        items.append(item)
    return items
