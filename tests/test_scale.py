"""The scale path (benchmarks/scale.py) on a small synthetic index: ~2,000 passages of fake
reports from shuffled sentences of the bundled report, with random unit vectors.

What must hold however large the index grows: a passage planted in one report is found by
dense and BM25 retrieval alike, filters keep to their report, and a warm retriever neither
rebuilds BM25 nor reloads every record from Chroma between queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.scale_corpus import PrecomputedEmbedder, bundled_pool, fake_document
from ingest.chunk import chunk_document
from ingest.models import Document, Section
from rag.bm25 import BM25Index
from rag.index import Index
from rag.models import ReportMeta
from rag.retrieve import Retriever

# Chroma cannot rebuild this test's embedder from its stored name; nothing asks it to.
pytestmark = pytest.mark.filterwarnings("ignore:Could not reconstruct embedding function")

PLANTED = (
    "De kwartiermaker van de Xylofoonwerkplaats in Zevenhuizen begeleidde elf jongeren "
    "naar een leerbaan bij de fietsenmaker."
)


class TableQueries:
    """Query vectors from the same table as the passages (a query that is a known sentence
    gets that sentence's vector; anything else a random one)."""

    name = "scale-test"

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        self.table = table
        self.dim = len(next(iter(table.values())))
        self.rng = np.random.default_rng(7)

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        out = [self.table.get(t, self.rng.standard_normal(self.dim)) for t in texts]
        arr = np.asarray(out, dtype=np.float32)
        return arr / np.linalg.norm(arr, axis=1, keepdims=True)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_query(texts)


def _planted_report() -> tuple[Document, ReportMeta]:
    text = f"Resultaten\n\n{PLANTED} Daarna volgden nog twee rondes met werkgevers uit de regio."
    doc = Document(
        report_id="planted",
        source_path="planted.txt",
        content_hash="planted-1",
        text=text,
        page_starts=(0,),
        sections=(Section(("Resultaten",), 0, len(text)),),
        blocks=((0, 10), (12, len(text))),
    )
    return doc, ReportMeta("planted", "Het geplante verslag", 2031)


@pytest.fixture(scope="module")
def scale_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    pool = bundled_pool()
    rng = np.random.default_rng(1)
    table = {s: v / np.linalg.norm(v) for s in pool.sentences for v in [rng.standard_normal(64)]}
    table[PLANTED] = rng.standard_normal(64)
    table[PLANTED] /= np.linalg.norm(table[PLANTED])
    queries = TableQueries(table)
    home = tmp_path_factory.mktemp("scale-home")
    index = Index(home, PrecomputedEmbedder(table, queries, noise=0.1), show_progress=False)
    number = 0
    while index.count() < 2000:
        doc, meta = fake_document(pool, number)
        index._write(doc, chunk_document(doc), meta)
        number += 1
    doc, meta = _planted_report()
    index._write(doc, chunk_document(doc), meta)
    index.refresh_bm25()
    return home, queries


def _warm_retriever(home: Path, queries: Any) -> Retriever:
    retriever = Retriever(Index(home, queries, show_progress=False))
    retriever.warm_up()
    return retriever


def test_planted_passage_is_found_among_two_thousand(scale_index):
    home, queries = scale_index
    retriever = _warm_retriever(home, queries)
    assert retriever.index.count() >= 2000
    hits = retriever.search(PLANTED, k=5)
    assert hits[0].report_id == "planted"
    assert PLANTED in hits[0].text
    assert hits[0].ranks == (1, 1)  # first by dense and by BM25 alike
    # A few of its words (a random query vector: BM25 alone finds it, first in its ranking,
    # so no more than the two best dense-only passages can come before it).
    hits = retriever.search("Xylofoonwerkplaats Zevenhuizen fietsenmaker", k=5)
    assert "planted" in [h.report_id for h in hits[:3]]
    assert next(h for h in hits if h.report_id == "planted").ranks[1] == 1


def test_filters_keep_to_their_report_and_year(scale_index):
    home, queries = scale_index
    retriever = _warm_retriever(home, queries)
    sentence = next(s for s in queries.table if s != PLANTED)
    hits = retriever.search(sentence, k=5, reports=["syn-0003"])
    assert hits and {h.report_id for h in hits} == {"syn-0003"}
    assert sentence in " ".join(h.text for h in hits)
    by_year = retriever.search(sentence, k=5, years=[2017])
    assert by_year and {h.year for h in by_year} == {2017}
    assert retriever.search(PLANTED, k=3, years=[2031])[0].report_id == "planted"


def test_a_warm_retriever_rebuilds_nothing_between_queries(scale_index, monkeypatch):
    import bm25s

    home, queries = scale_index
    built: list[int] = []  # corpus sizes bm25s indexed
    real_index = bm25s.BM25.index

    def counting_index(self: Any, corpus: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(len(corpus))
        return real_index(self, corpus, *args, **kwargs)

    monkeypatch.setattr(bm25s.BM25, "index", counting_index)
    retriever = _warm_retriever(home, queries)  # a new process's view: BM25 read from disk
    assert built == []
    full_gets: list[dict[str, Any]] = []
    chunks = retriever.index.collection
    real_get = chunks.get

    def spying_get(**kwargs: Any) -> Any:
        if "ids" not in kwargs:
            full_gets.append(kwargs)
        return real_get(**kwargs)

    chunks.get = spying_get  # type: ignore[method-assign]
    first = retriever.index.bm25()
    for sentence in list(queries.table)[:20]:
        retriever.search(sentence, k=5)
        retriever.search(sentence, k=5, reports=["syn-0001", "planted"])
    assert retriever.index.bm25() is first
    assert built == []
    assert full_gets == []  # no query reads every record again


def _sparse_by_full_sort(
    retriever: Retriever,
    query: str,
    n: int,
    reports: list[str] | None,
    years: list[int] | None = None,
):
    """BM25 candidates as a stable argsort of every score would give them (the reference)."""
    bm25, records = retriever.index.bm25(), retriever.index.records()
    scores = bm25.scores(query)
    out = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] <= 0 or len(out) >= n:
            break
        cid = bm25.ids[int(i)]
        meta = records[cid][1] if cid in records else None
        if meta is None or (reports and meta["report_id"] not in reports):
            continue
        if not years or meta["year"] in years:
            out.append((cid, float(scores[i])))
    return out


def test_bm25_candidates_equal_a_full_sort_ties_included(scale_index):
    home, queries = scale_index
    retriever = _warm_retriever(home, queries)
    # The fake reports repeat the same sentences, so many chunks tie on their BM25 score.
    for query in ["jongeren werk", "werkgevers", "alliantie Kansen", PLANTED, "zzzqqq"]:
        for reports, years in [
            (None, None),
            (["syn-0002"], None),
            (["syn-0007", "planted"], None),
            (None, [2016, 2031]),
            (["syn-0001", "syn-0002"], [2016]),
        ]:
            for n in (5, 40):
                got = retriever.sparse(query, n, reports=reports, years=years)
                assert got == _sparse_by_full_sort(retriever, query, n, reports, years)


def test_saved_bm25_scores_as_the_built_one_and_a_stale_one_is_refused(scale_index, tmp_path):
    home, queries = scale_index
    index = Index(home, queries, show_progress=False)
    saved = BM25Index.load(index.folder, index._stamp())
    assert saved is not None and saved.ids == sorted(index.records())
    assert BM25Index.load(index.folder, "another stamp") is None
    texts = [index.records()[i][0] for i in saved.ids[:300]]
    rebuilt = BM25Index.build(saved.ids[:300], texts)
    rebuilt.save(tmp_path, "stamp-of-300")
    again = BM25Index.load(tmp_path, "stamp-of-300")
    assert again is not None and again.ids == saved.ids[:300]
    for query in ["jongeren werk", PLANTED, "zzzqqq"]:
        assert np.allclose(again.scores(query), rebuilt.scores(query))
    # An empty index saves and loads too, and replaces the arrays saved before it.
    BM25Index([], []).save(tmp_path, "empty")
    empty = BM25Index.load(tmp_path, "empty")
    assert empty is not None and empty.ids == [] and empty.scores("werk").size == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("bm25-")] == []


