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
# 2: pseudonym placeholders read as stand-ins; 3: context of a segment; 4: embedding shrunk harder
MODEL_VERSION = "cimo-4"
# Below this probability for the best code, no code is suggested (cimo null). Chosen by
# leave-one-transcript-out CV over the 534 labelled transcript sentences (macro-F1 0.715 with
# no floor, 0.713 at 0.30, 0.697 at 0.40, 0.680 at 0.50): a floor only for near-uniform cases.
NULL_THRESHOLD = 0.30
THEME_THRESHOLD = 0.5
# Weight of a segment a project's coder accepted or changed (coding.retrain) against one built-in
# example. The leave-one-transcript-out learning curve (benchmarks/coding_learning_curve.py, not
# the held-out interviews) found no gain in weighting them up: 2 gave 0.713/0.697/0.702 macro-F1
# after 25/50/100 reviewed segments, 1 gave 0.711/0.699/0.706. With cimo-4, over 28 transcripts in
# four studies: 1 gave 0.784/0.786/0.788, 3 gave 0.786/0.783/0.787 (0.783 with none reviewed).
PROJECT_WEIGHT = 1.0
# L2 strength of the CIMO regression, per block of its (standardised) features: the embedding's
# hundreds of dimensions are shrunk hard, the dozen cue and nearest-example features lightly.
# Leave-one-transcript-out CV over the 28 labelled transcripts (benchmarks/coding_transcripts_cv.py;
# the held-out interviews were not used): one strength of 0.01 for all gave macro-F1 0.758; the
# embedding at 0.1 / 0.2 / 0.3 with the rest at 0.01-0.03 gave 0.792-0.794, better in each of the
# four batches; 0.5 gave 0.786, 1.0 0.734.
EMBEDDING_L2 = 0.2
FEATURE_L2 = 0.01
MIN_THEME_EXAMPLES = 6

ReportSearch = Callable[[str], Evidence | None]


_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def brevity(text: str) -> float:
    """1 for a one-word answer ("Wisselend."), falling towards 0 with length: how much of a
    segment's meaning must come from what was said before it."""
    return 1.0 / (1.0 + max(len(_WORD.findall(text)) - 1, 0) / 3.0)


def order_contexts(texts: Sequence[str]) -> list[str]:
    """The context of each sentence of a list in transcript order: the sentence before it."""
    return ["", *texts[:-1]] if texts else []


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
    context: bool = False  # whether its features include the segment's context


