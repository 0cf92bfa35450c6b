"""Retrieval regression: the build fails when retrieval on the gold set gets worse."""

from __future__ import annotations

import pytest

from rag.evaluate import evaluate_retrieval, load_gold, normalise
from rag.rerank import reranked_search

from .conftest import GOLD

# The floor this suite guards (issue 2). Measured on the bundled report: recall@5 0.967,
# MRR@10 0.870 (see benchmarks/README.md). A change that drops below fails the build.
MIN_RECALL_AT_5 = 0.95
MIN_MRR_AT_10 = 0.85
# What `search` and `ask` show, reranked by the reader (rag/rerank.py): recall@5 0.976, MRR@10
# 0.905 on 2026-12-02 (a training set of the reader: the floor guards against a drop, 2 points)
RERANKED_FLOORS = (0.955, 0.885)
MAX_AVG_PASSAGE_CHARS = 1200


@pytest.fixture(scope="module")
def gold():
    return load_gold(GOLD)


def test_gold_set_is_broad(gold):
    assert len(gold.questions) >= 60
    kinds = {q.kind for q in gold.questions}
    assert {
        "fact",
        "number",
        "wat-werkt",
        "lesson",
        "hypothesis",
        "alliance",
        "paraphrase",
        "english",
    } <= kinds
    assert len({q.id for q in gold.questions}) == len(gold.questions)
    assert len(gold.answerable_false) >= 15


def test_every_evidence_string_occurs_in_the_ingested_text(gold, built_app):
    doc = built_app.index.documents.load("regioplan-2020")
    text = normalise(doc.text)
    missing = [(q.id, e) for q in gold.questions for e in q.evidence if normalise(e) not in text]
    assert missing == []


@pytest.mark.slow
@pytest.mark.parametrize("reranked", [False, True], ids=["hybrid", "reranked"])
def test_retrieval_quality_does_not_drop(reranked, gold, built_app):
    texts = [t for t, _ in built_app.index.records().values()]
    retriever = built_app.retriever
    search = (
        (lambda q, k: reranked_search(q, retriever, k=k))
        if reranked
        else (lambda q, k: retriever.search(q, k=k))
    )
    report = evaluate_retrieval(gold, search, texts)
    summary = {k: v for k, v in report.as_dict().items() if k != "misses"}
    floors = RERANKED_FLOORS if reranked else (MIN_RECALL_AT_5, MIN_MRR_AT_10)
    assert report.recall[5] >= floors[0], summary
    assert report.mrr10 >= floors[1], summary
    assert report.avg_passage_chars <= MAX_AVG_PASSAGE_CHARS, summary


# Floors for `ask` (issues 3 and 9), 2 points below what the shipped reader measured with this
# test's functions on 2026-12-02, with the cross-encoder's cross-check (evidence in a cited
# quote / unanswerable refused: calibration 82.1% / 89.7%, ask-train 68.8% / 71.3%, held-out
# 77.4-79.0% / 91.9%, one question flipping between runs; without the check, 2026-12-01:
# 86.2 / 57.7, 75.3 / 44.8, 85.5 / 83.8: it refuses far more and cites 4-8 points less here;
# benchmarks/README.md, the cross-encoder, step 11). The targets (90%) are not met yet; these
# floors keep a change from making answers or refusals worse unnoticed.
ANSWER_FLOORS = {
    GOLD.name: {"answered_with_expected_evidence": 0.80, "refused": 0.87},
    "gold_ask_train.yaml": {"answered_with_expected_evidence": 0.66, "refused": 0.69},
    "gold_ask_holdout.yaml": {"answered_with_expected_evidence": 0.75, "refused": 0.89},
}


def _answer_figures(gold, app) -> dict:
    """`ask`'s figures on a question set, as benchmarks/answer_quality.py reports them (the
    failures themselves left out: the blind batch's are never listed)."""
    from rag.evaluate import evaluate_answers

    report = evaluate_answers(gold, app.ask, app.index.documents.load).as_dict()
    return {k: v for k, v in report.items() if k != "failures"}


def _assert_floors(figures: dict, floors: dict[str, float]) -> None:
    """Each figure at or above its floor, and every quote verified, every number supported."""
    for measure, floor in floors.items():
        assert figures[measure] >= floor, (measure, figures)
    assert figures["quotes_verified"] == 1.0, figures
    assert figures["numbers_supported"] == 1.0, figures


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ANSWER_FLOORS))
def test_answer_quality_does_not_drop(name, built_app):
    figures = _answer_figures(load_gold(GOLD.with_name(name)), built_app)
    _assert_floors(figures, ANSWER_FLOORS[name])


