"""Retrieval regression: the build fails when retrieval on the gold set gets worse."""

from __future__ import annotations

import pytest

from rag.evaluate import evaluate_retrieval, load_gold, normalise

from .conftest import GOLD

# The floor this suite guards (issue 2). Measured on the bundled report: recall@5 0.967,
# MRR@10 0.870 (see benchmarks/README.md). A change that drops below fails the build.
MIN_RECALL_AT_5 = 0.95
MIN_MRR_AT_10 = 0.85
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
def test_retrieval_quality_does_not_drop(gold, built_app):
    texts = [t for t, _ in built_app.index.records().values()]
    report = evaluate_retrieval(gold, lambda q, k: built_app.retriever.search(q, k=k), texts)
    summary = {k: v for k, v in report.as_dict().items() if k != "misses"}
    assert report.recall[5] >= MIN_RECALL_AT_5, summary
    assert report.mrr10 >= MIN_MRR_AT_10, summary
    assert report.avg_passage_chars <= MAX_AVG_PASSAGE_CHARS, summary


# Floors for `ask` (issue 3), a question or three below what benchmarks/answer_quality.py
# measured (evidence in a cited quote / unanswerable refused: calibration 79.7% / 55.1%,
# ask-train 65.6% / 51.7%, held-out 72.6% / 81.1%). The targets (90%) are not met yet; these
# floors keep a change from making answers or refusals worse unnoticed.
ANSWER_FLOORS = {
    GOLD.name: {"answered_with_expected_evidence": 0.77, "refused": 0.52},
    "gold_ask_train.yaml": {"answered_with_expected_evidence": 0.62, "refused": 0.48},
    "gold_ask_holdout.yaml": {"answered_with_expected_evidence": 0.69, "refused": 0.78},
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ANSWER_FLOORS))
def test_answer_quality_does_not_drop(name, built_app):
    from rag.evaluate import evaluate_answers

    report = evaluate_answers(
        load_gold(GOLD.with_name(name)), built_app.ask, built_app.index.documents.load
    ).as_dict()
    summary = {k: v for k, v in report.items() if k != "failures"}
    for measure, floor in ANSWER_FLOORS[name].items():
        assert report[measure] >= floor, (measure, summary)
    assert report["quotes_verified"] == 1.0, summary
    assert report["numbers_supported"] == 1.0, summary


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
