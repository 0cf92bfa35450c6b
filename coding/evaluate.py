"""`watwerkt eval coding`: cross-validated macro-F1 of the CIMO suggestions against baselines.

Folds are stratified over the development set; the report's statements and the codebook's
examples are always training data, never test data. Baselines, in the same run and folds:
keyword rules alone (the codebook's cues), and TF-IDF nearest neighbours (NVivo's pattern
coding: the label of the most similar coded example).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .features import LABELS, TfidfNearest, keyword_label
from .training import Example


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return float(np.mean(scores))


def confusion(gold: Sequence[str], pred: Sequence[str]) -> dict[str, dict[str, int]]:
    table = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        table[g][p] += 1
    return table


def stratified_folds(labels: Sequence[str], k: int) -> list[int]:
    """A fold number per example, spreading every label evenly (deterministic)."""
    fold = [0] * len(labels)
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        fold[i] = seen.get(label, 0) % k
        seen[label] = seen.get(label, 0) + 1
    return fold


@dataclass
class CodingReport:
    n: int
    folds: int
    macro_f1: dict[str, float]
    accuracy: dict[str, float]
    confusion: dict[str, dict[str, dict[str, int]]]
    per_label_f1: dict[str, dict[str, float]] = field(default_factory=dict)
    calibration: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "n": self.n,
            "folds": self.folds,
            "macro_f1": {k: round(v, 4) for k, v in self.macro_f1.items()},
            "accuracy": {k: round(v, 4) for k, v in self.accuracy.items()},
            "per_label_f1": {
                m: {k: round(v, 4) for k, v in d.items()} for m, d in self.per_label_f1.items()
            },
            "confusion": self.confusion,
            "calibration": {k: round(v, 4) for k, v in self.calibration.items()},
        }


def cross_validate(
    suggester, dev: Sequence[Example], extra: Sequence[Example], k: int = 5
) -> CodingReport:
    """Macro-F1 over C/I/M/O/none for the model and both baselines, on the same folds."""
    from .classify import NULL_THRESHOLD

    gold = [e.label for e in dev]
    folds = stratified_folds(gold, k)
    preds: dict[str, list[str]] = {m: [""] * len(dev) for m in ("model", "keywords", "tfidf-nn")}
    confidences: list[tuple[float, bool]] = []
    for f in range(k):
        train = [e for e, fo in zip(dev, folds, strict=True) if fo != f] + list(extra)
        test_idx = [i for i, fo in enumerate(folds) if fo == f]
        texts = [dev[i].text for i in test_idx]
        suggester.fit(train)
        # development segments stand alone: no context (not the previous segment of the fold)
        probs, _, hits, _ = suggester.predict_proba(texts, [dev[i].context for i in test_idx])
        nn = TfidfNearest().fit([e.text for e in train], [e.label for e in train])
        nn_pred = nn.predict(texts)
        for j, i in enumerate(test_idx):
            best = int(np.argmax(probs[j]))
            label = LABELS[best] if probs[j][best] >= NULL_THRESHOLD else "none"
            preds["model"][i] = label
            preds["keywords"][i] = keyword_label(hits[j])
            preds["tfidf-nn"][i] = nn_pred[j]
            confidences.append((float(probs[j][best]), LABELS[best] == gold[i]))
    report = CodingReport(
        n=len(dev),
        folds=k,
        macro_f1={m: macro_f1(gold, p) for m, p in preds.items()},
        accuracy={
            m: float(np.mean([g == q for g, q in zip(gold, p, strict=True)]))
            for m, p in preds.items()
        },
        confusion={m: confusion(gold, p) for m, p in preds.items()},
        per_label_f1={
            m: {lab: macro_f1(gold, p, [lab]) for lab in LABELS} for m, p in preds.items()
        },
        calibration=_calibration(confidences),
    )
    return report


def _calibration(pairs: Sequence[tuple[float, bool]], bins: int = 5) -> dict[str, float]:
    """Expected calibration error and the accuracy of the confident half."""
    if not pairs:
        return {}
    conf = np.asarray([c for c, _ in pairs])
    right = np.asarray([r for _, r in pairs], dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for a, b in itertools.pairwise(edges):
        mask = (conf > a) & (conf <= b)
        if mask.any():
            ece += mask.mean() * abs(conf[mask].mean() - right[mask].mean())
    return {
        "ece": float(ece),
        "mean_confidence": float(conf.mean()),
        "accuracy": float(right.mean()),
    }
