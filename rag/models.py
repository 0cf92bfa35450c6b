"""Typed records that leave the rag package."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ReportMeta:
    """What the index stores about a report beside its chunks."""

    report_id: str
    title: str
    year: int | None = None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk with its provenance and scores."""

    chunk_id: str
    report_id: str
    title: str
    year: int | None
    section: tuple[str, ...]
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    score: float = 0.0
    dense_score: float = 0.0
    bm25_score: float = 0.0
    ranks: tuple[int | None, int | None] = field(default=(None, None))
    authors: tuple[str, ...] = ()
    sentences: tuple[tuple[int, int], ...] | None = None  # spans stored at ingest

    def sentence_spans(self) -> list[tuple[int, int]]:
        """The passage's sentence spans: those stored with the chunk at ingest, or spaCy's
        now for a chunk indexed before they were stored (the same splitter either way)."""
        if self.sentences is not None:
            return list(self.sentences)
        from ingest.nlp import block_sentence_spans

        return block_sentence_spans(self.text)

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)

    @property
    def attribution(self) -> str:
        """ "Regioplan (2020)": authors (or the title) and year, for a statement's source."""
        who = " & ".join(self.authors) if self.authors else self.title
        return f"{who} ({self.year or 'z.j.'})"


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What happened to one file during ingest."""

    path: str
    report_id: str | None
    status: str  # "added" | "replaced" | "unchanged" | "failed"
    chunks: int = 0
    reason: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class IndexedReport:
    report_id: str
    title: str
    year: int | None
    chunks: int
    content_hash: str
    source: str
