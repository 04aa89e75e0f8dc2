from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clients.scripted_app import serve_scripted


@pytest.fixture(scope="module")
def scripted_url() -> Iterator[str]:
    """Base URL (`.../v1`) of a real HTTP server running the swarm on the scripted engine."""
    with serve_scripted() as url:
        yield url
