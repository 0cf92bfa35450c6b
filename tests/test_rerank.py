"""The reader reranks the hybrid search (rag/rerank.py): `search` and `ask` show the same order."""

from __future__ import annotations

import pytest

from rag.rerank import POOL, reranked_search

QUESTIONS = [
    "Hoeveel jongeren zijn via de alliantie Kansen geplaatst?",
    "Waar moet een nieuwe alliantie op letten bij het betrekken van werkgevers?",
    "Welke rol spelen ouders bij de loopbaankeuze van jongeren?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_reranking_orders_the_hybrid_pool_by_the_readers_score(question, built_app) -> None:
    retriever = built_app.retriever
    pool = {p.chunk_id for p in retriever.search(question, k=POOL)}
    results = reranked_search(question, retriever, k=10)
    assert len(results) == 10
    assert {p.chunk_id for p in results} <= pool  # reordered, nothing new
    scores = [p.score for p in results]
    assert scores == sorted(scores, reverse=True), scores
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_without_a_pool_the_hybrid_order_stays(built_app) -> None:
    retriever = built_app.retriever
    question = QUESTIONS[1]
    hybrid = [p.chunk_id for p in retriever.search(question, k=5)]
    assert [p.chunk_id for p in reranked_search(question, retriever, k=5, pool=0)] == hybrid


def test_a_k_beyond_the_pool_is_still_served(built_app) -> None:
    results = reranked_search(QUESTIONS[0], built_app.retriever, k=POOL + 5)
    assert len({p.chunk_id for p in results}) == POOL + 5


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_shows_the_passages_search_finds(question, built_app) -> None:
    answer = built_app.ask(question)
    shown = [p.chunk_id for p in answer.passages[:8]]
    assert shown == [p.chunk_id for p in reranked_search(question, built_app.retriever, k=8)]


def test_search_json_lists_the_reranked_passages(built_home, capsys) -> None:
    import json

    from ui.cli import main
    from ui.settings import get_settings
    from ui.wiring import App

    home = ["--home", str(built_home)]
    assert main(["search", QUESTIONS[1], "-k", "4", "--json", *home]) == 0
    data = json.loads(capsys.readouterr().out)
    app = App(get_settings(home=built_home), show_progress=False)
    expected = [p.chunk_id for p in reranked_search(QUESTIONS[1], app.retriever, k=4)]
    assert [r["chunk_id"] for r in data["results"]] == expected
    assert main(["search", QUESTIONS[1], "-k", "4", "--json", "--hybrid", *home]) == 0
    hybrid = json.loads(capsys.readouterr().out)
    assert [r["chunk_id"] for r in hybrid["results"]] == [
        p.chunk_id for p in app.retriever.search(QUESTIONS[1], k=4)
    ]
