"""The reader of `ask`: which evidence sentence answers the question, and whether any does.

- the **sentence ranker** (``MLPRanker``) scores every sentence of the retrieved passages: a
  linear model over the sentence features of :mod:`rag.answer_features` plus a network with
  one hidden layer over those features and the sentence's e5 match vectors (its own and its
  neighbours'), trained listwise;
- the **answerability model** (``MLPAnswerability``) gives the calibrated probability that
  the best sentences answer the question at all: a network over the question features and the
  match vectors of the best sentences, Platt-calibrated out of fold.

- the **cross-check** (``CrossCheck``, optional) gives the answerability a second opinion: the
  cross-encoder of :mod:`rag.reader` reads the question with each of the best candidate
  sentences, and its best margin over "no answer" is combined with the model's log-odds by
  weights fitted on questions the cross-encoder never trained on. It runs in numpy
  (:mod:`rag.reader.forward`); where its weights are not those the check was fitted with, the
  model's own probability and threshold apply.

Both are trained by ``benchmarks/train_answer_model.py`` on every training question set (never
the held-out set or the blind batch), run in numpy, and are stored with their embedder in
``rag/data/answer_model.json`` and ``.npz``. Under another embedder the similarities mean
something else: ``load_model`` returns None and the heuristic scores of :mod:`rag.answer` are
used, with the threshold ``MIN_SCORE``. ``Logistic`` is the pointwise model shipped before
(still read: benchmarks/data/answer_model_logistic.json is the baseline it is measured against).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .answer_features import (
    MATCH_SCALE,
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    best_matches,
    match_matrix,
    question_vector,
    sentence_matrix,
    softmax,
)
from .answerability import RULE_FAMILIES, rule_family
from .bm25 import TermStats

if TYPE_CHECKING:
    from .answer import Evidence

MODEL_PATH = Path(__file__).with_name("data") / "answer_model.json"


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
        cls,
        x: np.ndarray,
        y: np.ndarray,
        l2: float = 1e-2,
        steps: int = 2000,
        lr: float = 0.5,
        balanced: bool = True,
    ) -> Logistic:
        """L2-regularised logistic regression by gradient descent, classes weighted equally
        (``balanced``) or as they come (probabilities calibrated to the training mix)."""
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        pos = max(int(y.sum()), 1)
        neg = max(len(y) - pos, 1)
        sw = (
            np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
            if balanced
            else np.ones(len(y))
        )
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


def _f64(data, name: str) -> np.ndarray:
    """One stored array (fp16 on disk for the large ones) as float64."""
    return np.asarray(data[name], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class MLPRanker:
    """The sentence ranker: a linear model over the standardised SENTENCE_FEATURES plus a
    one-hidden-layer network over those features and the sentence's e5 match vectors (a learned
    weighting of the similarity, dimension by dimension, with its neighbours'). Trained listwise
    by benchmarks/train_answer_model.py; here it only runs, in numpy."""

    mean: np.ndarray
    scale: np.ndarray
    linear: np.ndarray  # (features,)
    w1: np.ndarray  # (features + 2 * dim, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    bias: float

    @property
    def reads_matches(self) -> bool:
        """Whether its network reads the match vectors beside the features."""
        return self.w1.shape[0] > len(self.mean)

    def logits(self, x: np.ndarray, match: np.ndarray | None) -> np.ndarray:
        z = (x - self.mean) / self.scale
        inputs = np.hstack([z, MATCH_SCALE * match]) if match is not None else z
        hidden = np.maximum(inputs @ self.w1 + self.b1, 0.0)
        return z @ self.linear + hidden @ self.w2 + self.bias

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "mean": self.mean,
            "scale": self.scale,
            "linear": self.linear,
            "w1": self.w1.astype(np.float16),
            "b1": self.b1,
            "w2": self.w2,
            "bias": np.asarray([self.bias]),
        }

    @classmethod
    def from_arrays(cls, data) -> MLPRanker:
        def f64(name: str) -> np.ndarray:
            return _f64(data, name)

        return cls(
            f64("mean"),
            f64("scale"),
            f64("linear"),
            f64("w1"),
            f64("b1"),
            f64("w2"),
            float(f64("bias")[0]),
        )


@dataclass(frozen=True, slots=True)
class MLPAnswerability:
    """Whether the question is answered at all: a network with one hidden layer over the
    question features (and, when trained so, the match vectors of the best sentences:
    ``best_matches``), its logit calibrated by Platt scaling fitted out of fold
    (benchmarks/train_answer_model.py)."""

    mean: np.ndarray
    scale: np.ndarray
    w1: np.ndarray  # (features + matches, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    bias: float
    platt: tuple[float, float] = (1.0, 0.0)  # p = sigmoid(a * logit + b)

    @property
    def reads_matches(self) -> bool:
        """Whether it reads the best sentences' match vectors beside the question features."""
        return self.w1.shape[0] > len(QUESTION_FEATURES)

    def logits(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return np.maximum(z @ self.w1 + self.b1, 0.0) @ self.w2 + self.bias

    def proba(self, x: np.ndarray) -> np.ndarray:
        a, b = self.platt
        return sigmoid(a * self.logits(x) + b)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "a_mean": self.mean,
            "a_scale": self.scale,
            "a_w1": self.w1.astype(np.float16),
            "a_b1": self.b1,
            "a_w2": self.w2,
            "a_bias": np.asarray([self.bias]),
            "a_platt": np.asarray(self.platt),
        }

    @classmethod
    def from_arrays(cls, data) -> MLPAnswerability:
        def f64(name: str) -> np.ndarray:
            return _f64(data, "a_" + name)

        a, b = f64("platt")
        return cls(
            f64("mean"),
            f64("scale"),
            f64("w1"),
            f64("b1"),
            f64("w2"),
            float(f64("bias")[0]),
            (float(a), float(b)),
        )