def test_records_are_read_in_pages_and_all_of_them(scale_index, monkeypatch):
    # One Chroma get of ~33,000 records or more fails ("too many SQL variables"); records
    # are read in pages. Small pages here, so that the 2,000 passages take several.
    import rag.chroma

    home, queries = scale_index
    whole = Index(home, queries, show_progress=False).records()
    monkeypatch.setattr(rag.chroma, "GET_PAGE", 300)
    paged = Index(home, queries, show_progress=False)
    assert paged.records() == whole and len(whole) > 3 * 300
    assert paged.left_behind() == set()


def _dense_by_brute_force(
    home: Path, queries: Any, query: str, n: int, where: dict[str, Any], w: float
) -> list[tuple[str, float]]:
    """The dense score written out over every record a Chroma ``where`` keeps: a chunk's own
    similarity and its best sentence's among the 4n best sentences (or the lowest of those),
    weighted. No facets, no HNSW: what the exact path must equal."""
    index = Index(home, queries, show_progress=False)
    vector = queries.embed_query([query])[0]
    chunks = index.collection.get(where=where, include=["embeddings"])
    sims = np.asarray(chunks["embeddings"], dtype=np.float32) @ vector
    own = dict(zip(chunks["ids"], sims.tolist(), strict=True))
    head = [chunks["ids"][i] for i in np.argsort(-sims, kind="stable")[:n]]
    sents = index.sentences.get(where=where, include=["embeddings", "metadatas"])
    s_sims = np.asarray(sents["embeddings"], dtype=np.float32) @ vector
    best: dict[str, float] = {}
    for i in np.argsort(-s_sims, kind="stable")[: 4 * n]:
        cid = str(sents["metadatas"][i]["chunk_id"])
        best[cid] = max(best.get(cid, -1.0), float(s_sims[i]))
    floor = min(best.values())
    scored = {c: (1 - w) * own[c] + w * best.get(c, floor) for c in {*head, *best}}
    return sorted(scored.items(), key=lambda x: -x[1])[:n]


