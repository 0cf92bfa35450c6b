"""Clean-up cases from layouts the bundled report does not have (issue 12), all made up.

The end-to-end figures on re-typeset versions of the report are in tests/test_retypeset.py
and benchmarks/README.md; these are the single behaviours behind them.
"""
# ruff: noqa: E501

from __future__ import annotations

import pytest

from ingest.clean import Vocabulary, is_suspension, keep_hyphen
from ingest.document import clean_pages

UNSEEN_KEEP = [  # (end of a line, start of the next line): real hyphens, all made up
    ("de uitnodiging per e-", "mail verstuurd"),
    ("organisaties uit de non-", "profit sector"),
    ("een follow-", "up gesprek met de coach"),
    ("na de financieel-", "economische crisis van 2008"),
    ("vooral voor ex-", "gedetineerden en statushouders"),
    ("bij de uitvoering zonder politie-", "inzet op straat"),
]
UNSEEN_REJOIN = [  # (end of a line, start of the next line, the word)
    (
        "Beide partijen spelen een rol bij het begeleiden van partij-",
        "en bij het aanvragen",
        "partijen",
    ),
    ("en de daaraan geli-", "eerde sponsoren", "gelieerde"),
    ("hun talenten te kunnen inzetten en te ontplooi-", "en zodat ze", "ontplooien"),
]


@pytest.mark.parametrize(("left", "right"), UNSEEN_KEEP, ids=[c[1] for c in UNSEEN_KEEP])
def test_keep_hyphen_keeps_real_hyphens_of_unseen_reports(left, right):
    assert keep_hyphen(left, right) is True


@pytest.mark.parametrize(
    ("left", "right", "word"), UNSEEN_REJOIN, ids=[c[2] for c in UNSEEN_REJOIN]
)
def test_keep_hyphen_rejoins_words_broken_before_en(left, right, word):
    assert is_suspension(right, left) is False
    assert keep_hyphen(left, right) is False


def test_keep_hyphen_keeps_a_name_the_document_uses_in_a_compound():
    vocab = Vocabulary(["De route is ontwikkeld in Nijmegen en daarna", "breder ingezet."])
    assert keep_hyphen("volgens de Nijmegen-", "route naar werk", vocab) is True


def test_keep_hyphen_does_not_take_a_line_end_fragment_for_a_name():
    lines = ["Getest is de pilot Doorstroomprogram-", "ma van de club."]
    assert keep_hyphen(lines[0], lines[1], Vocabulary(lines)) is False


def test_clean_pages_keeps_hyphen_after_a_digit_at_line_end():
    text, *_ = clean_pages(["Het programma richt zich op 18-\njarigen zonder startkwalificatie."])
    assert "op 18-jarigen zonder" in text


def test_clean_pages_rejoins_a_word_broken_across_a_page_that_ends_in_a_line_break():
    text, *_ = clean_pages(
        ["Dit is een eerste zin over de begelei-\n", "ding van jongeren naar werk."]
    )
    assert "over de begeleiding van jongeren" in text


def _chaptered(pages: list[tuple[str, list[str]]]) -> list[str]:
    return [
        "\n".join([header, *body, f"Pagina {n} van {len(pages)}"])
        for n, (header, body) in enumerate(pages, start=1)
    ]


def test_clean_pages_removes_headers_that_change_per_chapter():
    title = "Evaluatie Platform | Hoofdstuk"
    pages = _chaptered(
        [
            (f"{title} 1: Inleiding", ["1.1 Aanleiding", "Het platform is in 2017 gestart."]),
            (f"{title} 1: Inleiding", ["Het bestaat nu ruim twee jaar en groeit nog."]),
            (f"{title} 2: Resultaten", ["2.1 Opzet", "In dit hoofdstuk staan de resultaten."]),
            (f"{title} 3: Lessen", ["3.1 Opzet", "Ten slotte de lessen voor de toekomst."]),
        ]
    )
    text, *_ = clean_pages(pages)
    assert "Hoofdstuk" not in text and "Pagina" not in text
    assert "groeit nog." in text and "de lessen voor de toekomst." in text


def test_clean_pages_removes_alternating_facing_page_headers():
    even, odd = "Reflectie Platform Jongeren en Werk", "Hoofdstuk 2: Vraagstukken en rode draden"
    bodies = [
        "Het platform is in 2017 gestart met vijf allianties.",
        "Daarna kwamen er werkgevers en gemeenten bij.",
        "Jongeren zonder startkwalificatie bleven de doelgroep.",
        "In 2020 nam de Rebel Group het management over.",
        "De lessen gaan over tijd, doelgroep en samenwerking.",
    ]
    pages = [f"{odd if n % 2 else even}\n{b}" for n, b in enumerate(bodies, start=1)]
    text, *_ = clean_pages(pages)
    assert "Reflectie" not in text and "Hoofdstuk" not in text
    assert all(b in text for b in bodies)


def test_clean_pages_table_header_after_a_caption_is_no_section():
    page = "\n".join(
        [
            "2.1 Deelnemers",
            "Het platform bereikte in twee jaar veel jongeren in de regio, zoals de tabel laat zien.",
            "Tabel 2.1 Deelnemers per alliantie",
            "Alliantie",
            "Doelgroep",
            "Periode",
            "Kansen",
            "MBO-studenten",
            "2019-2020",
            "Het aantal deelnemers nam in het tweede jaar toe, vooral in de alliantie Kansen.",
        ]
    )
    _, _, _, sections = clean_pages([page])
    names = {name for s in sections for name in s.path}
    assert names == {"2.1 Deelnemers"}


def test_clean_pages_rejoins_a_numbered_heading_wrapped_onto_two_lines():
    page = "\n".join(
        [
            "2.3 Vraagstuk 2: versterken van de positie van jongeren op",
            "de arbeidsmarkt",
            "Het platform heeft als tweede subdoelstelling geformuleerd dat jongeren werk vinden.",
        ]
    )
    _, _, _, sections = clean_pages([page])
    paths = [s.path for s in sections]
    assert ("2.3 Vraagstuk 2: versterken van de positie van jongeren op de arbeidsmarkt",) in paths


def test_clean_pages_keeps_a_subheading_wrapped_in_a_narrow_column():
    page = "\n".join(
        [
            "De partners willen graag betrokken zijn bij de bijeenkomsten.",
            "CMO-configuratie Betere en ontsnipperde",
            "initiatieven",
            "Op basis van de ervaringen met samenwerking tussen partners en met het",
            "platform kunnen we de volgende CMO-configuratie opstellen voor dit vraag-",
            "stuk, met de mechanismen en de uitkomsten die daarbij horen en ook de",
            "context waarin ze werken; zo ontstaat een beeld van wat werkt voor wie.",
        ]
    )
    text, _, blocks, _ = clean_pages([page])
    assert "CMO-configuratie Betere en ontsnipperde initiatieven" in [text[s:e] for s, e in blocks]
