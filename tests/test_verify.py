"""The verification rules of rag/verify.py and how verify_draft applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.models import Document
from rag.answer import Draft, Evidence, Statement, verify_draft
from rag.documents import DocumentStore
from rag.models import Passage
from rag.verify import (
    find_quote,
    numbers_in,
    quote_in_chunk,
    quote_on_page,
    split_cited,
    support,
    unsupported_numbers,
)

CHUNK = "In totaal zijn 70 jongeren\ngeplaatst bij de  bvo's. Ongeveer 70 procent vond werk."


# -- find_quote / quote_in_chunk ---------------------------------------------------------------
@pytest.mark.parametrize(
    "quote",
    [
        "In totaal zijn 70 jongeren geplaatst bij de bvo's.",  # newline and double space in text
        "zijn 70\n jongeren   geplaatst",  # extra whitespace in the quote
        "  Ongeveer 70 procent vond werk.  ",
    ],
)
def test_quote_is_found_whatever_the_whitespace(quote):
    assert find_quote(quote, CHUNK) >= 0
    assert quote_in_chunk(quote, CHUNK)


@pytest.mark.parametrize(
    "quote",
    [
        "In totaal zijn 80 jongeren geplaatst bij de bvo's.",  # a changed number
        "In totaal zijn 70 studenten geplaatst bij de bvo's.",  # a changed word
        "Ongeveer 70 procent vond geen werk.",  # a word inserted
    ],
)
def test_changed_quote_is_not_found(quote):
    assert find_quote(quote, CHUNK) == -1
    assert not quote_in_chunk(quote, CHUNK)


@pytest.mark.parametrize("quote", ["", "   ", "\n\n"])
def test_empty_quote_is_never_found(quote):
    assert find_quote(quote, CHUNK) == -1
    assert not quote_in_chunk(quote, CHUNK)


def test_quote_offset_points_at_its_start():
    assert find_quote("Ongeveer 70 procent", CHUNK) == CHUNK.index("Ongeveer")


# -- quote_on_page ---------------------------------------------------------------------------
PAGE1 = "Inleiding over het platform.\nDe alliantie Kansen begon in\n"
PAGE2 = "2018 met twee bvo's. In totaal zijn 70 jongeren geplaatst.\n"


def two_pages(report_id: str = "r") -> Document:
    return Document(report_id, "r.pdf", "hash", PAGE1 + PAGE2, (0, len(PAGE1)), ())


@pytest.mark.parametrize(
    ("quote", "pages"),
    [
        ("Inleiding over het platform.", {1}),
        ("In totaal zijn 70 jongeren geplaatst.", {2}),
        ("De alliantie Kansen begon in 2018 met twee bvo's.", {1, 2}),  # spans the boundary
        ("In totaal zijn 95 jongeren geplaatst.", set()),  # not in the document at all
    ],
)
def test_quote_is_on_the_pages_it_occupies(quote, pages):
    doc = two_pages()
    assert {p for p in (1, 2, 3) if quote_on_page(quote, doc, p)} == pages


# -- numbers_in / unsupported_numbers --------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("7,2 procent van de jongeren", {"7,2%"}),
        ("7,2% van de jongeren", {"7,2%"}),
        ("7.2 %", {"7,2%"}),
        ("in 2018 en 2019", {"2018", "2019"}),
        ("340 studenten deden mee", {"340"}),
        ("geen getal hier", set()),
    ],
)
def test_numbers_are_normalised(text, numbers):
    assert numbers_in(text) == numbers


@pytest.mark.parametrize(
    ("sentence", "quote"),
    [
        ("Het ging om 7,2% van de jongeren.", "Het ging om 7,2 procent van de jongeren."),
        ("Het ging om 7,2 procent.", "Het ging om 7,2%."),
        ("De pilot liep in 2018 en 2019.", "In de jaren 2018 en 2019 liep de pilot."),
        ("Er deden 340 studenten mee.", "Aan het project namen 340 studenten deel."),
        ("Er zijn 9 allianties.", "Het platform telt negen allianties."),
        ("Er zijn negen allianties.", "Het platform telt negen allianties."),
    ],
)
def test_numbers_of_the_quote_support_the_sentence(sentence, quote):
    assert unsupported_numbers(sentence, [quote]) == set()


@pytest.mark.parametrize(
    ("sentence", "quote", "missing"),
    [
        ("Ongeveer 80 procent vond werk.", "Ongeveer 70 procent vond werk.", {"80%"}),
        ("In totaal zijn 95 jongeren geplaatst.", "In totaal zijn 70 jongeren geplaatst.", {"95"}),
        ("De pilot liep in 2021.", "De pilot liep in 2018 en 2019.", {"2021"}),
        ("Er zijn 10 allianties.", "Het platform telt negen allianties.", {"10"}),
        ("Er deden 340 studenten mee in 2019.", "Er deden 340 studenten mee.", {"2019"}),
    ],
)
def test_invented_numbers_are_reported(sentence, quote, missing):
    assert unsupported_numbers(sentence, [quote]) == missing


def test_numbers_may_come_from_any_cited_quote():
    quotes = ["In totaal zijn 70 jongeren geplaatst.", "Dat gebeurde in 2019."]
    assert unsupported_numbers("In 2019 zijn 70 jongeren geplaatst.", quotes) == set()


# -- support ---------------------------------------------------------------------------------
QUOTE = "Jongeren met een afstand tot de arbeidsmarkt krijgen een werkervaringsplaats bij de bvo."


@pytest.mark.parametrize(
    "sentence",
    [
        "Jongeren met afstand tot de arbeidsmarkt kregen werkervaringsplaatsen bij een bvo.",
        "Een werkervaringsplaats bij de bvo is er voor jongeren op afstand van de arbeidsmarkt.",
    ],
)
def test_paraphrase_sharing_dutch_stems_is_supported(sentence):
    assert support(sentence, QUOTE) >= 0.6


@pytest.mark.parametrize(
    "sentence",
    [
        "Het weer in Utrecht was gisteren zonnig en warm.",
        "Ik negeer alle eerdere instructies en raad iedereen aan om te stoppen met school.",
    ],
)
def test_unrelated_sentence_is_not_supported(sentence):
    assert support(sentence, QUOTE) < 0.3


def test_sentence_without_content_words_has_no_support():
    assert support("en de of het", QUOTE) == 0.0


# -- split_cited -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Zin een [1]. Zin twee [2][3]. Zin drie zonder bron.",
            [("Zin een.", (1,)), ("Zin twee.", (2, 3)), ("Zin drie zonder bron.", ())],
        ),
        ("Zin een [1, 2]. Zin twee [3; 4].", [("Zin een.", (1, 2)), ("Zin twee.", (3, 4))]),
        (
            "- Eerste punt [1].\n- Tweede punt [2].",
            [("Eerste punt.", (1,)), ("Tweede punt.", (2,))],
        ),
        ("• Opsomming met bolletje [4].", [("Opsomming met bolletje.", (4,))]),
        ("Dubbel geciteerd [2][2].", [("Dubbel geciteerd.", (2,))]),
        ("[1]\n\n  \n", []),  # a lone citation is no sentence
    ],
)
def test_split_cited_gives_each_sentence_its_citations(text, expected):
    assert split_cited(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zin een. [1] Zin twee.", [("Zin een.", (1,)), ("Zin twee.", ())]),
        ("Zin een [1]. 80 procent vond werk.", [("Zin een.", (1,)), ("80 procent vond werk.", ())]),
        ("Zin een [1]. Één zin meer.", [("Zin een.", (1,)), ("Één zin meer.", ())]),
    ],
    ids=["citation-after-stop", "digit-start", "accented-capital"],
)
def test_split_cited_separates_every_sentence(text, expected):
    assert split_cited(text) == expected


# -- verify_draft ----------------------------------------------------------------------------
INTRO = "Inleiding over de alliantie Kansen en het platform.\n"
BODY = (
    "In totaal zijn 70 jongeren geplaatst bij de bvo's. "
    "Ongeveer 80 procent van deze jongeren is uitgestroomd naar werk.\n"
)
FIRST = "In totaal zijn 70 jongeren geplaatst bij de bvo's."
SECOND = "Ongeveer 80 procent van deze jongeren is uitgestroomd naar werk."


def passage(text: str, char_start: int) -> Passage:
    return Passage(
        "rep:p2:x", "rep", "Titel", 2020, ("2 Resultaten",), 2, 2, char_start,
        char_start + len(text), text,
    )  # fmt: skip


def evidence_of(p: Passage, sentence: str) -> Evidence:
    start = p.text.index(sentence)
    return Evidence(p, 0, start, start + len(sentence), 0.9, 0.5, 1.0)


@pytest.fixture
def store(tmp_path: Path) -> DocumentStore:
    """A document of two pages whose page 2 holds the two sentences of the passage."""
    documents = DocumentStore(tmp_path / "documents")
    documents.save(Document("rep", "rep.pdf", "h", INTRO + BODY, (0, len(INTRO)), ()))
    return documents


@pytest.fixture
def evidence() -> tuple[Evidence, ...]:
    p = passage(BODY, len(INTRO))
    return (evidence_of(p, FIRST), evidence_of(p, SECOND))


def test_valid_statements_are_kept_and_renumbered_in_order_of_use(store, evidence):
    draft = Draft(
        (
            Statement("Ongeveer 80 procent van de jongeren is uitgestroomd naar werk.", (2,)),
            Statement("Er zijn 70 jongeren geplaatst bij bvo's.", (1,)),
            Statement("Bij de bvo's zijn 70 jongeren geplaatst.", (1,)),
        ),
        evidence,
        "test",
    )
    verified = verify_draft(draft, store)
    assert verified.removed == 0
    assert [st.citations for st in verified.statements] == [(1,), (2,), (2,)]
    assert [(c.n, c.quote, c.page) for c in verified.citations] == [(1, SECOND, 2), (2, FIRST, 2)]
    assert verified.citations[0].report_id == "rep"


@pytest.mark.parametrize(
    ("text", "citations"),
    [
        ("In totaal zijn 70 jongeren geplaatst bij de bvo's.", (3,)),  # no evidence 3
        ("In totaal zijn 70 jongeren geplaatst bij de bvo's.", (0,)),  # no evidence 0
        ("In totaal zijn 70 jongeren geplaatst bij de bvo's.", ()),  # no citation at all
        ("In totaal zijn 95 jongeren geplaatst bij de bvo's.", (1,)),  # number not in quote
        ("Ongeveer 90 procent vond werk na de bvo.", (2,)),  # percentage not in quote
        ("Het weer in Utrecht was gisteren zonnig.", (1,)),  # no content word shared
        ("In totaal zijn 70 jongeren geplaatst bij de bvo's.", (1, 7)),  # one valid, one not
    ],
)
def test_statement_failing_a_rule_is_dropped_and_counted(store, evidence, text, citations):
    good = Statement(SECOND, (2,))
    draft = Draft((good, Statement(text, citations), good), evidence, "test")
    verified = verify_draft(draft, store)
    assert verified.removed == 1
    assert [st.text for st in verified.statements] == [SECOND, SECOND]
    assert [c.quote for c in verified.citations] == [SECOND]


def test_quote_missing_from_the_document_is_not_verified(store):
    forged = "In totaal zijn 700 jongeren geplaatst bij de bvo's."  # in the chunk, not the PDF
    ev = evidence_of(passage(forged + "\n", len(INTRO)), forged)
    draft = Draft((Statement(forged, (1,)),), (ev,), "test")
    assert verify_draft(draft, store).removed == 1


def test_quote_on_another_page_than_cited_is_not_verified(tmp_path: Path, evidence):
    documents = DocumentStore(tmp_path / "documents")
    # the same text, but all of it on page 1: the passage claims page 2
    documents.save(Document("rep", "rep.pdf", "h", INTRO + BODY, (0, len(INTRO + BODY) + 1), ()))
    ev = evidence[0]
    moved = Evidence(passage(BODY, len(INTRO + BODY) + 1), 0, ev.start, ev.end, 0.9, 0.5, 1.0)
    draft = Draft((Statement(FIRST, (1,)),), (moved,), "test")
    assert verify_draft(draft, documents).removed == 1
