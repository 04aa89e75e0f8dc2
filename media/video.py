"""Video → sampled RGB frames → 4-frame chunks with `hh:mm:ss.fff` timestamps (PyAV).

Sampling follows Kimi's rule: `min(sample_fps, native fps)`, `n = max(round(frames ·
fps_s / fps), 1)` frames evenly spaced over the requested range. Only that range is
decoded (seek to the key frame before it), only sampled frames are colour-converted,
and they are scaled straight to the per-frame NaViT size by swscale (bicubic) while
still YUV, so a 4K clip never exists as full-size RGB in memory.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from media.config import MediaLimits, MoonViTConfig
from media.errors import MediaError
from media.moonvit import with_source
from media.resize import ResizePlan, frame_limit, plan_resize

_AV_ERRORS = (av.FFmpegError, OSError, ValueError, IndexError, RuntimeError)


@dataclass(slots=True, frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration: float
    codec: str


@dataclass(slots=True)
class VideoChunk:
    """Up to `temporal_merge_kernel_size` frames [h, w, 3] uint8 starting at `start` s."""

    start: float
    frames: list[np.ndarray]

    @property
    def timestamp(self) -> str:
        return format_timestamp(self.start)


def format_timestamp(seconds: float) -> str:
    """`hh:mm:ss.fff`."""
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def probe(data: bytes, limits: MediaLimits) -> VideoInfo:
    """Container header only: codec, size, fps, duration; refuses what the limits forbid."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise MediaError("the video has no video stream", code="corrupt_media")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = (container.duration or 0) / av.time_base
            info = VideoInfo(
                stream.codec_context.width, stream.codec_context.height, fps, duration, codec
            )
    except MediaError:
        raise
    except _AV_ERRORS as exc:
        raise MediaError(f"the video cannot be read: {exc}", code="corrupt_media") from exc
    _check(info, limits)
    return info


def _check(info: VideoInfo, limits: MediaLimits) -> None:
    if info.codec not in limits.video_codecs:
        allowed = ", ".join(sorted(limits.video_codecs))
        raise MediaError(
            f"the video codec {info.codec!r} is not accepted (use one of: {allowed})",
            code="unsupported_codec",
        )
    if info.width < 1 or info.height < 1 or info.fps <= 0:
        raise MediaError("the video has no usable frame size or frame rate", code="corrupt_media")
    if (
        info.width > limits.max_side
        or info.height > limits.max_side
        or info.width * info.height > limits.max_pixels
    ):
        raise MediaError(
            f"the video frame is {info.width}x{info.height}; the limit is {limits.max_side} px per side",
            code="media_too_large",
        )


def sample_times(
    info: VideoInfo, cfg: MoonViTConfig, start: float = 0.0, end: float | None = None
) -> list[float]:
    """Times (s) of the frames to sample in `[start, end)`."""
    end = info.duration if end is None else min(end, info.duration or end)
    span = max(0.0, end - start)
    fps = min(cfg.sample_fps, info.fps)
    count = max(round(span * fps), 1)  # = round(native frames · fps_s / fps)
    return [start + k / fps for k in range(count)]


def frame_plan(info: VideoInfo, cfg: MoonViTConfig) -> ResizePlan:
    return plan_resize(
        info.width, info.height, cfg, frame_limit(cfg, cfg.temporal_merge_kernel_size)
    )


def decode_frames(
    data: bytes, info: VideoInfo, times: list[float], size: tuple[int, int] | None
) -> list[tuple[float, np.ndarray]]:
    """Decode from the key frame before `times[0]`; keep the first frame at or after each time."""
    half = 0.5 / info.fps
    picked: list[tuple[float, np.ndarray]] = []
    width, height = size or (info.width, info.height)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if times[0] > 0 and stream.time_base is not None:
                container.seek(int(times[0] / stream.time_base), stream=stream, backward=True)
            for index, frame in enumerate(container.decode(stream)):
                at = frame.time if frame.time is not None else index / info.fps
                while len(picked) < len(times) and at + half >= times[len(picked)]:
                    rgb = frame.to_ndarray(
                        format="rgb24", width=width, height=height, interpolation="BICUBIC"
                    )
                    picked.append((times[len(picked)], rgb))
                if len(picked) == len(times):
                    break
    except _AV_ERRORS as exc:
        raise MediaError(f"the video cannot be decoded: {exc}", code="corrupt_media") from exc
    if not picked:
        raise MediaError(
            "the video has no decodable frames in the requested range", code="corrupt_media"
        )
    return picked


def check_range(
    data: bytes,
    cfg: MoonViTConfig,
    limits: MediaLimits,
    start: float = 0.0,
    end: float | None = None,
) -> tuple[VideoInfo, list[float]]:
    """Probe and apply the limits (cheap: headers only); return the times to sample."""
    info = probe(data, limits)
    if (
        start < 0
        or (end is not None and end <= start)
        or (info.duration and start >= info.duration)
    ):
        raise MediaError(
            f"the time range {start:g}-{end}s is outside the video (0-{info.duration:g}s)",
            code="invalid_range",
        )
    span = (min(end, info.duration) if end is not None else info.duration) - start
    if span > limits.max_video_seconds:
        raise MediaError(
            f"the video lasts {span:.1f}s; the limit is {limits.max_video_seconds:g}s",
            code="media_too_long",
        )
    times = sample_times(info, cfg, start, end)
    if len(times) > limits.max_video_frames:
        raise MediaError(
            f"the video needs {len(times)} frames; the limit is {limits.max_video_frames}",
            code="media_too_long",
        )
    return info, times


def decode_chunks(
    data: bytes, info: VideoInfo, times: list[float], cfg: MoonViTConfig
) -> list[VideoChunk]:
    """Decode the sampled frames at their NaViT size and group them into chunks."""
    plan = frame_plan(info, cfg)
    decoded = decode_frames(data, info, times, (plan.width, plan.height))
    frames = [(t, with_source(f, (info.width, info.height))) for t, f in decoded]
    k = cfg.temporal_merge_kernel_size
    return [
        VideoChunk(frames[i][0], [f for _, f in frames[i : i + k]])
        for i in range(0, len(frames), k)
    ]


def load_chunks(
    data: bytes,
    cfg: MoonViTConfig,
    limits: MediaLimits,
    start: float = 0.0,
    end: float | None = None,
) -> list[VideoChunk]:
    """Check, sample, decode and group into chunks of `temporal_merge_kernel_size`."""
    info, times = check_range(data, cfg, limits, start, end)
    return decode_chunks(data, info, times, cfg)
