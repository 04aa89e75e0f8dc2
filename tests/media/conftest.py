"""Generated media for the media tests: images in many modes and formats, H.264 clips."""

from __future__ import annotations

import base64
import io

import av
import numpy as np
import pytest
from PIL import Image


def gradient(width: int, height: int, seed: int = 0) -> np.ndarray:
    """[h, w, 3] uint8 with smooth structure plus noise (exercises resampling)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 7 + y) % 256, (y * 5) % 256, (x ^ y) % 256], axis=-1)
    return (base + rng.integers(0, 32, base.shape)).astype(np.uint8)


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **save)
    return buf.getvalue()


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def make_clip(
    seconds: float, fps: int = 10, width: int = 160, height: int = 96, codec: str = "libx264"
) -> bytes:
    """An in-memory MP4 whose frame i has green level i (to identify sampled frames)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(round(seconds * fps)):
            frame = np.full((height, width, 3), 128, np.uint8)
            frame[..., 1] = min(255, i * 4)
            frame[:, (i * 3) % width] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="session")
def clip() -> bytes:
    """3 s, 10 fps, 160x96 H.264."""
    return make_clip(3.0)
