"""The offline BM25 provider over a folder of txt, md, html and pdf files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.base import ToolContext, ToolRegistry
from tools.search.local import LocalDocsIndex, chunk, snippet
from tools.web_search import WebSearchTool


def index(root: Path | None, **kw: object) -> LocalDocsIndex:
    idx = LocalDocsIndex(root, progress=False, **kw)  # type: ignore[arg-type]
    idx.refresh()
    return idx


async def test_finds_the_right_document_for_each_format(corpus: Path) -> None:
    idx = index(corpus)
    for query, source in [
        ("otters crack shellfish with rocks", "animals/otters.html#1"),
        ("giant kelp growth per day", "kelp.md#1"),
        ("Etna Sicily stratovolcano", "volcano.txt#1"),
        ("hello pdf world", "report.pdf#1"),
    ]:
        hits = await idx.search(query, 3)
        assert hits and hits[0].url == f"doc:{source}", (query, hits)


async def test_ranks_by_relevance_and_drops_non_matches(corpus: Path) -> None:
    hits = await index(corpus).search("kelp urchins", 10)
    assert [h.url for h in hits][:2] == ["doc:kelp.md#1", "doc:animals/otters.html#1"]
    assert all(h.score and h.score > 0 for h in hits)
    assert await index(corpus).search("zeppelin", 5) == []


async def test_refresh_picks_up_new_and_changed_files(corpus: Path) -> None:
    idx = index(corpus, refresh_s=0.0)
    assert await idx.search("zeppelin airship", 3) == []
    new = corpus / "zeppelin.txt"
    new.write_text("Zeppelin\n\nA zeppelin is a rigid airship.")
    os.utime(new, ns=(1, 1))
    hits = await idx.search("zeppelin airship", 3)
    assert hits[0].url == "doc:zeppelin.txt#1"
    assert idx.refresh() is False  # nothing changed since


async def test_empty_or_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    reg = ToolRegistry([WebSearchTool(index(tmp_path / "nope"))])
    result = await reg.invoke("web_search", {"query": "anything"}, ToolContext())
    assert result.is_error and "no documents" in result.text
    reg = ToolRegistry([WebSearchTool(index(None))])
    result = await reg.invoke("web_search", {"query": "anything"}, ToolContext())
    assert "--search-docs" in result.text


async def test_passage_lookup_and_long_files_are_chunked(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text(
        "\n\n".join(f"Paragraph {i} about topic{i}." for i in range(200))
    )
    idx = index(tmp_path, chunk_chars=300)
    hits = await idx.search("topic150", 1)
    assert hits[0].url.startswith("doc:long.txt#") and "(part" in hits[0].title
    passage = idx.passage(hits[0].url.removeprefix("doc:"))
    assert passage is not None and "topic150" in passage.text


def test_chunk_and_snippet() -> None:
    pieces = chunk("a" * 250 + "\n\n" + "b" * 10, 100)
    assert [len(p) for p in pieces] == [
        100,
        100,
        62,
    ]  # the tail shares a piece with the next paragraph
    text = "x " * 300 + "needle here " + "y " * 300
    snip = snippet(text, "the needle", width=80)
    assert "needle" in snip and snip.startswith("…") and snip.endswith("…")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({}, "'query' is required"),
        ({"query": "   "}, "'query' is required"),
        ({"query": "kelp", "max_results": 0}, "between 1 and 20"),
        ({"query": "kelp", "max_results": 2.5}, "must be an integer"),
        ({"query": "kelp", "max_results": True}, "must be an integer"),
    ],
)
async def test_web_search_bad_arguments(corpus: Path, args: dict, needle: str) -> None:
    reg = ToolRegistry([WebSearchTool(index(corpus))])
    result = await reg.invoke("web_search", args, ToolContext())
    assert result.is_error and needle in result.text


async def test_web_search_renders_numbered_results(corpus: Path) -> None:
    reg = ToolRegistry([WebSearchTool(index(corpus))])
    result = await reg.invoke("web_search", {"query": "kelp", "max_results": 1}, ToolContext())
    assert not result.is_error
    assert result.text.splitlines()[1].startswith("1. Kelp forests")
    assert "2." not in result.text
