"""Documents to plain text: HTML via trafilatura, PDF via pypdf. Blocking; call from a thread."""

from __future__ import annotations

import io
import re
from pathlib import Path

_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n\s*\n+")


def html_title(html: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", html, re.S | re.I)
    return _SPACES.sub(" ", match.group(1)).strip() if match else ""


def html_to_text(html: str) -> str:
    """Main text of a page; falls back to all visible text for pages trafilatura finds empty."""
    import trafilatura  # heavy import: only when a page is actually converted

    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True)
    if text and text.strip():
        return text.strip()
    return tidy(_TAGS.sub(" ", html))


def pdf_to_text(data: bytes, max_pages: int = 200) -> str:
    """Text of the first `max_pages` pages of a PDF."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages[:max_pages]]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ValueError(f"unreadable PDF ({exc})") from exc
    return tidy("\n\n".join(pages))


def tidy(text: str) -> str:
    """Collapse runs of spaces and blank lines."""
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANKS.sub("\n\n", text).strip()


def file_to_text(path: Path) -> tuple[str, str]:
    """(title, text) of a txt, md, html or pdf file."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return path.stem, pdf_to_text(path.read_bytes())
    raw = path.read_text(encoding="utf-8", errors="replace")
    if suffix in {".html", ".htm"}:
        return html_title(raw) or path.stem, html_to_text(raw)
    first = next((ln.lstrip("# ").strip() for ln in raw.splitlines() if ln.strip()), "")
    return (first[:120] or path.stem), tidy(raw)
