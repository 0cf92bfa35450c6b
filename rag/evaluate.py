"""Retrieval evaluation on a gold question set: recall@k, MRR@10, nDCG@10 and the misses."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

from .models import Passage
from .verify import squash

if TYPE_CHECKING:
    from ingest.models import Document

    from .answer import Answer


_HYPHEN = re.compile(r"(\w)- (\w)")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    """Lower case, single spaces, line-break hyphenation ("aan- pakken", as a text copied from
    the PDF has it) and quote marks evened out: how evidence strings are matched."""
    return _HYPHEN.sub(r"\1\2", squash(text).lower().translate(_QUOTES))


class GoldQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    kind: str = "fact"
    evidence: list[str] = Field(min_length=1)


class UnanswerableQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    note: str | None = None
    why: str | None = None


class GoldSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: list[GoldQuestion]
    answerable_false: list[UnanswerableQuestion] = Field(default_factory=list)


def load_gold(path: Path) -> GoldSet:
    """A gold set: the gold format (questions + answerable_false) or a reader set's list of
    questions (tests/data/reader/: answerable with verbatim evidence, or not)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        return GoldSet.model_validate(data)
    from .reader.data import read_set

    questions = read_set(Path(path), training=False)
    return GoldSet(
        questions=[
            GoldQuestion(
                id=q.id, question=q.question, kind=q.form or "fact", evidence=list(q.evidence)
            )
            for q in questions
            if q.answerable
        ],
        answerable_false=[
            UnanswerableQuestion(id=q.id, question=q.question, why=q.kind or None)
            for q in questions
            if not q.answerable
        ],
    )


def cites_expected(quote: str, evidence: Sequence[str]) -> bool:
    """Whether a cited quote is an expected evidence sentence: it holds one, or it is one
    sentence (of 25 characters or more) of a span of several."""
    from .reader.data import answers

    return is_relevant(quote, evidence) or answers(quote, evidence)


def calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of probabilities ``p`` for outcomes ``y``, over equal-width
    bins."""
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if sel.any():
            total += sel.sum() / len(p) * abs(p[sel].mean() - y[sel].mean())
    return float(total)


def is_relevant(text: str, evidence: Sequence[str]) -> bool:
    norm = normalise(text)
    return any(normalise(e) in norm for e in evidence)


@dataclass(frozen=True, slots=True)
class Miss:
    id: str
    question: str
    rank: int | None  # rank of the first relevant passage within the top 10, or None


@dataclass(frozen=True, slots=True)
class RetrievalReport:
    n: int
    recall: dict[int, float]
    mrr10: float
    ndcg10: float
    avg_passage_chars: float
    misses: tuple[Miss, ...] = field(default=())
    by_kind: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            **{f"recall@{k}": round(v, 4) for k, v in sorted(self.recall.items())},
            "mrr@10": round(self.mrr10, 4),
            "ndcg@10": round(self.ndcg10, 4),
            "avg_passage_chars": round(self.avg_passage_chars, 1),
            "recall@5_by_kind": {k: round(v, 4) for k, v in sorted(self.by_kind.items())},
            "misses": [{"id": m.id, "question": m.question, "rank": m.rank} for m in self.misses],
        }


def evaluate_retrieval(
    gold: GoldSet,
    search: Callable[[str, int], list[Passage]],
    all_texts: Sequence[str] = (),
    ks: Sequence[int] = (1, 5, 10),
) -> RetrievalReport:
    """Score ``search`` on the answerable questions of ``gold``.

    ``all_texts`` (every chunk in the index) gives the number of relevant chunks per question,
    for the ideal DCG; without it the ideal assumes one relevant chunk.
    """
    depth = max(max(ks), 10)
    hits = {k: 0 for k in ks}
    rr_sum = ndcg_sum = 0.0
    chars: list[int] = []
    misses: list[Miss] = []
    kind_hits: dict[str, list[int]] = {}
    for q in gold.questions:
        passages = search(q.question, depth)
        chars.extend(len(p.text) for p in passages)
        rel = [is_relevant(p.text, q.evidence) for p in passages[:depth]]
        first = next((i + 1 for i, r in enumerate(rel) if r), None)
        for k in ks:
            hits[k] += int(first is not None and first <= k)
        rr_sum += 1.0 / first if first is not None and first <= 10 else 0.0
        n_rel = sum(is_relevant(t, q.evidence) for t in all_texts) if all_texts else 1
        dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rel[:10]) if r)
        idcg = sum(1.0 / math.log2(i + 2) for i in range(min(max(n_rel, 1), 10)))
        ndcg_sum += dcg / idcg
        kind_hits.setdefault(q.kind, []).append(int(first is not None and first <= 5))
        if first is None or first > 5:
            misses.append(Miss(q.id, q.question, first))
    n = len(gold.questions) or 1
    return RetrievalReport(
        n=len(gold.questions),
        recall={k: hits[k] / n for k in ks},
        mrr10=rr_sum / n,
        ndcg10=ndcg_sum / n,
        avg_passage_chars=sum(chars) / len(chars) if chars else 0.0,
        misses=tuple(misses),
        by_kind={k: sum(v) / len(v) for k, v in kind_hits.items()},
    )


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """How ``ask`` does on a gold set (see ``evaluate_answers``)."""

    answerable: int
    answered: float  # grounded answers to answerable questions
    with_evidence: float  # ... whose cited quotes hold an expected evidence string
    with_evidence_in_chunk: float  # ... or whose cited chunks do
    unanswerable: int
    refused: float
    quotes: int
    quotes_verified: float
    statements: int
    numbers_supported: float
    failures: tuple[dict[str, object], ...] = field(default=())
    ece: float | None = None  # of the answers' confidence, when they carry one

    def as_dict(self) -> dict[str, object]:
        return {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in (
                ("answerable", self.answerable),
                ("answered", self.answered),
                ("answered_with_expected_evidence", self.with_evidence),
                ("answered_with_evidence_in_cited_chunk", self.with_evidence_in_chunk),
                ("unanswerable", self.unanswerable),
                ("refused", self.refused),
                ("quotes", self.quotes),
                ("quotes_verified", self.quotes_verified),
                ("statements", self.statements),
                ("numbers_supported", self.numbers_supported),
                ("answerability_ece", self.ece),
                ("failures", list(self.failures)),
            )
        }


def evaluate_answers(
    gold: GoldSet, ask: Callable[[str], Answer], document_text: Callable[[str], Document | None]
) -> AnswerReport:
    """Score answers: evidence among citations, refusals, every quote and number checked.

    ``ask`` is called once per question and memoised here.

    ``document_text(report_id)`` gives the cleaned document (for the page check of quotes).
    """
    from .verify import find_quote, quote_on_page, unsupported_numbers

    memo: dict[str, Answer] = {}

    def ask_once(question: str) -> Answer:
        if question not in memo:
            memo[question] = ask(question)
        return memo[question]

    answered = with_ev = with_chunk = refused = 0
    quotes = verified = statements = numbers_ok = 0
    failures: list[dict[str, object]] = []
    for q in gold.questions:
        answer = ask_once(q.question)
        if not answer.grounded:
            failures.append({"id": q.id, "question": q.question, "why": "refused"})
            continue
        answered += 1
        cited = answer.citations
        if any(cites_expected(c.quote, q.evidence) for c in cited):
            with_ev += 1
        else:
            failures.append({"id": q.id, "question": q.question, "why": "evidence not cited"})
        chunks = {p.chunk_id: p.text for p in answer.passages}
        if any(is_relevant(chunks.get(c.chunk_id, ""), q.evidence) for c in cited):
            with_chunk += 1
    for u in gold.answerable_false:
        answer = ask_once(u.question)
        if not answer.grounded and not answer.citations:
            refused += 1
        else:
            failures.append({"id": u.id, "question": u.question, "why": "answered"})
    # every quote and number of every grounded answer, answerable or not
    for question in [
        *(q.question for q in gold.questions),
        *(q.question for q in gold.answerable_false),
    ]:
        answer = ask_once(question)
        by_n = {c.n: c for c in answer.citations}
        for c in answer.citations:
            quotes += 1
            doc = document_text(c.report_id)
            if doc is not None and find_quote(c.quote, doc.text) >= 0:
                verified += int(quote_on_page(c.quote, doc, c.page))
        for st in answer.statements:
            statements += 1
            numbers_ok += int(
                not unsupported_numbers(st.text, [by_n[n].quote for n in st.citations])
            )
    probs, outcomes = [], []
    for question, answerable in [
        *((q.question, 1.0) for q in gold.questions),
        *((q.question, 0.0) for q in gold.answerable_false),
    ]:
        if ask_once(question).confidence is not None:
            probs.append(ask_once(question).confidence)
            outcomes.append(answerable)
    n_ans = len(gold.questions) or 1
    return AnswerReport(
        answerable=len(gold.questions),
        answered=answered / n_ans,
        with_evidence=with_ev / n_ans,
        with_evidence_in_chunk=with_chunk / n_ans,
        unanswerable=len(gold.answerable_false),
        refused=refused / (len(gold.answerable_false) or 1),
        quotes=quotes,
        quotes_verified=verified / (quotes or 1),
        statements=statements,
        numbers_supported=numbers_ok / (statements or 1),
        failures=tuple(failures),
        ece=calibration_error(np.asarray(probs), np.asarray(outcomes)) if probs else None,
    )