# The blind batches of the reader (issue 9: tests/data/reader/blind*/, each written by an author
# who saw only the report, never trained or tuned on; blind2 after the reader was frozen).
# Floors: what the shipped reader measured there with this very test's functions (or
# reader_eval.py, the same figures), less 2 points (ECE: plus 0.02); see benchmarks/README.md.
BLIND_FLOORS = {
    "blind/blind.yaml": {  # measured 2026-12-02 17:10 UTC, benchmarks/reader_eval.py
        "recall@5": 0.855,  # 0.875 reranked by the reader (rag/rerank.py; 0.885 before)
        "mrr@10": 0.755,  # 0.776 (0.782 before; hybrid order 0.754)
        "hybrid recall@5": 0.855,  # 0.875
        "hybrid mrr@10": 0.73,  # 0.754
        "answered_with_expected_evidence": 0.665,  # 0.685 (0.685 with the check before)
        "refused": 0.86,  # 0.88 (0.86 with the check before, 0.62 without)
        "ece": 0.077,  # 0.057 (0.053)
    },
    "blind2/blind2.yaml": {  # measured 2026-12-02 17:10 UTC, benchmarks/reader_eval.py
        "recall@5": 0.86,  # 0.88 reranked (0.885 before)
        "mrr@10": 0.761,  # 0.7815 (0.782; hybrid order 0.7575)
        "hybrid recall@5": 0.86,  # 0.88
        "hybrid mrr@10": 0.737,  # 0.7575
        "answered_with_expected_evidence": 0.685,  # 0.705 (0.725 with the check before)
        "refused": 0.81,  # 0.83 (0.76 with the check before, 0.49 without)
        "ece": 0.071,  # 0.051 (0.057)
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BLIND_FLOORS))
def test_blind_batch_figures_do_not_drop(name, built_app):
    floors = dict(BLIND_FLOORS[name])
    max_ece = floors.pop("ece")
    gold = load_gold(GOLD.parent / "reader" / name)
    assert len(gold.questions) >= 200 and len(gold.answerable_false) >= 100
    texts = [t for t, _ in built_app.index.records().values()]
    hybrid = evaluate_retrieval(gold, lambda q, k: built_app.retriever.search(q, k=k), texts)
    reranked = evaluate_retrieval(
        gold, lambda q, k: reranked_search(q, built_app.retriever, k=k), texts
    )
    figures = {
        "recall@5": reranked.recall[5],
        "mrr@10": reranked.mrr10,
        "hybrid recall@5": hybrid.recall[5],
        "hybrid mrr@10": hybrid.mrr10,
        **_answer_figures(gold, built_app),
    }
    _assert_floors(figures, floors)
    assert figures["answerability_ece"] <= max_ece, figures


# Two reports the reader never saw (tests/data/reader/foreign/: other programmes, other
# authors), indexed beside the bundled one: how the reader does on a new report. Floors: what
# the shipped reader measured there (benchmarks/README.md), less 2 points, per report's set.
FOREIGN = GOLD.parent / "reader" / "foreign"
FOREIGN_FLOORS = {
    # 30 answerable and 15 unanswerable questions each: one question is 3.3 and 6.7 points, so
    # the floor is one question below the figure measured on 2026-12-02 17:10 UTC (in the
    # comment; with the check before: .60 / .467 and .667 / .60; without it: .633 / .40 and
    # .733 / .333)
    "questions_a.yaml": {"answered_with_expected_evidence": 0.599, "refused": 0.53},  # .633, .6
    "questions_b.yaml": {"answered_with_expected_evidence": 0.599, "refused": 0.66},  # .633, .73
}


@pytest.fixture(scope="module")
def foreign_app(built_home, tmp_path_factory):
    import shutil

    from ui.settings import get_settings
    from ui.wiring import App

    home = tmp_path_factory.mktemp("foreign") / "home"
    shutil.copytree(built_home, home)
    app = App(get_settings(home=home), show_progress=False)
    outcomes = app.ingest([FOREIGN / "report_a.txt", FOREIGN / "report_b.txt"])
    assert [o.status for o in outcomes] == ["added", "added"], outcomes
    return app


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FOREIGN_FLOORS))
def test_reports_never_seen_in_training_are_read_as_well_as_before(name, foreign_app):
    figures = _answer_figures(load_gold(FOREIGN / name), foreign_app)
    _assert_floors(figures, FOREIGN_FLOORS[name])


def test_every_ask_training_evidence_string_occurs_in_the_ingested_text(built_app):
    texts = [normalise(t) for t, _ in built_app.index.records().values()]
    gold = load_gold(GOLD.with_name("gold_ask_train.yaml"))
    missing = [
        (q.id, e)
        for q in gold.questions
        for e in q.evidence
        if not any(normalise(e) in t for t in texts)
    ]
    assert missing == []


def test_no_training_question_repeats_a_held_out_question():
    """The held-out set stays held out: no question of a training set shares more than 60% of
    its words with a held-out question (0.6 itself is the same template with other facts:
    "jeugdwerkloosheid in Nederland in 2022" against "in België in 2020")."""
    import re

    def words(text: str) -> set[str]:
        return set(re.findall(r"\w+", text.lower()))

    def all_questions(name: str) -> list[tuple[str, str]]:
        gold = load_gold(GOLD.with_name(name))
        return [(q.id, q.question) for q in gold.questions] + [
            (u.id, u.question) for u in gold.answerable_false
        ]

    held = [(i, words(q)) for i, q in all_questions("gold_ask_holdout.yaml")]
    close = []
    for name in (GOLD.name, "gold_ask_train.yaml"):
        for qid, question in all_questions(name):
            mine = words(question)
            for hid, theirs in held:
                if len(mine & theirs) / len(mine | theirs) > 0.6:
                    close.append((name, qid, hid))
    assert close == []
