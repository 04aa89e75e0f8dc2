"""PyAV sampling, chunking, slices, and the vLLM-side glue (no engine started)."""

from __future__ import annotations

import numpy as np
import pytest

from media.config import MediaLimits, MoonViTConfig
from media.errors import MediaError
from media.moonvit import MoonViTProcessor
from media.store import unwrap_slice, wrap_slice
from media.video import format_timestamp, load_chunks, probe, sample_times
from tests.media.conftest import make_clip

CFG = MoonViTConfig(in_patch_limit_each_frame=64)


def test_format_timestamp() -> None:
    assert format_timestamp(0) == "00:00:00.000"
    assert format_timestamp(3723.5) == "01:02:03.500"


def test_probe_reads_header(clip: bytes) -> None:
    info = probe(clip, MediaLimits())
    assert (info.width, info.height, info.codec) == (160, 96, "h264")
    assert info.fps == pytest.approx(10)
    assert info.duration == pytest.approx(3.0, abs=0.11)


def test_samples_at_two_fps_in_chunks_of_four(clip: bytes) -> None:
    info = probe(clip, MediaLimits())
    times = sample_times(info, CFG)
    chunks = load_chunks(clip, CFG, MediaLimits())
    assert len(times) == round(info.duration * 2)
    assert [len(c.frames) for c in chunks] == [4, 2]
    assert [c.timestamp for c in chunks] == ["00:00:00.000", "00:00:02.000"]
    # frame i has green ≈ 4i: samples are frames 0, 5, 10, ... (every 0.5 s at 10 fps)
    greens = [int(np.median(f[..., 1])) for c in chunks for f in c.frames]
    assert greens == pytest.approx([4 * 5 * k for k in range(len(greens))], abs=6)


def test_frames_have_the_per_frame_navit_size(clip: bytes) -> None:
    chunk = load_chunks(clip, CFG, MediaLimits())[0]
    ours = MoonViTProcessor(CFG)
    plan = ours.plan(chunk.frames)
    assert chunk.frames[0].shape == (plan.height, plan.width, 3)
    patches = ours.process([chunk.frames])
    assert patches.grid_thws.tolist() == [[4, plan.padded[1] // 14, plan.padded[0] // 14]]


def test_native_rate_below_two_fps_keeps_every_frame() -> None:
    slow = make_clip(4.0, fps=1)
    assert len([f for c in load_chunks(slow, CFG, MediaLimits()) for f in c.frames]) == 4


def test_slice_decodes_only_the_range(clip: bytes) -> None:
    chunks = load_chunks(clip, CFG, MediaLimits(), start=1.0, end=2.0)
    assert [c.timestamp for c in chunks] == ["00:00:01.000"]
    assert len(chunks[0].frames) == 2
    assert int(np.median(chunks[0].frames[0][..., 1])) == pytest.approx(40, abs=6)


def test_slice_envelope_round_trip(clip: bytes) -> None:
    assert unwrap_slice(wrap_slice(clip, 1.5, None)) == (clip, 1.5, None)
    assert unwrap_slice(clip) == (clip, 0.0, None)


@pytest.mark.parametrize(
    ("limits", "start", "end", "code"),
    [
        (MediaLimits(max_video_seconds=1.0), 0.0, None, "media_too_long"),
        (MediaLimits(max_video_frames=3), 0.0, None, "media_too_long"),
        (MediaLimits(), 10.0, None, "invalid_range"),
        (MediaLimits(max_side=100), 0.0, None, "media_too_large"),
    ],
)
def test_refusals(
    clip: bytes, limits: MediaLimits, start: float, end: float | None, code: str
) -> None:
    with pytest.raises(MediaError) as err:
        load_chunks(clip, CFG, limits, start, end)
    assert err.value.code == code


def test_corrupt_video_is_a_media_error(clip: bytes) -> None:
    with pytest.raises(MediaError):
        load_chunks(clip[:64] + bytes(len(clip) - 64), CFG, MediaLimits())


def test_glue_splits_loader_output_into_prompted_chunks(clip: bytes) -> None:
    glue = pytest.importorskip("media.vllm_glue")
    video = pytest.importorskip("media.vllm_video")
    video.ENGINE_CFG[:] = [CFG]
    frames, meta = video.KimiSwarmVideoLoader.load_bytes(wrap_slice(clip, 0.5, None))

    class Info:
        media_token = "<|media_pad|>"
        image_processor = glue.KimiSwarmVisionProcessor(
            {
                "patch_size": 14,
                "merge_kernel_size": 2,
                "in_patch_limit": 64,
                "patch_limit_on_one_side": 512,
                "in_patch_limit_each_frame": 64,
                "in_patch_limit_video": None,
                "fixed_output_tokens": None,
                "image_mean": [0.5] * 3,
                "image_std": [0.5] * 3,
                "temporal_merge_kernel_size": 4,
            }
        )

    class Processor:
        info = Info()

    chunks = glue.split_video_chunks(Processor(), (frames, meta))
    assert [len(c["video_chunk"]) for c in chunks] == [4, 1]
    assert (
        chunks[0]["prompt"]
        == "00:00:00.500<|media_begin|>video<|media_content|><|media_pad|><|media_end|>"
    )
    media = [{"type": "video_chunk", "video_chunk": c["video_chunk"]} for c in chunks]
    out = Info.image_processor.preprocess(media)
    tokens = [Info.image_processor.media_tokens_calculator(m) for m in media]
    assert out["grid_thws"][:, 0].tolist() == [4, 1]
    assert sum(tokens) * 4 == int(out["grid_thws"][:, 1:].prod(-1).sum())