@dataclass(frozen=True)
class CrossCheck:
    """Answerability from the model's probability and the cross-encoder's best margin."""

    weights: tuple[float, float, float]  # the model's log-odds, the reader's margin, bias
    threshold: float  # answer when the combined probability is at least this
    reader: str  # the cross-encoder it was fitted with (its weights' fingerprint)
    candidates: int = 12  # how many of the best candidate sentences the cross-encoder reads
    # best by what: "cheap" (e5 similarity and shared words, as collected; the first
    # cross-checks) or "ranker" (the trained ranker's order: what the answer would cite)
    order: str = "cheap"

    def combine(self, p: float, margin: float) -> float:
        q = float(np.clip(p, 1e-6, 1 - 1e-6))
        return float(self.combine_rows(np.asarray([[np.log(q / (1 - q)), margin]]))[0])

    def combine_rows(self, rows: np.ndarray) -> np.ndarray:
        """Rows of [the model's log-odds, the reader's margin] to probabilities."""
        a, b, c = self.weights
        return sigmoid(rows @ np.asarray([a, b]) + c)

    def state(self) -> dict[str, object]:
        return {
            "weights": list(self.weights),
            "threshold": self.threshold,
            "reader": self.reader,
            "candidates": self.candidates,
            "order": self.order,
        }

    @classmethod
    def from_state(cls, state: dict) -> CrossCheck:
        a, b, c = (float(w) for w in state["weights"])
        keep = int(state.get("candidates", 12))  # the first cross-checks read 12
        order = str(state.get("order", "cheap"))
        if order not in ("cheap", "ranker"):
            raise ValueError(f"unknown candidate order {order!r}")
        return cls((a, b, c), float(state["threshold"]), str(state["reader"]), keep, order)


