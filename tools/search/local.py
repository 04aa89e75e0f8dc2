"""Offline search: a BM25 index (bm25s) over a folder of the operator's documents.

Files (txt, md, html, pdf) are cut into passages of about `chunk_chars`; the index
is built on start with a progress bar and rebuilt when the folder changes (checked
at most every `refresh_s` seconds, on the next search).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.base import ToolError
from tools.extract import file_to_text
from tools.search.base import SearchHit

log = logging.getLogger(__name__)

SUFFIXES = frozenset({".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf"})
_WORD = re.compile(r"\w+")


@dataclass(slots=True, frozen=True)
class Passage:
    title: str
    source: str  # path relative to the docs folder, with `#part`
    text: str


@dataclass(slots=True)
class _Index:
    passages: list[Passage]
    retriever: Any  # bm25s.BM25; None when there are no passages
    signature: tuple[tuple[str, int, int], ...]


def chunk(text: str, size: int) -> list[str]:
    """Paragraph-aligned pieces of about `size` characters."""
    pieces: list[str] = []
    current = ""
    for para in text.split("\n\n"):
        while len(para) > size:  # one giant paragraph: hard cut
            pieces.append(para[:size])
            para = para[size:]
        if current and len(current) + len(para) > size:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{para}" if current else para
    if current.strip():
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def snippet(text: str, query: str, width: int = 320) -> str:
    """A window of `text` around the first query word it contains."""
    lower = text.lower()
    hits = [i for w in _WORD.findall(query.lower()) if len(w) > 2 and (i := lower.find(w)) >= 0]
    start = max(0, min(hits) - width // 4) if hits else 0
    piece = " ".join(text[start : start + width].split())
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


@dataclass(slots=True)
class LocalDocsIndex:
    """The default `web_search` provider; needs no network."""

    root: Path | None
    refresh_s: float = 60.0
    chunk_chars: int = 1200
    progress: bool = True
    name: str = "local"
    _index: _Index | None = field(default=None, init=False)
    _checked: float = field(default=0.0, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def files(self) -> list[Path]:
        if self.root is None or not self.root.is_dir():
            return []
        return sorted(
            p for p in self.root.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
        )

    def _signature(self, files: list[Path]) -> tuple[tuple[str, int, int], ...]:
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)

    def refresh(self) -> bool:
        """Rebuild if the folder changed since the last build; True if it rebuilt. Blocking."""
        files = self.files()
        signature = self._signature(files)
        self._checked = time.monotonic()
        if self._index is not None and self._index.signature == signature:
            return False
        self._index = self._build(files, signature)
        return True

    def _build(self, files: list[Path], signature: tuple[tuple[str, int, int], ...]) -> _Index:
        from tqdm import tqdm

        passages: list[Passage] = []
        for path in tqdm(
            files, desc="indexing search docs", unit="file", disable=not self.progress
        ):
            try:
                title, text = file_to_text(path)
            except (OSError, ValueError) as exc:  # one bad file must not stop the index
                log.warning("skipping %s: %s", path, exc)
                continue
            rel = path.relative_to(self.root) if self.root else path
            parts = chunk(text, self.chunk_chars)
            for i, part in enumerate(parts):
                label = f"{title} (part {i + 1}/{len(parts)})" if len(parts) > 1 else title
                passages.append(Passage(label, f"{rel}#{i + 1}", part))
        return _Index(passages, self._fit(passages), signature)

    def _fit(self, passages: list[Passage]) -> Any:
        if not passages:
            return None
        import bm25s

        tokens = bm25s.tokenize(
            [f"{p.title}\n{p.text}" for p in passages],
            stopwords="en",
            return_ids=False,
            show_progress=False,
        )
        retriever = bm25s.BM25()
        retriever.index(tokens, show_progress=False)
        return retriever

    def _search(self, query: str, k: int) -> list[SearchHit]:
        index = self._index  # one read: a concurrent rebuild swaps the whole object
        if index is None or index.retriever is None:
            where = self.root or "(none configured; start the server with --search-docs DIR)"
            raise ToolError(f"the local search index has no documents (folder: {where})")
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)
        k = min(k, len(index.passages))
        ids, scores = index.retriever.retrieve(tokens, k=k, show_progress=False)
        hits: list[SearchHit] = []
        for i, score in zip(ids[0], scores[0], strict=True):
            if score <= 0:
                continue
            p = index.passages[int(i)]
            # The whole passage: a doc: address is not something fetch_url can open.
            hits.append(SearchHit(p.title, f"doc:{p.source}", p.text, float(score)))
        return hits

    async def search(self, query: str, k: int) -> list[SearchHit]:
        async with self._lock:
            if self._index is None or time.monotonic() - self._checked > self.refresh_s:
                await asyncio.to_thread(self.refresh)
        return await asyncio.to_thread(self._search, query, k)

    def passage(self, source: str) -> Passage | None:
        """The full passage behind a `doc:` hit."""
        index = self._index
        return next((p for p in index.passages if p.source == source), None) if index else None
