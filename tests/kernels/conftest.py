"""Kernel tests run on a CUDA GPU when present, else on CPU through Triton's interpreter.

TRITON_INTERPRET must be set before triton is first imported, hence at conftest import time.
No other test folder imports triton, so this does not change them.
"""

from __future__ import annotations

import os

import pytest
import torch

HAS_CUDA = torch.cuda.is_available()
if not HAS_CUDA:
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture
def device() -> str:
    return "cuda" if HAS_CUDA else "cpu"


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
