"""Learned sentence ranking and answerability, trained on the calibration gold set.

Two small logistic models over features that hold for any Dutch question and report:

- the **sentence ranker** scores each sentence of the retrieved passages as the one that
  answers the question: e5 similarity (absolute, relative to the best, and by rank), shared
  question stems (plain and IDF-weighted), the similarity of the neighbouring sentences, the
  section heading, the passage's rank and dense score, the answer type ("hoeveel" needs a
  number of the counted thing) and a causal connective for "waarom" questions;
- the **answerability model** decides whether the best evidence answers the question at all:
  the ranker's best score, how much of the question's rarer words the best sentences and the
  passages hold, question words the reports never use, answer-type problems, language.

Both are trained by ``benchmarks/train_answer_model.py`` on ``tests/data/gold_retrieval.yaml``
(answerable questions with their evidence, unanswerable ones), never on the held-out set, and
stored with their embedder in ``rag/data/answer_model.json``. Under another embedder the
similarities mean something else: ``load_model`` returns None and the heuristic scores of
:mod:`rag.answer` are used, with the threshold ``MIN_SCORE``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answerability import (
    QUESTION_WORDS,
    WORD,
    asks_type,
    fits_type,
    focus,
    is_english,
    known_word,
    specificity,
)
from .bm25 import TermStats, dutch_stopwords, tokenize
from .meta import META

if TYPE_CHECKING:
    from .answer import Evidence

MODEL_PATH = Path(__file__).with_name("data") / "answer_model.json"

SENTENCE_FEATURES = (
    "similarity",
    "similarity_gap",
    "similarity_rank",
    "overlap",
    "idf_overlap",
    "rarest_term",
    "neighbour_similarity",
    "section_overlap",
    "passage_rank",
    "passage_dense",
    "first_in_passage",
    "log_words",
    "meta",
    "answer_type",
    "causal_for_why",
)
QUESTION_FEATURES = (
    "best_rank_logit",
    "best_similarity",
    "best_idf_overlap",
    "top3_coverage",
    "passage_coverage",
    "missing_rare_term",
    "unknown_specificity",
    "type_problem",
    "typed_anchor",
    "english",
    "best_dense",
    "log_terms",
)

_WHY = re.compile(r"\b(waarom|hoe\s+komt\s+het|wat\s+is\s+de\s+reden|why)\b", re.I)
_CAUSAL = re.compile(
    r"\b(omdat|doordat|waardoor|daardoor|hierdoor|want|vanwege|dankzij|als\s+gevolg|"
    r"oorzaak|reden|verklaring|bijgedragen|heeft\s+bijgedragen|aangezien|zodat)\b",
    re.I,
)


def content_terms(question: str) -> set[str]:
    """The question's stemmed content terms, without its question words."""
    words = [w for w in WORD.findall(question) if w.lower() not in QUESTION_WORDS]
    numbers = re.findall(r"\d+(?:[.,]\d+)?", question)
    return set(tokenize(" ".join(words + numbers)))


def unknown_words(question: str, stats: TermStats) -> list[str]:
    """Content words of a question that the indexed reports never use, even as compound parts."""
    stop = dutch_stopwords()
    return [
        w
        for w in dict.fromkeys(WORD.findall(focus(question)))
        if len(w) > 2
        and w.lower() not in QUESTION_WORDS
        and w.lower() not in stop
        and not known_word(w, stats.known)
    ]


def _idf_share(terms: set[str], have: set[str], stats: TermStats) -> float:
    """The IDF-weighted share of ``terms`` found in ``have``."""
    if not terms:
        return 0.0
    total = sum(stats.idf(t) for t in terms)
    return sum(stats.idf(t) for t in terms & have) / total if total > 0 else 0.0


