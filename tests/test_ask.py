"""`watwerkt ask`: cited, verified, structured answers and honest refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.verify import find_quote, quote_on_page, unsupported_numbers
from ui.cli import main


def _check_citations(answer, documents) -> None:
    """Every quote occurs verbatim on its cited page; every number of a statement is quoted."""
    by_n = {c.n: c for c in answer.citations}
    for c in answer.citations:
        doc = documents.load(c.report_id)
        assert find_quote(c.quote, doc.text) >= 0, c.quote
        assert quote_on_page(c.quote, doc, c.page), (c.page, c.quote)
    for st in answer.statements:
        assert st.citations, st.text
        assert not unsupported_numbers(st.text, [by_n[n].quote for n in st.citations])
        for n in st.citations:
            assert f"[{n}]" in answer.text


# Known misses of the shipped reader's cross-check (rag/data/reader/MODEL_CARD.md, limits):
# the cross-encoder does not read "In totaal zijn 70 jongeren geplaatst bij de bvo's" as the
# answer to the plain Kansen count questions (margin -3.5 over "no answer" with "bij de
# bvo's", combined answerability 0.29 < 0.58), though it reads the share sentence next to it
# as answering its question (test_llm, test_reader_st ask that one). Strict: a reader that
# answers one fails this test, and the question moves back to the one below.
@pytest.mark.xfail(strict=True, reason="known miss of the cross-check (MODEL_CARD.md, limits)")
@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel jongeren zijn via de alliantie Kansen geplaatst?",
        "Hoeveel jongeren zijn via de alliantie Kansen geplaatst bij de bvo's?",
    ],
)
def test_known_miss_the_kansen_count_questions(built_app, question: str):
    answer = built_app.ask(question)
    assert answer.grounded
    assert any("70 jongeren" in c.quote for c in answer.citations), answer.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hoeveel allianties zijn er opgezet?", "negen allianties opgezet"),
        (
            "Hoeveel procent van de jongeren die bij de bvo's aan de slag gingen, stroomde uit "
            "naar werk?",
            "80 procent",
        ),
        ("Onder welke naam is het platform van start gegaan?", "Platform Jongeren, Werk en Hoop"),
        ("Welke stichtingen voerden de alliantie Dromen uit?", "Jong Ondernemen en JINC"),
    ],
)
def test_answer_cites_the_sentence_that_answers(built_app, question: str, expected: str):
    answer = built_app.ask(question)
    assert answer.grounded
    assert any(expected in c.quote for c in answer.citations), answer.text
    _check_citations(answer, built_app.index.documents)


def test_what_works_answer_is_structured_by_cmo(built_app):
    answer = built_app.ask("Wat werkt voor mbo-2 jongeren?")
    assert answer.grounded and answer.structured
    groups = {st.group for st in answer.statements}
    assert {"I", "M", "C"} <= groups, answer.text
    assert "Interventies:" in answer.text and "Werkzame mechanismen:" in answer.text
    _check_citations(answer, built_app.index.documents)


def test_the_direct_answer_comes_first_and_sources_are_numbered_as_read(built_app):
    answer = built_app.ask("Wat werkt voor mbo-2 jongeren?")
    assert answer.statements[0].direct, "the direct answer before the CMO grouping"
    seen = [n for st in answer.statements for n in st.citations]
    assert seen == sorted(seen) and [c.n for c in answer.citations] == list(range(1, len(seen) + 1))
    body = answer.text.split("\n\n")
    assert "mbo" in body[0].lower() and "Interventies:" not in body[0]
    marks = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    assert marks == sorted(marks), answer.text


def test_a_sentence_that_leans_on_the_one_before_is_cited_with_it(built_app):
    answer = built_app.ask("Wat werkt voor mbo-2 jongeren?")
    leaning = [c for c in answer.citations if "Dit rechtvaardigt de focus" in c.quote]
    assert leaning, answer.text
    assert not leaning[0].quote.startswith("Dit"), "the sentence 'Dit' refers to comes first"
    _check_citations(answer, built_app.index.documents)


@pytest.mark.parametrize(
    ("sentence", "leans"),
    [
        ("Dit rechtvaardigt de focus op de doelgroep.", True),
        ("Daarom is nazorg na plaatsing belangrijk.", True),
        ("Voor deze jongeren is extra begeleiding nodig.", True),
        ("Dat is een belangrijke les voor nieuwe allianties.", True),
        ("Vanaf 2019 wordt hier binnen het platform vorm aan gegeven.", True),
        ("De alliantie Kansen begeleidt jongeren met een uitkering naar werk.", False),
        ("Jongeren die werken, verdienen meer dan jongeren zonder baan.", False),
        ("In dit rapport beschrijven we de resultaten van de pilots.", False),
        ("Dat jongeren uitvallen is al langer bekend.", False),
        ("Hier en daar ontstonden knelpunten in de samenwerking.", False),
    ],
)
def test_sentences_that_cannot_stand_alone(sentence: str, leans: bool):
    from rag.answer import leans_back

    assert leans_back(sentence) is leans


@pytest.mark.parametrize(
    "question",
    [
        "Hoe pakt Duitsland jeugdwerkloosheid aan?",
        "Hoe hoog was de jeugdwerkloosheid in Nederland in 2022?",
        "Hoeveel subsidie kreeg elke alliantie?",
        "Hoeveel bezoekers trokken de symposia van het platform?",
    ],
)
def test_refuses_when_the_reports_hold_no_answer(built_app, question: str):
    answer = built_app.ask(question)
    assert not answer.grounded
    assert answer.citations == ()
    assert "geen antwoord" in answer.text
    assert answer.related, "nearest passages are offered separately"
    assert answer.notes and answer.notes[0].startswith("refused:")


def test_ask_json_follows_the_contract(built_home: Path, capsys):
    assert main(["ask", "Wat werkt voor mbo-2 jongeren?", "--json", "--home", str(built_home)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    data = json.loads(out)
    assert {"question", "answer", "grounded", "citations", "passages"} <= set(data)
    assert data["grounded"] is True and data["citations"]
    for c in data["citations"]:
        assert set(c) == {"n", "chunk_id", "report_id", "section", "page", "quote"}
        passage = next(p for p in data["passages"] if p["chunk_id"] == c["chunk_id"])
        assert find_quote(c["quote"], passage["text"]) >= 0


def test_ask_json_refusal_has_no_citations(built_home: Path, capsys):
    main(
        [
            "ask",
            "Wat vindt de minister van Defensie van het platform?",
            "--json",
            "--home",
            str(built_home),
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert data["grounded"] is False and data["citations"] == []
    assert data["related"]


def test_ask_human_output_has_footnotes_and_references(built_home: Path, capsys):
    assert (
        main(
            [
                "ask",
                "Welke stichtingen voerden de alliantie Dromen uit?",
                "--home",
                str(built_home),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Bronnen:" in out and "[1]" in out and "p. " in out
    assert "Literatuur:" in out and "Regioplan (2020)." in out


def test_statements_from_several_reports_are_attributed(tmp_path: Path):
    from ui.settings import get_settings
    from ui.wiring import App, Overrides

    app = App(get_settings(home=tmp_path / "h", embedder="use"), show_progress=False)
    for name, who, year in (("a", "Jansen", 2019), ("b", "De Vries", 2021)):
        path = tmp_path / f"{name}.txt"
        path.write_text(
            "Persoonlijke coaching door een vaste coach vergroot het zelfvertrouwen van "
            f"jongeren in de regio {name.upper()}. De coaches zien de jongeren elke week.\n",
            encoding="utf-8",
        )
        app.ingest(
            [path],
            Overrides(
                report_id=f"rapport-{name}", title=f"Rapport {name}", year=year, authors=(who,)
            ),
        )
    answer = app.ask("Vergroot persoonlijke coaching het zelfvertrouwen van jongeren?")
    assert answer.grounded
    assert {c.report_id for c in answer.citations} == {"rapport-a", "rapport-b"}
    assert "Jansen (2019)" in answer.text and "De Vries (2021)" in answer.text
    assert "Volgens 2 rapporten:" in answer.text


def test_langchain_retriever_returns_documents_with_provenance(built_app):
    from langchain_core.runnables import RunnableLambda

    from rag.lc import WatwerktRetriever

    retriever = WatwerktRetriever(retriever=built_app.retriever, k=3)
    docs = retriever.invoke("ouderbetrokkenheid bij de loopbaankeuze")
    assert len(docs) == 3
    meta = docs[0].metadata
    assert meta["report_id"] == "regioplan-2020" and meta["page_start"] >= 1
    assert meta["section"] and docs[0].page_content

    chain = retriever | RunnableLambda(
        lambda ds: "\n".join(f"[{d.metadata['page_start']}] {d.page_content[:40]}" for d in ds)
    )
    context = chain.invoke("werkgevers ontzorgen")
    assert context.count("\n") == 2 and context.startswith("[")


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Wie schreef het verslag en hoeveel heeft het onderzoek gekost?",
            ["Wie schreef het verslag?", "Hoeveel heeft het onderzoek gekost?"],
        ),
        (
            "Welke leeftijdsgrens gold bij de start voor de doelgroep en welke na het pilotjaar?",
            [
                "Welke leeftijdsgrens gold bij de start voor de doelgroep?",
                "Welke na het pilotjaar (leeftijdsgrens doelgroep)?",
            ],
        ),
        ("Wat doen jongeren en ouders samen?", None),
        ("Hoe en waarom werkt mentoring?", None),
        ("Wat werkt voor mbo-2 jongeren?", None),
    ],
)
def test_a_question_of_several_parts_is_split_where_the_wording_says_so(question, parts):
    from rag.parts import split_parts

    assert split_parts(question) == (parts or [question])


def test_each_part_is_answered_and_an_unanswered_part_is_named(built_app):
    answer = built_app.ask(
        "Hoeveel jongeren zijn geplaatst bij de bvo's en hoeveel subsidie kreeg elke alliantie?"
    )
    assert answer.grounded
    first, second = answer.text.split("\n\n2. ")
    assert first.startswith("1. Hoeveel jongeren zijn geplaatst") and "70 jongeren" in first
    assert second.startswith("Hoeveel subsidie") and "beantwoorden dit deel niet" in second
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert any("not answered by the reports" in n for n in answer.notes)
    _check_citations(answer, built_app.index.documents)