@dataclass(frozen=True, slots=True)
class AnswerModel:
    embedder: str
    ranker: Logistic | MLPRanker
    answerable: Logistic | MLPAnswerability
    threshold: float  # answer when the answerability probability is at least this
    keep_ratio: float  # cite further sentences scoring at least this share of the best
    trained_on: str
    question_features: tuple[str, ...] = QUESTION_FEATURES  # what ``answerable`` reads
    # the rule families (rag.answerability.RULE_FAMILIES) whose rules refuse before the model
    # is asked; the other families' rules are one of its inputs
    vetoes: tuple[str, ...] = RULE_FAMILIES
    # the probability reported when a rule refuses before the model (the share of such
    # training questions the reports do answer): the answer-type rules, the off-topic check
    vetoed_confidence: float = 0.0
    off_topic_confidence: float = 0.0
    # how many hybrid passages' sentences it weighs: those it was trained on (8 before the
    # fourth reader of 2026-12-01, whose files do not say)
    candidate_passages: int = 8
    cross_check: CrossCheck | None = None

    def rank(self, question: str, evidence: Sequence[Evidence], stats: TermStats) -> np.ndarray:
        """Ranker logits, one per evidence sentence."""
        x = sentence_matrix(question, evidence, stats)
        if isinstance(self.ranker, MLPRanker):
            matches = match_matrix(evidence) if self.ranker.reads_matches else None
            return self.ranker.logits(x, matches)
        return self.ranker.logits(x)

    def vetoing(self, rules: Sequence[str]) -> list[str]:
        """Those of the rules' reasons that refuse before the model (the rest are its input)."""
        return [r for r in rules if rule_family(r) in self.vetoes]

    def scores(self, logits: np.ndarray) -> np.ndarray:
        """Ranker logits to the scores sentences are cited by: the probability of answering
        (a pointwise ranker) or the sentence's share of the question's answer (listwise)."""
        return softmax(logits) if isinstance(self.ranker, MLPRanker) else sigmoid(logits)

    def answerability(
        self,
        question: str,
        ranked: Sequence[Evidence],
        logits: np.ndarray,
        stats: TermStats,
        type_problem: bool,
    ) -> float:
        x = question_vector(question, ranked, logits, stats, type_problem)
        columns = [QUESTION_FEATURES.index(name) for name in self.question_features]
        x = x[columns]
        if isinstance(self.answerable, MLPAnswerability) and self.answerable.reads_matches:
            x = np.r_[x, MATCH_SCALE * best_matches(ranked)]
        return float(self.answerable.proba(x[None, :])[0])

    def save(self, path: Path = MODEL_PATH) -> None:
        """The model as JSON, and a listwise ranker's arrays in an .npz beside it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        ranker: dict[str, object] = {"kind": "mlp", "file": path.with_suffix(".npz").name}
        if isinstance(self.ranker, MLPRanker):
            arrays.update(self.ranker.arrays())
        else:
            ranker = self.ranker.state()
        answerable: dict[str, object] = {"kind": "mlp", "file": path.with_suffix(".npz").name}
        if isinstance(self.answerable, MLPAnswerability):
            arrays.update(self.answerable.arrays())
        else:
            answerable = self.answerable.state()
        if arrays:
            np.savez_compressed(path.with_suffix(".npz"), **arrays)
        data = {
            "embedder": self.embedder,
            "sentence_features": list(SENTENCE_FEATURES),
            "question_features": list(self.question_features),
            "ranker": ranker,
            "answerable": answerable,
            "threshold": self.threshold,
            "keep_ratio": self.keep_ratio,
            "trained_on": self.trained_on,
            "vetoes": list(self.vetoes),
            "vetoed_confidence": self.vetoed_confidence,
            "off_topic_confidence": self.off_topic_confidence,
            "candidate_passages": self.candidate_passages,
        }
        if self.cross_check is not None:
            data["cross_check"] = self.cross_check.state()
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> AnswerModel | None:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    wanted = tuple(data.get("question_features", ()))
    if data.get("sentence_features") != list(SENTENCE_FEATURES) or not set(wanted) <= set(
        QUESTION_FEATURES
    ):
        return None  # trained for another feature set: retrain (benchmarks/train_answer_model.py)
    ranker: Logistic | MLPRanker
    answerable: Logistic | MLPAnswerability
    try:
        arrays: dict[str, np.ndarray] = {}
        files = {
            data[part]["file"]
            for part in ("ranker", "answerable")
            if data[part].get("kind") == "mlp"
        }
        for name in files:  # both networks share one .npz: read it once
            with np.load(Path(path).with_name(name)) as stored:
                arrays.update({k: stored[k] for k in stored.files})
        ranker = (
            MLPRanker.from_arrays(arrays)
            if data["ranker"].get("kind") == "mlp"
            else Logistic.from_state(data["ranker"])
        )
        answerable = (
            MLPAnswerability.from_arrays(arrays)
            if data["answerable"].get("kind") == "mlp"
            else Logistic.from_state(data["answerable"])
        )
        cross_check = CrossCheck.from_state(data["cross_check"]) if "cross_check" in data else None
        # before 2026-12-02 every rule was a veto ("rules": "veto") or none was ("input")
        old = RULE_FAMILIES if data.get("rules", "veto") == "veto" else ()
        vetoes = tuple(str(f) for f in data.get("vetoes", old))
        if not set(vetoes) <= set(RULE_FAMILIES):
            raise ValueError(f"unknown rule families {vetoes}")
    except (OSError, KeyError, TypeError, ValueError):
        return None
    return AnswerModel(
        data["embedder"],
        ranker,
        answerable,
        float(data["threshold"]),
        float(data["keep_ratio"]),
        str(data.get("trained_on", "")),
        wanted,
        vetoes,
        float(data.get("vetoed_confidence", 0.0)),
        float(data.get("off_topic_confidence", 0.0)),
        int(data.get("candidate_passages", 8)),
        cross_check,
    )


def warm_cross_check(path: Path = MODEL_PATH) -> None:
    """Start loading the cross-encoder the model's cross-check reads (beside whatever the
    caller does next: opening the index); nothing where the model carries no cross-check.
    The model is read through ``_load``'s cache, which ``load_model`` then finds filled."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return
    model = _load(str(path), mtime)
    if model is None or model.cross_check is None:
        return
    from .reader.reader import warm_checking_reader

    warm_checking_reader(model.cross_check.reader)


