"""The answer step's judgement with the reader: rerank the hybrid passages, order the
candidate sentences, and refuse when the calibrated answerability is low."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..answer import AnswerSettings, Evidence, collect_evidence
from ..answer_features import content_terms
from ..models import Passage
from ..refusal import Judgement, rule_problems, unknown_topic
from ..rerank import by_best_sentence
from ..retrieve import Retriever
from .candidates import KEEP, PASSAGES, Candidate, from_evidence
from .reader import Reader

KEEP_RATIO = 0.5  # cite further sentences the reader scores at least half as high as the best


def scored_evidence(
    reader: Reader, question: str, evidence: Sequence[Evidence], keep: int = KEEP
) -> tuple[list[Evidence], list[Candidate], np.ndarray]:
    """The ``keep`` best candidates by the cheap score, re-scored by the reader (score = the
    probability that the sentence answers), best first."""
    candidates = from_evidence(evidence, keep)
    probs = reader.score(question, candidates)
    by_span = {(ev.passage.chunk_id, ev.start): ev for ev in evidence}
    scored = [
        replace(by_span[(c.passage.chunk_id, c.start)], score=float(p))
        for c, p in zip(candidates, probs, strict=True)
    ]
    scored.sort(key=lambda ev: -ev.score)
    return scored, candidates, probs


def weigh_with_reader(
    question: str,
    retriever: Retriever,
    settings: AnswerSettings,
    reader: Reader,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> tuple[list[Passage], Judgement]:
    """Passages (reranked, the best ``settings.passages``) and the judgement: grounded when the
    reader's calibrated answerability reaches its threshold; the answer-type rules are one of
    its inputs, not a veto."""
    passages = retriever.search(question, k=PASSAGES, reports=reports, years=years)
    evidence = collect_evidence(question, passages, retriever, settings)
    if not evidence:
        return list(passages[: settings.passages]), Judgement(False, 0.0, ("no passages found",))
    scored, candidates, probs = scored_evidence(reader, question, evidence)
    problems = rule_problems(question, evidence, retriever.index.term_stats())
    p = reader.answerability(question, candidates, probs, bool(problems))
    reasons: list[str] = []
    if not content_terms(question):
        reasons.append("the question has no content words to look for")
    if off := unknown_topic(question, retriever.index.term_stats()):
        reasons.append(off)
    if p < reader.threshold:
        reasons.append(f"the reader finds no answer (answerability {p:.2f} < {reader.threshold})")
        reasons.extend(problems)
    ranked = by_best_sentence(passages, scored)[: settings.passages]
    return ranked, Judgement(not reasons, p, tuple(reasons), tuple(scored))
