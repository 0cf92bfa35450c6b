"""What the reader reads: candidate sentences of the retrieved passages, each with its
neighbours and section heading. Shared by training and answering, so both see the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Passage

PASSAGES = 30  # hybrid passages whose sentences are candidates
KEEP = 12  # candidates the reader scores (the best by e5 similarity and shared words)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of a passage (``passage.text[start:end]``) and what surrounds it."""

    passage: Passage
    rank: int  # the passage's rank in the hybrid search
    start: int
    end: int
    before: str
    after: str
    prior: float  # the cheap score candidates were chosen by (rag.answer.collect_evidence)

    @property
    def sentence(self) -> str:
        return self.passage.text[self.start : self.end]

    @property
    def heading(self) -> str:
        return self.passage.section[-1] if self.passage.section else ""


def around(spans: Sequence[tuple[int, int]], text: str, start: int, end: int) -> tuple[str, str]:
    """The sentence before and the one after ``start:end`` among ``spans`` of ``text``."""
    before = after = ""
    for s, e in spans:
        if e <= start:
            before = text[s:e]
        elif s >= end and not after:
            after = text[s:e]
    return before, after


def from_evidence(evidence: Sequence, keep: int = KEEP) -> list[Candidate]:
    """Candidates from :class:`rag.answer.Evidence` (best ``keep`` by their score)."""
    ordered = sorted(evidence, key=lambda ev: -ev.score)[:keep]
    out = []
    spans_cache: dict[str, list[tuple[int, int]]] = {}
    for ev in ordered:
        text = ev.passage.text
        if ev.passage.chunk_id not in spans_cache:
            from ingest.nlp import block_sentence_spans

            spans_cache[ev.passage.chunk_id] = block_sentence_spans(text)
        before, after = around(spans_cache[ev.passage.chunk_id], text, ev.start, ev.end)
        out.append(Candidate(ev.passage, ev.rank, ev.start, ev.end, before, after, ev.score))
    return out