def load_model(embedder: str, path: Path = MODEL_PATH) -> AnswerModel | None:
    """The trained model when it was trained with ``embedder``, else None."""
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    model = _load(str(path), mtime)
    return model if model is not None and model.embedder == embedder else None


def check_candidates(
    check: CrossCheck, evidence: Sequence[Evidence], ranked: Sequence[Evidence]
) -> list[Evidence]:
    """The sentences the cross-check reads, as collected (their ``score`` the cheap one, which
    the cross-encoder reads as its prior): the best ``check.candidates`` by the cheap score, or
    by the ranker (``ranked``: the ranker's order) for a check fitted that way."""
    if check.order != "ranker":
        return sorted(evidence, key=lambda ev: -ev.score)[: check.candidates]
    return ranker_first(evidence, ranked, check.candidates)


def ranker_first(
    evidence: Sequence[Evidence], ranked: Sequence[Evidence], keep: int
) -> list[Evidence]:
    """The ranker's first ``keep`` sentences (``ranked``: its order) as collected in
    ``evidence`` (their ``score`` the cheap one): what the cross-check reads, and what the
    cross-encoder trains on (rag/train_reader.py)."""
    collected = {(ev.passage.chunk_id, ev.start): ev for ev in evidence}
    return [collected[(ev.passage.chunk_id, ev.start)] for ev in ranked[:keep]]


def checked_answerability(
    model: AnswerModel,
    question: str,
    evidence: Sequence[Evidence],
    p: float,
    ranked: Sequence[Evidence] = (),
) -> tuple[float, float]:
    """The answerability and the threshold it must reach: the model's own, or combined with
    the cross-encoder's best margin over the check's candidates (``evidence`` as collected,
    ``ranked`` as the ranker orders it) where the model carries a cross-check and the reader
    here has the weights it was fitted with."""
    if model.cross_check is None:
        return p, model.threshold
    from .reader.reader import best_margin

    check = model.cross_check
    chosen = check_candidates(check, evidence, ranked)
    margin = best_margin(question, chosen, check.reader, keep=len(chosen))
    if margin is None:
        return p, model.threshold
    return check.combine(p, margin), check.threshold


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
    probs = model.scores(logits)
    ranked = [replace(evidence[i], score=float(probs[i])) for i in order]
    return ranked, logits[order]