def sentence_matrix(question: str, evidence: Sequence[Evidence], stats: TermStats) -> np.ndarray:
    """One row of SENTENCE_FEATURES per evidence sentence."""
    if not evidence:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float64)
    qterms = content_terms(question)
    rarest = max(qterms, key=stats.idf) if qterms else None
    sims = np.asarray([ev.similarity for ev in evidence])
    best = float(sims.max())
    sim_rank = np.empty(len(evidence))
    sim_rank[np.argsort(-sims, kind="stable")] = np.arange(len(evidence))
    typed = asks_type(question)
    english = is_english(question)
    why = bool(_WHY.search(question))
    # neighbours: the sentences before and after in the same passage
    by_passage: dict[int, list[int]] = {}
    for i, ev in enumerate(evidence):
        by_passage.setdefault(ev.rank, []).append(i)
    neighbour = np.zeros(len(evidence))
    first = np.zeros(len(evidence))
    for members in by_passage.values():
        members.sort(key=lambda i: evidence[i].start)
        first[members[0]] = 1.0
        for j, i in enumerate(members):
            around = [sims[members[k]] for k in (j - 1, j + 1) if 0 <= k < len(members)]
            neighbour[i] = max(around) if around else sims[i]
    section_terms: dict[int, set[str]] = {}
    rows = []
    for i, ev in enumerate(evidence):
        quote = ev.quote
        terms = set(tokenize(quote))
        if ev.rank not in section_terms:
            section_terms[ev.rank] = set(tokenize(" ".join(ev.passage.section)))
        answer_type = 0.0
        if typed:
            answer_type = 1.0 if fits_type(question, quote, english) else -1.0
        rows.append(
            [
                sims[i],
                sims[i] - best,
                1.0 / (1.0 + sim_rank[i]),
                ev.overlap,
                _idf_share(qterms, terms, stats),
                1.0 if rarest is not None and rarest in terms else 0.0,
                neighbour[i],
                _idf_share(qterms, section_terms[ev.rank], stats),
                1.0 / (1.0 + ev.rank),
                ev.passage.dense_score,
                first[i],
                math.log1p(len(quote.split())),
                1.0 if META.search(quote) else 0.0,
                answer_type,
                1.0 if why and _CAUSAL.search(quote) else 0.0,
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def question_vector(
    question: str,
    evidence: Sequence[Evidence],
    rank_logits: np.ndarray,
    stats: TermStats,
    type_problem: bool,
) -> np.ndarray:
    """QUESTION_FEATURES for ``evidence`` already ordered by the ranker (best first)."""
    qterms = content_terms(question)
    english = is_english(question)
    starts = {m.group(1) for m in re.finditer(r"(?:^|[.?!]\s+)(\w+)", focus(question))}
    unknown = 0.0
    if not english:
        for word in unknown_words(question, stats):
            unknown += specificity(word.lower() if word in starts else word)
    max_idf = math.log((stats.n + 1) / 0.5)
    if not evidence:
        return np.asarray(
            [
                -10.0,
                0.0,
                0.0,
                0.0,
                0.0,
                1.0,
                unknown,
                float(type_problem),
                0.0,
                english,
                0.0,
                math.log1p(len(qterms)),
            ],
            dtype=np.float64,
        )
    top3: set[str] = set()
    for ev in evidence[:3]:
        top3 |= set(tokenize(ev.quote))
    passages: set[str] = set()
    for p in {ev.passage.chunk_id: ev.passage for ev in evidence}.values():
        passages |= set(tokenize(p.text + " " + " ".join(p.section)))
    missing = [t for t in qterms if t not in passages]
    return np.asarray(
        [
            float(rank_logits.max()),
            max(ev.similarity for ev in evidence),
            max(_idf_share(qterms, set(tokenize(ev.quote)), stats) for ev in evidence[:10]),
            _idf_share(qterms, top3, stats),
            _idf_share(qterms, passages, stats),
            0.0 if english else max((stats.idf(t) for t in missing), default=0.0) / max_idf,
            unknown,
            float(type_problem),
            typed_anchor(question, evidence, qterms, stats, english),
            float(english),
            max(ev.passage.dense_score for ev in evidence),
            math.log1p(len(qterms)),
        ],
        dtype=np.float64,
    )


def typed_anchor(
    question: str,
    evidence: Sequence[Evidence],
    qterms: set[str],
    stats: TermStats,
    english: bool,
) -> float:
    """For a question asking a number, share, amount or date: how much of the question the best
    sentence giving such a value is about (IDF-weighted share of the question's terms in it, the
    sentence before it and its section). "Hoeveel procent van X ..." answered by a percentage
    about Y scores low. 1.0 for other questions."""
    if not asks_type(question):
        return 1.0
    best = 0.0
    for ev in evidence[:15]:
        if fits_type(question, ev.quote, english):
            text = ev.passage.text
            context = text[max(0, ev.start - 250) : ev.end] + " " + " ".join(ev.passage.section)
            best = max(best, _idf_share(qterms, set(tokenize(context)), stats))
    return best


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logits to probabilities."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True, slots=True)
class Logistic:
    """A binary logistic model over standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def proba(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(x))

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 2000, lr: float = 0.5
    ) -> Logistic:
        """L2-regularised logistic regression by gradient descent, classes weighted equally."""
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        pos = max(int(y.sum()), 1)
        neg = max(len(y) - pos, 1)
        sw = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
        w = np.zeros(z.shape[1])
        b = 0.0
        for _ in range(steps):
            p = sigmoid(z @ w + b)
            g = (p - y) * sw / len(y)
            w -= lr * (z.T @ g + l2 * w)
            b -= lr * float(g.sum())
        return cls(mean, scale, w, b)

    def state(self) -> dict[str, object]:
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_state(cls, state: dict) -> Logistic:
        return cls(
            np.asarray(state["mean"]),
            np.asarray(state["scale"]),
            np.asarray(state["weights"]),
            float(state["bias"]),
        )


@dataclass(frozen=True, slots=True)
class AnswerModel:
    embedder: str
    ranker: Logistic
    answerable: Logistic
    threshold: float  # answer when the answerability probability is at least this
    keep_ratio: float  # cite further sentences scoring at least this share of the best
    trained_on: str

    def rank(self, question: str, evidence: Sequence[Evidence], stats: TermStats) -> np.ndarray:
        """Ranker logits, one per evidence sentence."""
        return self.ranker.logits(sentence_matrix(question, evidence, stats))

    def answerability(
        self,
        question: str,
        ranked: Sequence[Evidence],
        logits: np.ndarray,
        stats: TermStats,
        type_problem: bool,
    ) -> float:
        x = question_vector(question, ranked, logits, stats, type_problem)
        return float(self.answerable.proba(x[None, :])[0])

    def save(self, path: Path = MODEL_PATH) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "embedder": self.embedder,
            "sentence_features": list(SENTENCE_FEATURES),
            "question_features": list(QUESTION_FEATURES),
            "ranker": self.ranker.state(),
            "answerable": self.answerable.state(),
            "threshold": self.threshold,
            "keep_ratio": self.keep_ratio,
            "trained_on": self.trained_on,
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> AnswerModel | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("sentence_features") != list(SENTENCE_FEATURES) or data.get(
        "question_features"
    ) != list(QUESTION_FEATURES):
        return None  # trained for another feature set: retrain (benchmarks/train_answer_model.py)
    return AnswerModel(
        data["embedder"],
        Logistic.from_state(data["ranker"]),
        Logistic.from_state(data["answerable"]),
        float(data["threshold"]),
        float(data["keep_ratio"]),
        str(data.get("trained_on", "")),
    )


def load_model(embedder: str, path: Path = MODEL_PATH) -> AnswerModel | None:
    """The trained model when it was trained with ``embedder``, else None."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    model = _load(str(path), mtime)
    return model if model is not None and model.embedder == embedder else None


def rank_evidence(
    model: AnswerModel, question: str, evidence: Sequence[Evidence], stats: TermStats
) -> tuple[list[Evidence], np.ndarray]:
    """The evidence re-scored by the ranker (score = probability of answering), best first,
    and the ranker logits in that order."""
    from dataclasses import replace

    if not evidence:
        return [], np.zeros(0)
    logits = model.rank(question, evidence, stats)
    order = np.argsort(-logits, kind="stable")
    probs = sigmoid(logits)
    ranked = [replace(evidence[i], score=float(probs[i])) for i in order]
    return ranked, logits[order]
