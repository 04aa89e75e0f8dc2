"""Tool results as agent history, images included, and the images a task may touch.

Chat templates take tool messages as text, so images a tool returns (`image_ops`, MCP image
content) follow the turn's tool messages as one user message of image parts, for models
that see images; a text-only model gets a note in the tool text instead. A sub-agent's
tools reach only the request images its task was attached (`image:N` keeps its number).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from swarm.turn import ToolCall
from tools.base import Json, ToolResult


def tool_messages(
    calls: list[ToolCall], results: list[ToolResult], *, sees_images: bool
) -> list[Json]:
    """One tool message per call, in call order; then the calls' images, if any."""
    messages: list[Json] = []
    parts: list[Json] = []
    for call, result in zip(calls, results, strict=True):
        text = result.text
        if result.images and not sees_images:
            n = len(result.images)
            text += (
                f"\n[{call.name} returned {n} image{'s' if n > 1 else ''}; this model cannot "
                "see images, so rely on the text above.]"
            )
        messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        if sees_images and result.images:
            parts.append({"type": "text", "text": f"Image(s) returned by {call.name} ({call.id}):"})
            parts += [image_part(img) for img in result.images]
    if parts:
        messages.append({"role": "user", "content": parts})
    return messages


def image_part(data: bytes) -> Json:
    mime = "image/jpeg" if data[:2] == b"\xff\xd8" else "image/png"
    url = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return {"type": "image_url", "image_url": {"url": url}}


def attached_images(images: Sequence[bytes], attachments: Sequence[str]) -> list[bytes]:
    """The request's images with every one the task was not attached emptied (numbers kept)."""
    allowed = {
        int(ref.split(":", 1)[1].split("@", 1)[0])
        for ref in attachments
        if ref.startswith("image:")
    }
    return [img if i in allowed else b"" for i, img in enumerate(images)]