class Suggester:
    """Suggests CIMO codes and themes; ``fit`` on examples, then ``suggest`` for segments."""

    def __init__(
        self,
        codebook: Codebook,
        embedder,
        cache_dir: Path | None = None,
        context: bool = True,
        exclude_group: bool = False,
        project_weight: float = PROJECT_WEIGHT,
        embedding_l2: float = EMBEDDING_L2,
        feature_l2: float = FEATURE_L2,
    ) -> None:
        self.codebook = codebook
        self.embedder = embedder
        self.cache_dir = cache_dir
        # context: read each segment with what was said just before it (the question, or the
        # previous sentence); exclude_group: a training example's nearest-example features
        # never come from its own transcript, as they cannot for a transcript never seen. Off:
        # leave-one-transcript-out CV found it slightly worse (0.729 against 0.735 with
        # context, 0.707 against 0.713 without; benchmarks/coding_transcripts_cv.py)
        self.context = context
        self.exclude_group = exclude_group
        self.project_weight = project_weight
        self.embedding_l2 = embedding_l2
        self.feature_l2 = feature_l2
        self.matcher = CueMatcher(codebook)
        self.model: TrainedModel | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self._hits: dict[str, list[CueHit]] = {}

    def _cue_hits(self, texts: Sequence[str]) -> list[list[CueHit]]:
        """Cue matches per text, each distinct text parsed once (cross-validation refits)."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._hits))
        self._hits.update(zip(todo, self.matcher.hits(todo), strict=True))
        return [self._hits[t] for t in texts]

    # -- features -------------------------------------------------------------------------
    def _features(
        self,
        vectors: np.ndarray,
        hits: Sequence[Sequence[CueHit]],
        train_vectors: np.ndarray,
        train_labels: np.ndarray,
        context: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        exclude: np.ndarray | None = None,
        context_exclude: np.ndarray | None = None,
    ) -> np.ndarray:
        """Embedding, cue counts and nearest example per class of each segment; with
        ``context`` = (context vectors, has-context flags, brevity) also the nearest example
        per class of its context, alone and weighted by the segment's brevity. ``exclude``
        masks (row, training example) pairs that may not serve as nearest examples."""
        sims = vectors @ train_vectors.T
        if exclude is not None:
            sims[exclude] = -1.0
        nearest = _nearest(sims, train_labels, len(LABELS))
        cues = np.vstack([cue_features(h) for h in hits]) if hits else np.zeros((0, 5))
        blocks = [vectors, cues, nearest]
        if context is not None:
            ctx_vectors, has, short = context
            ctx_sims = ctx_vectors @ train_vectors.T
            if context_exclude is not None:
                ctx_sims[context_exclude] = -1.0
            ctx_near = _nearest(ctx_sims, train_labels, len(LABELS)) * has[:, None]
            blocks += [ctx_near, has[:, None], short[:, None], ctx_near * short[:, None]]
        return np.hstack(blocks).astype(np.float32)

    def _context(self, texts: Sequence[str], contexts: Sequence[str]):
        """(vectors, has-context flags, brevity) of the segments' contexts."""
        has = np.asarray([bool(c.strip()) for c in contexts], dtype=np.float32)
        ctx = [model_text(c) if c.strip() else "" for c in contexts]
        todo = [c for c in ctx if c]
        vecs = np.zeros((len(ctx), self.embedder.dim), dtype=np.float32)
        if todo:
            found = _embed(self.embedder, todo, self._vectors)
            vecs[[i for i, c in enumerate(ctx) if c]] = found
        short = np.asarray([brevity(t) for t in texts], dtype=np.float32)
        return vecs, has, short

    # -- training -------------------------------------------------------------------------
    def fingerprint(self, examples: Sequence[Example]) -> str:
        raw = json.dumps(
            [
                MODEL_VERSION,
                self.embedder.name,
                self.context,
                self.exclude_group,
                self.project_weight if any(e.source == "project" for e in examples) else None,
                (self.embedding_l2, self.feature_l2),
                self.codebook.model_dump(),
                [(e.text, e.label, e.themes, e.context, e.group) for e in examples],
            ],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha1(raw.encode()).hexdigest()[:12]

    def fit(
        self, examples: Sequence[Example], calibrate: bool = True, themes: bool = True
    ) -> TrainedModel:
        """Train on ``examples``; ``themes=False`` fits the CIMO model only (benchmarks)."""
        texts = [model_text(e.text) for e in examples]
        y = np.asarray([LABELS.index(e.label) for e in examples])
        vectors = _embed(self.embedder, texts, self._vectors)
        hits = self._cue_hits(texts)
        exclude = np.eye(len(texts), dtype=bool)
        if self.exclude_group:
            _, group = np.unique([e.group for e in examples], return_inverse=True)
            grouped = np.asarray([bool(e.group) for e in examples])
            exclude |= (group[:, None] == group[None, :]) & grouped[:, None]
        context = context_exclude = None
        if self.context:
            contexts = [e.context for e in examples]
            context = self._context(texts, contexts)
            # the sentence a context is made of is no neighbour of it (it is the context)
            context_exclude = exclude.copy()
            where: dict[str, list[int]] = {}
            for j, t in enumerate(texts):
                where.setdefault(t, []).append(j)
            for i, c in enumerate(contexts):
                context_exclude[i, where.get(model_text(c), [])] = True
        x = self._features(vectors, hits, vectors, y, context, exclude, context_exclude)
        weights = np.asarray(
            [self.project_weight if e.source == "project" else 1.0 for e in examples]
        )
        penalty = self._penalty(x.shape[1])
        cimo = SoftmaxRegression().fit(x, y, len(LABELS), weights, penalty)
        if calibrate and len(examples) >= 50:
            cimo.calibrate(self._cv_logits(x, y, penalty), y)
        theme_models: dict[str, SoftmaxRegression] = {}
        # sentences labelled for CIMO only say nothing about themes: no negatives for them
        themed = np.asarray([e.source != "transcripts" for e in examples])
        for theme in self.codebook.themes if themes else ():
            target = np.asarray(
                [theme.name in e.themes or theme.id in e.themes for e in examples], dtype=int
            )
            if target.sum() >= MIN_THEME_EXAMPLES:
                flags = np.asarray(
                    [[any(h.code == theme.id for h in hs)] for hs in hits], dtype=np.float32
                )
                theme_models[theme.id] = SoftmaxRegression(steps=300).fit(
                    np.hstack([vectors, flags])[themed], target[themed], 2
                )
        self.model = TrainedModel(
            cimo,
            theme_models,
            vectors,
            y,
            texts,
            f"{MODEL_VERSION}/{self.embedder.name}/{self.fingerprint(examples)}",
            self.context,
        )
        return self.model

    def _penalty(self, width: int) -> np.ndarray:
        """The L2 strength of each feature column: the embedding's first, then the rest."""
        penalty = np.full(width, self.feature_l2)
        penalty[: self.embedder.dim] = self.embedding_l2
        return penalty

    @staticmethod
    def _cv_logits(x: np.ndarray, y: np.ndarray, penalty: np.ndarray, folds: int = 5) -> np.ndarray:
        logits = np.zeros((len(y), len(LABELS)))
        order = np.arange(len(y))
        for f in range(folds):
            test = order % folds == f
            model = SoftmaxRegression().fit(x[~test], y[~test], len(LABELS), None, penalty)
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
                bool(data["context"]) if "context" in data.files else False,
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
            context=np.asarray(model.context),
            **arrays,
        )
        return path

    # -- prediction -----------------------------------------------------------------------
    def predict_proba(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[list[CueHit]], np.ndarray]:
        """Probabilities per label; ``contexts`` is what was said just before each text (the
        interviewer's question, the previous sentence); by default the text before it in
        ``texts``, as for a transcript's sentences in order."""
        assert self.model is not None, "fit or load a model first"
        m = self.model
        raw = list(texts)
        texts = [model_text(t) for t in raw]
        vectors = _embed(self.embedder, texts, self._vectors)
        hits = self._cue_hits(texts)
        context = None
        if m.context:
            context = self._context(texts, order_contexts(raw) if contexts is None else contexts)
        x = self._features(vectors, hits, m.train_vectors, m.train_labels, context)
        return m.cimo.predict_proba(x), vectors, hits, vectors @ m.train_vectors.T

    def suggest(
        self,
        segments: Sequence[Segment],
        report_search: ReportSearch | None = None,
        contexts: Sequence[str] | None = None,
    ) -> list[CodedSegment]:
        """Codes for ``segments`` in transcript order; ``contexts`` as for predict_proba (from
        coding.segment.segment_contexts, which reads the interviewer's questions)."""
        assert self.model is not None, "fit or load a model first"
        m = self.model
        texts = [s.text for s in segments]
        if not texts:
            return []
        probs, vectors, hits, sims = self.predict_proba(texts, contexts)
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
