"""Typed records that leave the ingest package."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of the cleaned document text under one heading path."""

    path: tuple[str, ...]
    char_start: int
    char_end: int


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned document: one text, with the page each character came from.

    ``page_starts[i]`` is the offset in ``text`` where PDF page ``i + 1`` begins.
    Text files and .docx count as one page.
    """

    report_id: str
    source_path: str
    content_hash: str
    text: str
    page_starts: tuple[int, ...]
    sections: tuple[Section, ...]
    blocks: tuple[tuple[int, int], ...] = field(default=())

    def page_at(self, offset: int) -> int:
        """The 1-based page number of the character at ``offset``."""
        return max(1, bisect.bisect_right(self.page_starts, offset))

    @property
    def page_count(self) -> int:
        return len(self.page_starts)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document, with exact provenance.

    Invariant: ``document.text[char_start:char_end] == text``.
    """

    chunk_id: str
    report_id: str
    section: tuple[str, ...]
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)
