"""Should the question be answered from this evidence?

Two kinds of evidence against answering, both explained in the answer's notes:

- answer typing (:mod:`rag.answerability`): the question asks for a number, an amount, a date,
  or names something the reports never mention, and the evidence does not have it;
- weak evidence: the best sentence's score (e5 similarity plus the share of question words it
  holds) is below ``rag.answer.MIN_SCORE``, calibrated by ``benchmarks/answer_quality.py
  --calibrate`` as the 5th percentile of that score over the answerable calibration questions
  (so that at least 95% of answerable questions pass this check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .answer import MIN_SCORE, Evidence
from .answerability import is_english, problems
from .bm25 import TermStats


def type_sentences(evidence: Sequence[Evidence]) -> list[str]:
    """The sentences that may hold the answer: the best ones by words shared or by meaning."""
    if not evidence:
        return []
    best = max(ev.similarity for ev in evidence[:15])
    return [
        ev.quote for ev in evidence[:15] if ev.overlap >= 0.2 or ev.similarity >= best - 0.04
    ] or [ev.quote for ev in evidence[:3]]


@dataclass(frozen=True, slots=True)
class Judgement:
    grounded: bool
    score: float
    reasons: tuple[str, ...]


def judge(
    question: str, evidence: Sequence[Evidence], stats: TermStats, min_score: float = MIN_SCORE
) -> Judgement:
    """Answer or refuse, and why."""
    if not evidence:
        return Judgement(False, 0.0, ("no passages found",))
    score = evidence[0].score
    reasons = problems(question, type_sentences(evidence), stats.known, is_english(question))
    if score < min_score:
        reasons.append(f"weak evidence (score {score:.3f} < {min_score:.3f})")
    return Judgement(not reasons, score, tuple(reasons))
