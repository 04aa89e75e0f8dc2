"""build_registry wires the built-ins from a ToolsConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.config import SearchBackend, ToolsConfig
from tools.registry_factory import build_registry, make_search_provider
from tools.search.local import LocalDocsIndex
from tools.search.web import BraveProvider, SearxngProvider


def test_defaults_give_the_four_sub_agent_tools(corpus: Path) -> None:
    reg = build_registry(ToolsConfig(search_docs=corpus, load_entry_points=False, progress=False))
    assert reg.names() == ["fetch_url", "image_ops", "python", "web_search"]
    for schema in reg.schemas(reg.names()):
        assert schema["function"]["parameters"]["type"] == "object"


def test_disabled_tools_are_left_out() -> None:
    cfg = ToolsConfig(disabled=frozenset({"python", "web_search"}), load_entry_points=False)
    assert build_registry(cfg).names() == ["fetch_url", "image_ops"]


def test_backend_choice() -> None:
    assert isinstance(make_search_provider(ToolsConfig(progress=False)), LocalDocsIndex)
    searx = ToolsConfig(searxng_url="http://127.0.0.1:8888")
    brave = ToolsConfig(brave_api_key="k")
    assert isinstance(make_search_provider(searx), SearxngProvider)
    assert isinstance(make_search_provider(brave), BraveProvider)
    assert (
        ToolsConfig(searxng_url="u", brave_api_key="k").resolved_backend() is SearchBackend.SEARXNG
    )
    with pytest.raises(ValueError, match="--searxng-url"):
        ToolsConfig(search_backend=SearchBackend.SEARXNG)


def test_web_search_is_offered_only_with_a_backend(corpus: Path) -> None:
    bare = ToolsConfig(load_entry_points=False, progress=False)
    assert "web_search" not in build_registry(bare).names()  # nothing to search
    web = ToolsConfig(searxng_url="http://127.0.0.1:8888", load_entry_points=False)
    assert "web_search" in build_registry(web).names()
    local = ToolsConfig(search_docs=corpus, load_entry_points=False, progress=False)
    assert "web_search" in build_registry(local).names()
