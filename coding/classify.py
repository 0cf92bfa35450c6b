"""Code suggestions for segments: one CIMO label (or none) with calibrated probabilities, and
themes with scores, each with its evidence.

The CIMO model is a softmax regression over (a) the e5 embedding of the segment, (b) spaCy cue
rules on lemmas from the codebook and (c) the similarity to the nearest labelled example of each
class. It is trained on the development set, the report's own labelled statements and the
codebook's examples; probabilities are calibrated by a temperature fitted on cross-validated
predictions. Trained models are cached under WATWERKT_HOME by a fingerprint of their inputs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .codebook import CIMO, Codebook
from .features import LABELS, CueHit, CueMatcher, SoftmaxRegression, cue_features
from .models import CodedSegment, CodeSuggestion, Evidence, Segment
from .training import Example

# The suggester for the built-in codebook and training data, trained with the default embedder
# and shipped, so that a first `watwerkt code` need not embed the training examples
# (python -m coding.ship_model writes it; it is only used while its fingerprint matches).
SHIPPED_MODELS = Path(__file__).resolve().parent / "data" / "models"
MODEL_VERSION = "cimo-2"  # 2: pseudonym placeholders read as stand-ins
# Below this probability for the best code, no code is suggested (cimo null). Chosen by
# leave-one-transcript-out CV over the 534 labelled transcript sentences (macro-F1 0.715 with
# no floor, 0.713 at 0.30, 0.697 at 0.40, 0.680 at 0.50): a floor only for near-uniform cases.
NULL_THRESHOLD = 0.30
THEME_THRESHOLD = 0.5
MIN_THEME_EXAMPLES = 6

ReportSearch = Callable[[str], Evidence | None]


_PLACEHOLDER = re.compile(r"\[([A-Z]+)-\d+\]")
_STAND_INS = {"PERSOON": "Sam", "PLAATS": "de stad", "ORGANISATIE": "de organisatie"}


def model_text(text: str) -> str:
    """The text as the models read it: a pseudonym placeholder ("[PERSOON-2]") becomes a plain
    stand-in ("Sam"), so that the embedding sees a sentence, not bracketed code."""
    return _PLACEHOLDER.sub(lambda m: _STAND_INS.get(m.group(1), "dat"), text)


def _embed(
    embedder, texts: Sequence[str], cache: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Passage embeddings, reusing ``cache`` (cross-validation embeds each text once)."""
    cache = {} if cache is None else cache
    todo = list(dict.fromkeys(t for t in texts if t not in cache))
    for i in range(0, len(todo), 32):
        batch = todo[i : i + 32]
        cache.update(zip(batch, embedder.embed_passages(batch), strict=True))
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack([cache[t] for t in texts]).astype(np.float32)


