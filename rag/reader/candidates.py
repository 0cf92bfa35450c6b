"""What the reader reads: candidate sentences of the retrieved passages, each with its
neighbours and section heading. Shared by training and answering, so both see the same thing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Passage
from .base import E5Tokenizer

PASSAGES = 30  # hybrid passages whose sentences are candidates
KEEP = 12  # candidates the reader scores (the best by e5 similarity and shared words)
PRIOR_SCALE = 10.0  # the cheap score varies by ~0.1 between candidates: bring it to unit scale
MAX_LENGTH = 128  # tokens of one (question, candidate) pair
QUESTION_TOKENS = 48
HEADING_TOKENS = 16
SENTENCE_TOKENS = 64


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
            spans_cache[ev.passage.chunk_id] = ev.passage.sentence_spans()
        before, after = around(spans_cache[ev.passage.chunk_id], text, ev.start, ev.end)
        out.append(Candidate(ev.passage, ev.rank, ev.start, ev.end, before, after, ev.score))
    return out


class PairEncoder:
    """Token ids for (question, candidate) pairs, within ``MAX_LENGTH``."""

    def __init__(self, tokenizer: E5Tokenizer) -> None:
        self.tok = tokenizer
        self.open, self.close = (ids for ids in tokenizer.content_ids(["»", "«"]))

    def encode(self, question: str, candidates: Sequence[Candidate]) -> list[list[int]]:
        q = self.tok.content_ids(["query: " + question])[0]
        if len(q) > QUESTION_TOKENS:  # a described situation first: keep the question proper
            q = q[:8] + q[-(QUESTION_TOKENS - 8) :]
        texts: list[str] = []
        for c in candidates:
            texts.extend(["passage: " + c.heading + ":", c.before, c.sentence, c.after])
        encoded = self.tok.content_ids(texts)
        pieces = [ids if t.strip() else [] for t, ids in zip(texts, encoded, strict=True)]
        out = []
        for i in range(len(candidates)):
            head, before, sentence, after = pieces[4 * i : 4 * i + 4]
            head, sentence = head[:HEADING_TOKENS], sentence[:SENTENCE_TOKENS]
            room = MAX_LENGTH - 3 - len(q) - len(head) - len(sentence) - 2
            take_before = min(len(before), max(room // 2, room - len(after)))
            take_after = min(len(after), room - take_before)
            ids = [self.tok.bos, *q, self.tok.eos, *head]
            ids += before[len(before) - take_before :] if take_before > 0 else []
            ids += [*self.open, *sentence, *self.close, *after[: max(take_after, 0)]]
            out.append([*ids, self.tok.eos])
        return out
