"""Tool images reach the model: image parts for multimodal models, a note for text-only ones;
a sub-agent's tools reach only the images its task was attached."""

from __future__ import annotations

import base64
import io
from contextlib import aclosing

import pytest
from PIL import Image

from swarm.engine import ChatRequest, ModelInfo
from swarm.limits import SwarmLimits
from swarm.service import SwarmService
from swarm.store import open_store
from tests.fakes.scripted_engine import ScriptedEngine, call, say
from tools.base import ToolRegistry
from tools.image_ops import ImageOpsTool


def _png(color: str) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (32, 16), color).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


MESSAGES = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in the second picture?"},
            {"type": "image_url", "image_url": {"url": _png("red")}},
            {"type": "image_url", "image_url": {"url": _png("blue")}},
        ],
    }
]
ORCH = [
    call("create_subagent", {"name": "eye", "system_prompt": "p", "tools": ["image_ops"]}),
    call("assign_task", {"agent": "eye", "task": "look", "attachments": ["image:1"]}),
    say("A blue picture."),
]
EYE = [
    call("image_ops", {"image": "image:1", "op": "grayscale"}),
    call("image_ops", {"image": "image:0", "op": "grayscale"}),
    say("It is a plain blue picture."),
]


async def _run(multimodal: bool) -> ScriptedEngine:
    engine = ScriptedEngine(
        {"orchestrator": ORCH, "eye": EYE}, info=ModelInfo("kimi-vl", multimodal=multimodal)
    )
    store = open_store(":memory:")
    try:
        service = SwarmService(engine, ToolRegistry([ImageOpsTool()]), store, SwarmLimits())
        request = ChatRequest(messages=MESSAGES)
        async with aclosing(service.run(request, service.options(None))) as stream:
            _ = [item async for item in stream]
    finally:
        store.close()
    return engine


async def test_multimodal_models_see_tool_images_as_image_parts() -> None:
    engine = await _run(multimodal=True)
    second = engine.requests_for("eye")[1].messages
    tool, images = second[-2], second[-1]
    assert tool["role"] == "tool" and "grayscale of image:1" in tool["content"]
    assert images["role"] == "user"
    urls = [p["image_url"]["url"] for p in images["content"] if p["type"] == "image_url"]
    assert len(urls) == 1 and urls[0].startswith("data:image/png;base64,")
    grey = Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1])))
    assert grey.mode == "L" and grey.size == (32, 16)


async def test_text_only_models_get_a_note_instead() -> None:
    engine = await _run(multimodal=False)
    second = engine.requests_for("eye")[1].messages
    assert second[-1]["role"] == "tool" and "cannot see images" in second[-1]["content"]
    assert not any(isinstance(m.get("content"), list) for m in second[2:])


@pytest.mark.parametrize("multimodal", [True, False])
async def test_tools_reach_only_the_attached_images(multimodal: bool) -> None:
    engine = await _run(multimodal=multimodal)
    third = engine.requests_for("eye")[2].messages
    refused = [m for m in third if m["role"] == "tool"][-1]
    assert "image:0 is not attached to this task" in refused["content"]