def _nearest(sims: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per row, the highest similarity to a training example of each class."""
    out = np.full((sims.shape[0], n_classes), -1.0, dtype=np.float32)
    for c in range(n_classes):
        mask = labels == c
        if mask.any():
            out[:, c] = sims[:, mask].max(axis=1)
    return out


@dataclass
class TrainedModel:
    cimo: SoftmaxRegression
    themes: dict[str, SoftmaxRegression]
    train_vectors: np.ndarray
    train_labels: np.ndarray
    train_texts: list[str]
    name: str


class Suggester:
    """Suggests CIMO codes and themes; ``fit`` on examples, then ``suggest`` for segments."""

    def __init__(self, codebook: Codebook, embedder, cache_dir: Path | None = None) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.matcher = CueMatcher(codebook)
        self.model: TrainedModel | None = None
        self._vectors: dict[str, np.ndarray] = {}

    # -- features -------------------------------------------------------------------------
    def _features(
        self,
        vectors: np.ndarray,
        hits: Sequence[Sequence[CueHit]],
        train_vectors: np.ndarray,
        train_labels: np.ndarray,
        exclude_self: bool = False,
    ) -> np.ndarray:
        sims = vectors @ train_vectors.T
        if exclude_self:
            np.fill_diagonal(sims, -1.0)
        nearest = _nearest(sims, train_labels, len(LABELS))
        cues = np.vstack([cue_features(h) for h in hits]) if hits else np.zeros((0, 5))
        return np.hstack([vectors, cues, nearest]).astype(np.float32)

    # -- training -------------------------------------------------------------------------
    def fingerprint(self, examples: Sequence[Example]) -> str:
        raw = json.dumps(
            [
                MODEL_VERSION,
                self.embedder.name,
                self.codebook.model_dump(),
                [(e.text, e.label, e.themes) for e in examples],
            ],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha1(raw.encode()).hexdigest()[:12]

    def fit(self, examples: Sequence[Example], calibrate: bool = True) -> TrainedModel:
        texts = [model_text(e.text) for e in examples]
        y = np.asarray([LABELS.index(e.label) for e in examples])
        vectors = _embed(self.embedder, texts, self._vectors)
        hits = self.matcher.hits(texts)
        x = self._features(vectors, hits, vectors, y, exclude_self=True)
        cimo = SoftmaxRegression().fit(x, y, len(LABELS))
        if calibrate and len(examples) >= 50:
            cimo.calibrate(self._cv_logits(x, y), y)
        themes: dict[str, SoftmaxRegression] = {}
        # sentences labelled for CIMO only say nothing about themes: no negatives for them
        themed = np.asarray([e.source != "transcripts" for e in examples])
        for theme in self.codebook.themes:
            target = np.asarray(
                [theme.name in e.themes or theme.id in e.themes for e in examples], dtype=int
            )
            if target.sum() >= MIN_THEME_EXAMPLES:
                flags = np.asarray(
                    [[any(h.code == theme.id for h in hs)] for hs in hits], dtype=np.float32
                )
                themes[theme.id] = SoftmaxRegression(steps=300).fit(
                    np.hstack([vectors, flags])[themed], target[themed], 2
                )
        self.model = TrainedModel(
            cimo,
            themes,
            vectors,
            y,
            texts,
            f"{MODEL_VERSION}/{self.embedder.name}/{self.fingerprint(examples)}",
        )
        return self.model

    @staticmethod
    def _cv_logits(x: np.ndarray, y: np.ndarray, folds: int = 5) -> np.ndarray:
        logits = np.zeros((len(y), len(LABELS)))
        order = np.arange(len(y))
        for f in range(folds):
            test = order % folds == f
            model = SoftmaxRegression().fit(x[~test], y[~test], len(LABELS))
            logits[test] = model.logits(x[test])
        return logits

    def load_or_fit(self, examples: Sequence[Example]) -> TrainedModel:
        """The cached model for these examples, or a freshly trained (and cached) one."""
        key = self.fingerprint(examples)
        path = self.cache_dir / f"coding-{key}.npz" if self.cache_dir else None
        shipped = SHIPPED_MODELS / f"coding-{key}.npz"
        found = path if path is not None and path.exists() else None
        if found is None and shipped.exists():
            found = shipped  # trained on these very examples and shipped with watwerkt
        if found is not None:
            data = np.load(found, allow_pickle=False)
            cimo = SoftmaxRegression.from_state(
                {k[5:]: data[k] for k in data.files if k.startswith("cimo_")}
            )
            themes = {}
            for tid in json.loads(str(data["theme_ids"])):
                themes[tid] = SoftmaxRegression.from_state(
                    {
                        k.split("__", 1)[1]: data[k]
                        for k in data.files
                        if k.startswith(f"theme_{tid}__")
                    }
                )
            texts = json.loads(str(data["train_texts"]))
            self.model = TrainedModel(
                cimo,
                themes,
                data["train_vectors"],
                data["train_labels"],
                texts,
                f"{MODEL_VERSION}/{self.embedder.name}/{key}",
            )
            return self.model
        model = self.fit(examples)
        if path is not None:
            self.save(path)
        return model

    def save(self, path: Path) -> Path:
        """Write the trained model (compressed npz) for load_or_fit to find."""
        assert self.model is not None, "fit a model first"
        model = self.model
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"cimo_{k}": v for k, v in model.cimo.state().items()}
        for tid, m in model.themes.items():
            arrays.update({f"theme_{tid}__{k}": v for k, v in m.state().items()})
        np.savez_compressed(
            path,
            train_vectors=model.train_vectors,
            train_labels=model.train_labels,
            theme_ids=np.asarray(json.dumps(list(model.themes))),
            train_texts=np.asarray(json.dumps(model.train_texts)),
            **arrays,
        )
        return path

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(
        self, texts: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, list[list[CueHit]], np.ndarray]:
        assert self.model is not None, "fit or load a model first"
        m = self.model
        texts = [model_text(t) for t in texts]
        vectors = _embed(self.embedder, texts, self._vectors)
        hits = self.matcher.hits(texts)
        x = self._features(vectors, hits, m.train_vectors, m.train_labels)
        return m.cimo.predict_proba(x), vectors, hits, vectors @ m.train_vectors.T

    def suggest(
        self, segments: Sequence[Segment], report_search: ReportSearch | None = None
    ) -> list[CodedSegment]:
        assert self.model is not None, "fit or load a model first"
        m = self.model
        texts = [s.text for s in segments]
        if not texts:
            return []
        probs, vectors, hits, sims = self.predict_proba(texts)
        out = []
        for i, seg in enumerate(segments):
            p = probs[i]
            best = int(np.argmax(p))
            label = LABELS[best]
            cimo = label if label != "none" and p[best] >= NULL_THRESHOLD else None
            evidence: list[Evidence] = [
                Evidence("cue", h.cue, h.code) for h in hits[i] if h.code in CIMO
            ]
            j = int(np.argmax(sims[i]))
            evidence.append(
                Evidence(
                    "example", m.train_texts[j], LABELS[int(m.train_labels[j])], float(sims[i, j])
                )
            )
            if report_search is not None and cimo is not None:
                found = report_search(seg.text)
                if found is not None:
                    evidence.append(found)
            themes = self._themes(vectors[i], hits[i])
            out.append(
                CodedSegment(
                    segment=seg,
                    cimo=cimo,
                    cimo_scores={LABELS[k]: round(float(p[k]), 4) for k in range(len(LABELS))},
                    themes=tuple(themes),
                    evidence=tuple(evidence),
                )
            )
        return out

    def _themes(self, vector: np.ndarray, hits: Sequence[CueHit]) -> list[CodeSuggestion]:
        assert self.model is not None
        out = []
        for theme in self.codebook.themes:
            cue_hits = [h for h in hits if h.code == theme.id]
            model = self.model.themes.get(theme.id)
            if model is not None:
                x = np.hstack([vector, [float(bool(cue_hits))]])[None, :]
                score = float(model.predict_proba(x)[0, 1])
            else:
                score = 0.6 if cue_hits else 0.0
            if score >= THEME_THRESHOLD:
                ev = tuple(Evidence("cue", h.cue, theme.id) for h in cue_hits)
                out.append(CodeSuggestion(theme.id, round(score, 4), ev))
        return sorted(out, key=lambda s: -s.score)
