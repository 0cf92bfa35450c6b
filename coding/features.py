"""Features for code suggestions: spaCy cue rules on lemmas, embeddings, nearest examples."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .codebook import CIMO, Codebook

LABELS = (*CIMO, "none")


@dataclass(frozen=True, slots=True)
class CueHit:
    code: str
    cue: str
    start: int  # character offsets within the segment text
    end: int


class CueMatcher:
    """spaCy PhraseMatcher over lemmas (and lower-case forms) of the codebook's cue expressions."""

    def __init__(self, codebook: Codebook) -> None:
        from spacy.matcher import PhraseMatcher

        from ingest.nlp import get_nlp

        self.nlp = get_nlp(lemmas=True)
        self._lemma = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.cues: dict[str, str] = {}
        for code in codebook.codes:
            if not code.cues:
                continue
            key = code.id
            patterns = list(self.nlp.pipe([c.lower() for c in code.cues]))
            self._lemma.add(key, patterns)
            self._lower.add(key, patterns)

    def hits(self, texts: Sequence[str]) -> list[list[CueHit]]:
        out = []
        for doc in self.nlp.pipe(texts):
            found: dict[tuple[str, int, int], CueHit] = {}
            for matcher in (self._lemma, self._lower):
                for match_id, s, e in matcher(doc):
                    code = self.nlp.vocab.strings[match_id]
                    span = doc[s:e]
                    found[(code, span.start_char, span.end_char)] = CueHit(
                        code, span.text, span.start_char, span.end_char
                    )
            out.append(sorted(found.values(), key=lambda h: (h.start, h.code)))
        return out


def cue_features(hits: Sequence[CueHit]) -> np.ndarray:
    """Counts of cue matches per CIMO code (log-scaled), plus "any cue"."""
    counts = Counter(h.code for h in hits if h.code in CIMO)
    vec = [math.log1p(counts.get(c, 0)) for c in CIMO]
    return np.asarray([*vec, float(bool(counts))], dtype=np.float32)


def keyword_label(hits: Sequence[CueHit]) -> str:
    """The keyword-rules baseline: the CIMO code with most cue matches, else none."""
    counts = Counter(h.code for h in hits if h.code in CIMO)
    if not counts:
        return "none"
    return sorted(counts.items(), key=lambda kv: (-kv[1], CIMO.index(kv[0])))[0][0]


_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


class TfidfNearest:
    """The NVivo-style pattern-coding baseline: TF-IDF vectors, label of the nearest example."""

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TfidfNearest:
        docs = [self._tokens(t) for t in texts]
        df: Counter[str] = Counter(w for d in docs for w in set(d))
        self.vocab = {w: i for i, w in enumerate(sorted(df))}
        n = len(docs)
        self.idf = np.asarray([math.log((1 + n) / (1 + df[w])) + 1 for w in sorted(df)])
        self.matrix = np.vstack([self._vector(d) for d in docs]) if docs else np.zeros((0, 0))
        self.labels = list(labels)
        return self

    def _tokens(self, text: str) -> list[str]:
        words = [w.lower() for w in _TOKEN.findall(text)]
        return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]

    def _vector(self, tokens: list[str]) -> np.ndarray:
        vec = np.zeros(len(self.vocab), dtype=np.float64)
        for w, c in Counter(tokens).items():
            if w in self.vocab:
                vec[self.vocab[w]] = c
        vec *= self.idf
        norm = np.linalg.norm(vec)
        return vec / norm if norm else vec

    def predict(self, texts: Sequence[str]) -> list[str]:
        out = []
        for t in texts:
            sims = self.matrix @ self._vector(self._tokens(t))
            out.append(
                self.labels[int(np.argmax(sims))] if sims.size and sims.max() > 0 else "none"
            )
        return out


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class SoftmaxRegression:
    """Multinomial logistic regression (numpy), with a temperature for calibration."""

    l2: float = 1e-2
    steps: int = 600
    lr: float = 0.5
    temperature: float = 1.0

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        n_classes: int,
        weights: np.ndarray | None = None,
        penalty: np.ndarray | None = None,
    ) -> SoftmaxRegression:
        """Fit by gradient descent on standardised features; ``penalty`` is an L2 strength per
        feature (``self.l2`` for every feature when None)."""
        l2 = self.l2 if penalty is None else np.asarray(penalty, dtype=float)[:, None]
        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        z = (x - self.mean) / self.scale
        w = np.zeros((z.shape[1], n_classes))
        b = np.zeros(n_classes)
        onehot = np.eye(n_classes)[y]
        sw = np.ones(len(y)) if weights is None else weights
        sw = sw / sw.mean()
        for _ in range(self.steps):
            p = softmax(z @ w + b)
            g = (p - onehot) * sw[:, None] / len(y)
            w -= self.lr * (z.T @ g + l2 * w)
            b -= self.lr * g.sum(axis=0)
        self.w, self.b = w, b
        return self

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.w + self.b

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return softmax(self.logits(x) / self.temperature)

    def calibrate(self, logits: np.ndarray, y: np.ndarray) -> float:
        """Temperature that minimises the log loss of held-out ``logits`` (grid search)."""
        best, best_t = math.inf, 1.0
        for t in np.linspace(0.5, 5.0, 46):
            p = softmax(logits / t)
            loss = -float(np.mean(np.log(p[np.arange(len(y)), y] + 1e-12)))
            if loss < best:
                best, best_t = loss, float(t)
        self.temperature = best_t
        return best_t

    def state(self) -> dict[str, Any]:
        return {
            "w": self.w,
            "b": self.b,
            "mean": self.mean,
            "scale": self.scale,
            "temperature": np.asarray(self.temperature),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SoftmaxRegression:
        model = cls()
        model.w, model.b = state["w"], state["b"]
        model.mean, model.scale = state["mean"], state["scale"]
        model.temperature = float(state["temperature"])
        return model