def test_a_narrow_filter_is_scored_exactly_as_the_filtered_chroma_search_ranks(
    scale_index, monkeypatch
):
    import rag.retrieve
    from rag.retrieve import _where

    home, queries = scale_index
    retriever = _warm_retriever(home, queries)
    w = retriever.settings.sentence_weight
    sentences = list(queries.table)[:12]
    filters = [
        (["syn-0004"], None),
        (["syn-0001", "planted"], None),
        (None, [2016]),
        (["syn-0001", "syn-0002"], [2016]),
    ]
    exact = [retriever.dense(q, 40, r, y) for q in sentences for r, y in filters]
    assert all(exact)
    # The exact path is the formula itself over what the filter keeps, to float32 rounding.
    for (q, (r, y)), got in zip([(q, f) for q in sentences for f in filters], exact, strict=True):
        want = _dense_by_brute_force(home, queries, q, 40, _where(r, y), w)
        assert [c for c, _ in got] == [c for c, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-6)
    # Chroma's filtered HNSW search is approximate: it may miss some of the 4n best
    # sentences, and among these random vectors (all near 0.25 but the query's own) that
    # reorders chunks as early as the ninth and moves the floor the rest get (by 7e-5, once
    # over 1e-4 on CI). It finds the query's own passage first, keeps most of the same
    # chunks, and can only score a chunk lower than the exact path does, never higher.
    monkeypatch.setattr(rag.retrieve, "EXACT_FILTER_MAX", 0)  # Chroma's filtered search
    chroma = [retriever.dense(q, 40, r, y) for q in sentences for r, y in filters]
    for got, want in zip(exact, chroma, strict=True):
        assert got[0][0] == want[0][0] and abs(got[0][1] - want[0][1]) < 1e-4
        exact_score = dict(got)
        common = [(c, s) for c, s in want if c in exact_score]
        assert len(common) >= 30
        assert all(s <= exact_score[c] + 1e-4 for c, s in common)
