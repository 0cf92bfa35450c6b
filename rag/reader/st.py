"""A user's own cross-encoder as the reader of ``ask``: ``--reader st:PATH``.

Any ``sentence_transformers.CrossEncoder`` saved in a local folder (``model.save_pretrained``
or ``CrossEncoder.save``) reads the same candidates as the trained reader, behind the same
:class:`rag.reader.reader.Reader` protocol. It is loaded from that folder only: nothing is
downloaded.

What it is and is not:

- Each candidate is read as the pair (question, "heading: the sentence before » the sentence «
  the sentence after"): the parts and order the trained reader's ``PairEncoder`` reads, without
  e5's "query:"/"passage:" prefixes, which are e5's own and mean nothing to another model.
- The probability that a candidate answers is the model's logit through a sigmoid (one label),
  or the second label's softmax share (two labels: label 1 is "answers", as in Hugging Face's
  binary classifiers). Whatever activation the model was saved with is not used, so the scores
  are always probabilities.
- The answerability of a question is its best candidate's probability. It is calibrated only
  if the user's model is; nothing here calibrates it.
- The answer-type rules ("hoeveel" needs a quantity) are no input of a model that was not
  trained with them: as in :func:`rag.reader.weigh.weigh_with_reader`, they are listed among
  the reasons of a refusal and cause none.
- It answers when the answerability reaches the threshold: 0.5 unless the setting
  ``reader_threshold`` (``WATWERKT_READER_THRESHOLD``) says otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..answer_model import sigmoid
from ..errors import RagError
from .candidates import Candidate

PREFIX = "st:"
DEFAULT_THRESHOLD = 0.5
_HOW = "give the folder a sentence-transformers CrossEncoder was saved to: --reader st:PATH"


def pair_text(c: Candidate) -> str:
    """The candidate as the second text of the pair: heading, neighbours, the marked sentence."""
    head = f"{c.heading}: " if c.heading else ""
    parts = [c.before.strip(), f"» {c.sentence.strip()} «", c.after.strip()]
    return head + " ".join(p for p in parts if p)


def _check_folder(path: Path) -> None:
    """One line on what to do when ``path`` cannot be a saved cross-encoder."""
    if not path.is_dir():
        raise RagError(f"reader st:{path}: no such folder; {_HOW}")
    config = path / "config.json"
    if not config.is_file():
        raise RagError(f"reader st:{path}: no config.json in the folder; {_HOW}")
    try:
        architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    except (ValueError, AttributeError) as exc:
        raise RagError(f"reader st:{path}: config.json is not a model's config; {_HOW}") from exc
    if architectures and not any(
        str(a).endswith("ForSequenceClassification") for a in architectures
    ):
        raise RagError(
            f"reader st:{path}: {architectures[0]} is not a cross-encoder (a model "
            f"...ForSequenceClassification); {_HOW}"
        )


@lru_cache(maxsize=2)
def _cross_encoder(path: str) -> Any:
    """The CrossEncoder saved in ``path`` (loaded once per folder)."""
    try:
        from sentence_transformers import CrossEncoder
    except ImportError as exc:
        raise RagError(
            "--reader st:PATH needs sentence-transformers: pip install 'watwerkt[st]'"
        ) from exc
    _check_folder(Path(path))
    try:
        model = CrossEncoder(path, local_files_only=True, device="cpu")
    except Exception as exc:  # a folder with missing or broken files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RagError(f"reader st:{path} could not be loaded ({first}); {_HOW}") from exc
    if model.num_labels not in (1, 2):
        raise RagError(
            f"reader st:{path} has {model.num_labels} labels; a reader needs a cross-encoder "
            "with one (a relevance logit) or two (does not answer / answers)"
        )
    return model


class STCrossEncoderReader:
    """A local sentence-transformers cross-encoder behind the Reader protocol."""

    def __init__(self, path: str | Path, threshold: float | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self._threshold = DEFAULT_THRESHOLD if threshold is None else float(threshold)
        self.model = _cross_encoder(str(self.path))

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.path}"

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def note(self) -> str:
        """What ``ask`` says beside an answer it read: its confidence is this model's own."""
        return f"read by {self.name}: confidence is the model's own probability, not calibrated"

    def pairs(self, question: str, candidates: Sequence[Candidate]) -> list[tuple[str, str]]:
        return [(question, pair_text(c)) for c in candidates]

    def score(self, question: str, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        from torch import nn

        logits = np.asarray(
            self.model.predict(
                self.pairs(question, candidates),
                activation_fn=nn.Identity(),
                convert_to_numpy=True,
                show_progress_bar=False,
            ),
            dtype=np.float64,
        )
        if logits.ndim == 1:
            return sigmoid(logits)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted[:, 1] / shifted.sum(axis=1)

    def answerability(
        self,
        question: str,
        candidates: Sequence[Candidate],
        scores: np.ndarray | None = None,
        rule_problems: bool = False,
    ) -> float:
        """The best candidate's probability (uncalibrated unless the model is); the rules'
        objections are no input of a model not trained with them (see the module's text)."""
        if scores is None:
            scores = self.score(question, candidates)
        return float(scores.max()) if len(scores) else 0.0
