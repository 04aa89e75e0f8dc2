"""A sub-agent attachment `video:0@start-end` reaches the sub-agent as only that slice."""

from __future__ import annotations

import base64

from media.config import MediaLimits, MoonViTConfig
from media.resolve import resolve_media
from media.slice import slice_media
from media.store import unwrap_slice
from swarm.engine import Json
from tests.fakes.scripted_engine import call, say
from tests.media.conftest import data_url
from tests.swarm.conftest import make_harness, tool_messages


async def _attach(ref: str, messages: list[Json]) -> Json:
    return await slice_media(ref, messages, cfg=MoonViTConfig(), limits=MediaLimits())


async def test_video_slice_attachment_and_bad_slice(clip: bytes) -> None:
    video = {"type": "video_url", "video_url": {"url": data_url(clip, "video/mp4")}}
    messages = await resolve_media(
        [{"role": "user", "content": [{"type": "text", "text": "watch"}, video]}], MediaLimits()
    )
    orchestrator = [
        call("create_subagent", {"name": "w", "system_prompt": "p"}),
        call(
            "assign_task",
            {"agent": "w", "task": "what happens?", "attachments": ["video:0@00:01-00:02"]},
        ),
        call(
            "assign_task",
            {"agent": "w", "task": "and here?", "attachments": ["video:0@00:09-00:05"]},
        ),
        say("done"),
    ]
    h = make_harness(
        {"orchestrator": orchestrator, "w": [say("a green bar moves right")]}, attacher=_attach
    )
    await h.run(messages=messages)
    (w,) = h.engine.requests_for("w")
    part = w.messages[1]["content"][1]
    blob = base64.b64decode(part["video_url"]["url"].split(",", 1)[1])
    assert unwrap_slice(blob) == (clip, 1.0, 2.0)  # only seconds 1-2 are decoded for it
    results = tool_messages(h.engine.requests_for("orchestrator")[-1])
    assert results[-1]["content"].startswith("[failed")  # an unusable slice is data, not a crash
