"""Should the question be answered from this evidence?

Two kinds of evidence against answering, both explained in the answer's notes:

- answer typing (:mod:`rag.answerability`): the question asks for a number, an amount, a date,
  or names something the reports never mention, and the evidence does not have it;
- weak evidence: the answerability model of :mod:`rag.answer_model` (trained and thresholded
  on the training question sets by ``benchmarks/train_answer_model.py``) finds the best
  evidence unlikely to answer. Under an embedder the model was not trained with, the best sentence's
  heuristic score (e5 similarity plus the share of question words it holds) must reach
  ``rag.answer.MIN_SCORE``, the 5th percentile of that score over the answerable calibration
  questions (``benchmarks/answer_quality.py --calibrate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .answer import MIN_SCORE, Evidence
from .answer_features import content_terms
from .answer_model import AnswerModel, checked_answerability, rank_evidence
from .answerability import is_english, known_word, off_topic, problems
from .bm25 import TermStats


def type_sentences(evidence: Sequence[Evidence]) -> list[str]:
    """The sentences that may hold the answer: the best ones by words shared or by meaning."""
    if not evidence:
        return []
    best = max(ev.similarity for ev in evidence[:15])
    return [
        ev.quote for ev in evidence[:15] if ev.overlap >= 0.2 or ev.similarity >= best - 0.04
    ] or [ev.quote for ev in evidence[:3]]


def rule_problems(question: str, evidence: Sequence[Evidence], stats: TermStats) -> list[str]:
    """The answer-type problems of :mod:`rag.answerability` over the best sentences; words
    count as known to the reports also as the two halves of a compound."""
    return problems(
        question,
        type_sentences(evidence),
        lambda word: known_word(word, stats.known),
        is_english(question),
    )


def unknown_topic(question: str, stats: TermStats) -> str | None:
    """Why a Dutch question is off-topic (the reports use none of its words), else None: a
    refusal whatever the evidence, since no sentence can be about it."""
    if is_english(question):
        return None
    unknown = off_topic(question, lambda word: known_word(word, stats.known))
    return (
        f"the reports use none of the question's words ({', '.join(unknown)})" if unknown else None
    )


@dataclass(frozen=True, slots=True)
class Judgement:
    grounded: bool
    score: float
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()  # best first


def judge(
    question: str,
    evidence: Sequence[Evidence],
    stats: TermStats,
    min_score: float = MIN_SCORE,
    model: AnswerModel | None = None,
) -> Judgement:
    """Answer or refuse, and why; ``evidence`` as collected (heuristic order).

    With the trained ``model``, the answerability model decides, after the rules of the
    families it was trained to let veto (``AnswerModel.vetoes``) refused what they object to;
    the other rules are one of its inputs and explain its refusal. The judgement then carries
    the evidence as the ranker orders it. Without it, the best heuristic score must reach
    ``min_score``."""
    if not evidence:
        return Judgement(False, 0.0, ("no passages found",))
    rules = rule_problems(question, evidence, stats)
    reasons = list(rules)
    if not content_terms(question):
        reasons.append("the question has no content words to look for")
    off = unknown_topic(question, stats)
    if off:
        reasons.append(off)
    if model is not None:
        ranked, logits = rank_evidence(model, question, evidence, stats)
        p = model.answerability(question, ranked, logits, stats, bool(rules))
        vetoed = model.vetoing(rules)
        if not (off or vetoed):  # refused before the model otherwise
            p, threshold = checked_answerability(model, question, evidence, p, ranked)
        else:
            threshold = model.threshold
        weak = p < threshold
        inputs = [r for r in rules if r not in vetoed]  # they explain a refusal, cause none
        reasons = [r for r in reasons if r not in inputs]
        if weak and not reasons:
            reasons = [f"weak evidence (answerability {p:.2f} < {threshold:.2f})", *inputs]
        if off:  # refused before the model: report how often such questions are answered
            p = min(p, model.off_topic_confidence)
        elif vetoed:
            p = min(p, model.vetoed_confidence)
        return Judgement(not reasons, p, tuple(reasons), tuple(ranked))
    score = evidence[0].score
    if score < min_score:
        reasons.append(f"weak evidence (score {score:.3f} < {min_score:.3f})")
    return Judgement(not reasons, score, tuple(reasons), tuple(evidence))
