"""Sentence-aware chunking that never crosses a section boundary."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .models import Chunk, Document
from .nlp import sentence_spans


@dataclass(frozen=True, slots=True)
class ChunkSettings:
    """How documents are cut into chunks. Part of the index fingerprint."""

    min_words: int = 60
    max_words: int = 180
    overlap_sentences: int = 1

    def fingerprint(self) -> str:
        return f"c{self.min_words}-{self.max_words}-o{self.overlap_sentences}"


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    words: int
    ends_block: bool
    leads_in: bool = False  # ends with ":" — a lead-in to the list or quote that follows


def chunk_id(report_id: str, content_hash: str, page_start: int, start: int, end: int) -> str:
    """A deterministic id from the document, the first page and the character span."""
    digest = hashlib.sha1(f"{content_hash}:{start}:{end}".encode()).hexdigest()[:12]
    return f"{report_id}:p{page_start}:{digest}"


def _units(doc: Document, start: int, end: int) -> list[_Unit]:
    units: list[_Unit] = []
    blocks = [b for b in doc.blocks if b[0] < end and b[1] > start] or [(start, end)]
    for b_start, b_end in blocks:
        s, e = max(b_start, start), min(b_end, end)
        spans = sentence_spans(doc.text[s:e], start=s)
        for i, (u_s, u_e) in enumerate(spans):
            words = len(doc.text[u_s:u_e].split())
            last = i == len(spans) - 1
            leads_in = last and doc.text[u_s:u_e].rstrip().endswith(":")
            units.append(_Unit(u_s, u_e, words, ends_block=last, leads_in=leads_in))
    return units


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    """Cut ``doc`` into chunks of whole sentences, section by section."""
    settings = settings or ChunkSettings()
    chunks: list[Chunk] = []
    for section in doc.sections:
        units = _units(doc, section.char_start, section.char_end)
        groups = _group(units, settings)
        for first, last in groups:
            s, e = units[first].start, units[last].end
            page_start, page_end = doc.page_at(s), doc.page_at(e - 1)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc.report_id, doc.content_hash, page_start, s, e),
                    report_id=doc.report_id,
                    section=section.path,
                    page_start=page_start,
                    page_end=page_end,
                    char_start=s,
                    char_end=e,
                    text=doc.text[s:e],
                )
            )
    return chunks


def _group(units: list[_Unit], settings: ChunkSettings) -> list[tuple[int, int]]:
    """Index ranges (inclusive) of units that form chunks."""
    groups: list[tuple[int, int]] = []
    first, words = 0, 0
    for i, unit in enumerate(units):
        words += unit.words
        nxt = units[i + 1].words if i + 1 < len(units) else 0
        at_end = i == len(units) - 1
        full = words + nxt > settings.max_words
        paragraph_end = unit.ends_block and not unit.leads_in and words >= settings.min_words
        if at_end or paragraph_end or full:
            groups.append((first, i))
            if at_end:
                break
            overlap = 0 if unit.ends_block else settings.overlap_sentences
            first = max(first + 1, i + 1 - overlap)
            words = sum(u.words for u in units[first : i + 1])
    # A short tail joins the chunk before it when that stays within bounds.
    if len(groups) >= 2:
        a_first, a_last = groups[-2]
        _, b_last = groups[-1]
        tail = sum(u.words for u in units[a_last + 1 : b_last + 1])
        head = sum(u.words for u in units[a_first : a_last + 1])
        if tail < settings.min_words // 2 and head + tail <= settings.max_words * 1.25:
            groups[-2:] = [(a_first, b_last)]
    return groups
