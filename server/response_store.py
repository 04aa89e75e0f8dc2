"""Responses kept in the run store: `retrieve`, and `previous_response_id` chains.

A stored response keeps its full input as items; the conversation a follow-up continues
is that input plus the response's output items (instructions never carry over).
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
    def __init__(self, store: RunStore | None) -> None:
        self._store = store

    def save(
        self, response: Json, input_items: list[Json], *, swarm_run: str | None = None
    ) -> None:
        if self._store is None:
            return
        state = {"kind": _KIND, "input": input_items, "swarm_run": swarm_run}
        self._store.save(str(response["id"]), str(response["status"]), response, state, [])

    def get(self, response_id: str, *, param: str = "response_id") -> tuple[Json, Json]:
        """(response, saved state) of a stored response; 404 when there is none."""
        found = self._store.state(response_id) if self._store is not None else None
        record = self._store.get(response_id) if self._store is not None else None
        if found is None or record is None or found[1].get("kind") != _KIND:
            raise ApiError(
                404,
                f"Response with id '{response_id}' not found.",
                param=param,
                code="not_found",
            )
        for key in ("created", "updated"):  # the store's bookkeeping, not response fields
            record.pop(key, None)
        return record, found[1]

    def history(self, response_id: str) -> list[Json]:
        """The items a follow-up of `response_id` continues."""
        response, state = self.get(response_id, param="previous_response_id")
        return [*state["input"], *_replayable(response.get("output") or [])]


def _replayable(output: list[Json]) -> list[Json]:
    """Output items as input items (status/ids the input schema rejects are dropped)."""
    items = []
    for item in output:
        item = {k: v for k, v in item.items() if v is not None}
        if item.get("type") == "reasoning":
            item.pop("status", None)
        items.append(item)
    return items
