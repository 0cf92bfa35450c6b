"""Dutch-aware clean-up (ingest.clean) and its use by ingest.document, on real report text.

Cases come from the bundled Regioplan (2020) reflection on Platform Jongeren en Werk: line
pairs as the PDF breaks them, or (marked "split here") a phrase of the report broken at its own
hyphen. The few cases the report has no example of are marked "made up". Lines are kept verbatim,
so some are longer than the usual 100 characters.
"""
# ruff: noqa: E501

from __future__ import annotations

import itertools
import re
import unicodedata
from pathlib import Path

import pypdf
import pytest

from ingest.chunk import chunk_document
from ingest.clean import (
    Vocabulary,
    is_suspension,
    keep_hyphen,
    normalise_chars,
    strip_running_lines,
)
from ingest.document import clean_pages, load_document

REPO = Path(__file__).resolve().parents[1]

REPORT_PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
HEADER = "Regioplan  |  Platform Jongeren en Werk: reflectie oktober 2017 – juni 2020"


@pytest.fixture(scope="module")
def report_doc():
    return load_document(REPORT_PDF)


@pytest.fixture(scope="module")
def report_chunks(report_doc):
    return chunk_document(report_doc)


@pytest.fixture(scope="module")
def pdf_pages() -> list[str]:
    """Raw page texts straight from pypdf, independent of ingest.readers."""
    return [page.extract_text() or "" for page in pypdf.PdfReader(str(REPORT_PDF)).pages]


@pytest.fixture(scope="module")
def report_vocab(pdf_pages) -> Vocabulary:
    return Vocabulary(ln.strip() for p in pdf_pages for ln in normalise_chars(p).split("\n"))


# --- keep_hyphen: typographic line-break hyphenation is rejoined ------------------------------

REJOIN = [  # (end of a line, start of the next line, the word as a Dutch reader reads it)
    ("op zoek te gaan naar effectieve aan-", "pakken voor de begeleiding", "aanpakken"),
    (
        "dat als onafhankelijk onder-",
        "zoekspartner verbonden is aan het platform.",
        "onderzoekspartner",
    ),
    ("klassikale lessen, een coachingstra-", "ject en een werkervaringsplek.", "coachingstraject"),
    ("en nemen de verschillen in ar-", "beidsparticipatie tussen jongeren", "arbeidsparticipatie"),
    ("een niet-Westerse migratie-", "achtergrond aan de ene kant", "migratieachtergrond"),
    ("hun weg naar de arbeidsmarkt weer gevon-", "den na de financieel-economische", "gevonden"),
    ("zet in april 2020 in het Financi-", "eel Dagblad uiteen dat", "Financieel"),
    (
        "aan de groei van het platform onder plat-",
        "formmanagement van de Rebel Group.",
        "platformmanagement",
    ),
    (
        "in het platform geïnvesteerd in ondernemerschapsvaar-",
        "digheden van jongeren",
        "ondernemerschapsvaardigheden",
    ),
    (
        "komt naar voren dat het opdoen van loop-",
        "baancompetenties via loopbaanbegeleiding",
        "loopbaancompetenties",
    ),
    ("circulaire bedrijven in de alliantie Werkgevers-", "perspectief;", "Werkgeversperspectief"),
    (
        "het betrekken van ouders bij loopbaan-",
        "ontwikkeling (Kuijpers et al., 2018)",
        "loopbaanontwikkeling",
    ),
    ("met behoud van hun uitkering een werkerva-", "ringsplaats krijgen.", "werkervaringsplaats"),
    ("effectiever zijn als ze een coa-", "chingscomponent bevatten.", "coachingscomponent"),
    ("ondernemerschapsprogramma’s (Ro-", "sendahl Huber et al., 2012;", "(Rosendahl"),
    ("Platform management Re-", "bel Group ism Sandra Klok-", "Rebel"),
    ("gezien de bestaande wet- en regel-", "geving;", "regelgeving"),
    ("om de doelstellingen te bereiken (‘de be-", "doeling’).", "bedoeling"),
    ("voor het opdoen van werk-", "nemersvaardigheden. In het kader", "werknemersvaardigheden"),
]


@pytest.mark.parametrize(("left", "right", "word"), REJOIN, ids=[c[2] for c in REJOIN])
def test_keep_hyphen_rejoins_line_break_hyphenation(left, right, word, report_vocab, report_doc):
    assert keep_hyphen(left, right) is False
    assert keep_hyphen(left, right, report_vocab) is False
    assert normalise_chars(word) in report_doc.text  # and the pipeline really wrote it so


# --- keep_hyphen: real hyphens stay ----------------------------------------------------------

KEEP = [  # (end of a line, start of the next line, the hyphenated form)
    (
        "opgeleid op de lagere mbo-",
        "niveaus (entree-opleiding en mbo niveau 2)",
        "mbo-niveaus",
    ),  # split here
    ("studenten van de entree-opleiding en mbo-", "2 is het van belang", "mbo-2"),  # made up
    ("in verschillende regio’s, zoals Noord-", "Brabant, getest.", "Noord-Brabant"),  # made up
    (
        "vormgegeven door het samenwerkingsverband re-",
        "START en bestaat uit",
        "re-START",
    ),  # split here
    (
        "onder laagopgeleiden en jongeren met een niet-",
        "westerse migrantenachtergrond",
        "niet-westerse",
    ),
    ("In totaal hebben 131 MBO-", "studenten deelgenomen aan de beide pilots.", "MBO-studenten"),
    ("de samenwerking tussen MBO-", "instellingen, bedrijven en gemeenten.", "MBO-instellingen"),
    (
        "uit de relatief jonge groep vmbo-",
        "studenten, nu in het derde en vierde jaar.",
        "vmbo-studenten",
    ),
    ("toegang tot een netwerk van MKB-", "ondernemers en andere", "MKB-ondernemers"),
    ("brengen ons tot de volgende CMO-", "configuratie van het vraagstuk", "CMO-configuratie"),
    ("Allereerst is de werkloosheid onder 15 – 25-", "jarigen gemiddeld twee keer", "25-jarigen"),
    ("het aanbieden van lessen in 21e-", "eeuwse vaardigheden, die nodig zijn", "21e-eeuwse"),
    (
        "jeugdwerkloosheid, zoals oud-",
        "ambassadrice jeugdwerkloosheid Mirjam Sterk",
        "oud-ambassadrice",
    ),
    ("2016). Uit internationale meta-", "analyses van trainingsprogramma’s", "meta-analyses"),  # aa
    (
        "problemen met justitie vragen soms om politie-",
        "inzet in de wijk",
        "politie-inzet",
    ),  # made up
    (
        "o de mate waarin het aanleren van (werknemers-",
        ")vaardigheden en loopbaanontwikkeling",
        "(",
    ),
    ("De toegenomen diploma-", "eisen op de arbeidsmarkt", "diploma-eisen"),  # vowel clash a+e
    ("de groei van de auto-", "industrie in de regio", "auto-industrie"),  # made up: o+i
]


@pytest.mark.parametrize(("left", "right", "form"), KEEP)
def test_keep_hyphen_keeps_real_hyphens(left, right, form):
    assert keep_hyphen(left, right) is True


DOCUMENT_HYPHENS = [  # compounds the report itself writes with a hyphen elsewhere
    ("weer gevonden na de financieel-", "economische crisis van 2008."),
    ("kennisdeling via symposia, meet-", "ups en onderzoek."),
    ("DuBois et al. (2011) laten bijvoorbeeld in hun meta-", "review van 73 evaluaties"),
]


@pytest.mark.parametrize(("left", "right"), DOCUMENT_HYPHENS)
def test_keep_hyphen_follows_the_documents_own_hyphenated_spelling(left, right, report_vocab):
    assert keep_hyphen(left, right, report_vocab) is True


# --- suspended compounds ("wet- en regelgeving") ---------------------------------------------

SUSPENSIONS = [
    ("ook het zorg-", "en welzijnsbeleid van gemeenten"),  # made up
    ("4. Overheid, instituties (wet-", "en regelgeving) en ouders faciliteren"),  # split here
    ("gezien de bestaande wet-", "en regelgeving;"),  # split here
    (
        "De verschillende formats voor de aanvraag-",
        "en verantwoordingsprocedure worden",
    ),  # split here
    ("dat het aanvraag-", "en verantwoordingsproces als bureaucratisch"),  # split here
    ("jongeren met een flexibel-", "of tijdelijk contract."),  # split here
]


@pytest.mark.parametrize(("left", "right"), SUSPENSIONS)
def test_is_suspension_recognises_suspended_compounds(left, right):
    assert is_suspension(right) is True
    assert keep_hyphen(left, right) is True


@pytest.mark.parametrize(
    "right",
    [
        "pakken voor de begeleiding",
        "ject en een werkervaringsplek.",
        "ondernemers en andere",
        "2 is het van belang",
    ],
)
def test_is_suspension_rejects_ordinary_continuations(right):
    assert is_suspension(right) is False


# --- normalise_chars --------------------------------------------------------------------------

NORMALISE = [
    ("\uf0b7 Als werkzame mechanismen kunnen", "• Als werkzame mechanismen kunnen"),
    ("vanuit ‘de bedoeling’ - daar waar", "vanuit 'de bedoeling' - daar waar"),
    ("de werking van programma’s.", "de werking van programma's."),
    ("veelal “de waan van de dag” regeert", 'veelal "de waan van de dag" regeert'),  # made up
    ("gevreesde „projectencarrousel” waarbij", 'gevreesde "projectencarrousel" waarbij'),  # made up
    ("e\u0301", "é"),
    ("het cree\u0308ren van betere", "het creëren van betere"),
    ("listisch carrie\u0300replan", "listisch carrièreplan"),
    ("de afgelopen 2,5\u00a0jaar", "de afgelopen 2,5 jaar"),
    ("ondernemer\u00adschapsvaardigheden", "ondernemerschapsvaardigheden"),
    ("het wegnemen van \ufb01nanciële problemen", "het wegnemen van financiële problemen"),
    (
        "behoefte van coaches aan een \ufb02exibele inzet.",
        "behoefte van coaches aan een flexibele inzet.",
    ),
    (
        "zet zich hiervoor in. \r\n Over het Platform Jongeren en Werk  \r\n",
        "zet zich hiervoor in.\n Over het Platform Jongeren en Werk\n",
    ),
]


@pytest.mark.parametrize(("raw", "clean"), NORMALISE)
def test_normalise_chars_maps_pdf_characters(raw, clean):
    out = normalise_chars(raw)
    assert out == clean
    assert unicodedata.is_normalized("NFC", out)
    assert normalise_chars(out) == out  # idempotent


# --- strip_running_lines ----------------------------------------------------------------------

BODIES = [  # first lines of real report pages; several start with a number
    [
        "2016). Uit internationale meta-analyses van trainingsprogramma’s (Kluve, 2010; Card",
        "echter dat de inzet op training weinig effect sorteert onder jonge werklozen.",
    ],
    [
        "15 – 27 jaar, in het bijzonder jongeren die zich in achterstandsposities bevinden en die",
        "tuatie extra ondersteuning kunnen gebruiken, bijvoorbeeld jongeren met een arbeidsbeperking",
    ],
    [
        "bleek verder van belang om sterkere resultaten te kunnen bereiken.",
        "Ook in de alliantie Talentontwikkeling, dat in november 2019 van start is gegaan,",
    ],
    [
        "(2020) heeft de alliantie tot doel om een blauwdruk te ontwikkelen van de ecosystemen",
        "stappen en bijbehorende acties. Ook moet het netwerk met sponsoren uitgebreid worden",
    ],
]


def _page(number: int, body: list[str], number_at: str = "top") -> list[str]:
    if number_at == "top":
        return [HEADER, str(number), *body]
    return [HEADER, *body, str(number)]


@pytest.mark.parametrize("number_at", ["top", "bottom"])
def test_strip_running_lines_removes_header_and_page_numbers(number_at):
    pages = [_page(n, body, number_at) for n, body in zip([8, 3, 14, 12], BODIES, strict=True)]
    assert strip_running_lines(pages) == BODIES


def test_strip_running_lines_keeps_body_lines_with_numbers_at_the_edge():
    pages = [_page(n, body) for n, body in zip([8, 3, 14, 12], BODIES, strict=True)]
    kept = [ln for lines in strip_running_lines(pages) for ln in lines]
    assert BODIES[0][0] in kept  # "2016). Uit internationale ..."
    assert BODIES[1][0] in kept  # "15 – 27 jaar, ..."
    assert BODIES[3][0] in kept  # "(2020) heeft de alliantie ..."


# --- clean_pages end to end on pages built from report lines ---------------------------------

PAGE_6 = [  # bottom of PDF page 6
    "hiermee zijn de volgende rode draden te destilleren uit de opgedane ervaringen in de eerste 2,5 jaar van",
    "het platform, aangevuld met aanwijzingen uit de literatuur:",
    "\uf0b7 Interventies richten zich op het opdoen van vaardigheden gerelateerd aan arbeidsmarktkansen. In",
    "het eerste pilotjaar is hierbij de focus gelegd op ondernemerschap. Vanaf 2019 is gekozen voor een",
    "bredere insteek binnen het Platform Jongeren en Werk op loopbaancompetenties. Uit het eerste pi-",
    "lotjaar en op basis van theoretische inzichten blijkt dat de interventies effectiever zijn als ze een coa-",
]
PAGE_7 = [
    "chingscomponent bevatten.",
    " \uf0b7 Als werkzame mechanismen kunnen geïdentificeerd worden dat de interventies gericht op talentont-",
    "wikkeling inwerken op:",
    "o het vergroten van kennis over de arbeidsmarkt en meer inzicht in eigen wensen, mogelijkheden",
    "en kansen;",
    "o een toename van motivatie van jongeren voor vervolgopleidingen en werk;",
    "o minder keuzestress voor vervolgstappen.",
    "2.3 Vraagstuk 2: versterken van de positie van jongeren op de arbeidsmarkt",
    "Het platform heeft als tweede subdoelstelling geformuleerd:",
    "Initiatieven kunnen met meer kwaliteit, meer jongeren naar werk begeleiden en aan het werk",
    "houden, of tenminste helpen de positie van jongeren op de arbeidsmarkt te versterken.",
    "4. Overheid, instituties (wet-",  # split here, to see a suspension survive a line break
    "en regelgeving) en ouders faciliteren jongeren en werkgevers bij het realiseren van kansen op werk.",
]
PAGE_20 = [
    "3.3 Geleerde les 2: onderschat de betrokkenheid van relevante stakeholders niet",
    "Uit diverse praktijkprojecten uitgevoerd in de afgelopen 2,5 jaar van het platform Jongeren en Werk",
    "komt naar voren dat een goede samenwerking met diverse stakeholders cruciaal is voor het welslagen",
    "van de projecten. Onderwijsinstellingen zijn nodig om leerlingen de benodigde vaardigheden mee te",
    "kunnen geven en ze te leren om goede keuzes te maken voor de toekomst. Hoe het opdoen van vaardig-",
    "heden in te bedden in de brede leeromgeving en docenten hier goed in te betrekken is een belangrijke",
    "3 Geleerde lessen en de toekomst",
    " opgave van de praktijkprojecten van het platform. Ook ouders zijn van belang voor het versterken van",
    "de loopbaanontwikkeling van jongeren.",
]
HEADING_23 = "2.3 Vraagstuk 2: versterken van de positie van jongeren op de arbeidsmarkt"


@pytest.fixture(scope="module")
def cleaned():
    pages = ["\n".join(_page(n, body)) for n, body in [(6, PAGE_6), (7, PAGE_7), (20, PAGE_20)]]
    text, page_starts, blocks, sections = clean_pages(pages)
    return text, page_starts, [text[s:e] for s, e in blocks], sections


def test_clean_pages_rejoins_hyphenation_across_lines_and_pages(cleaned):
    text, page_starts, _, _ = cleaned
    assert "Uit het eerste pilotjaar en op basis van theoretische inzichten" in text
    assert "effectiever zijn als ze een coachingscomponent bevatten." in text  # page 6 -> 7
    assert text[page_starts[1] :].startswith("chingscomponent bevatten.")
    assert "gericht op talentontwikkeling inwerken op:" in text
    assert "betrekken is een belangrijke opgave" in text and "vaardigheden in te bedden" in text


def test_clean_pages_removes_running_header_and_page_numbers(cleaned):
    text, _, blocks, _ = cleaned
    assert "Regioplan" not in text and "reflectie oktober 2017" not in text
    assert not any(re.fullmatch(r"\d+", b) for b in blocks)
    assert text.startswith("hiermee zijn de volgende rode draden")


def test_clean_pages_heading_opens_a_section(cleaned):
    text, _, _, sections = cleaned
    (sec,) = [s for s in sections if HEADING_23 in s.path]
    assert text[sec.char_start : sec.char_end].startswith(HEADING_23)
    assert "Het platform heeft als tweede subdoelstelling" in text[sec.char_start : sec.char_end]


ITEMS = [  # each bullet, "o" sub-item and numbered item is exactly one block
    "• Interventies richten zich op het opdoen van vaardigheden gerelateerd aan arbeidsmarktkansen. "
    "In het eerste pilotjaar is hierbij de focus gelegd op ondernemerschap. Vanaf 2019 is gekozen "
    "voor een bredere insteek binnen het Platform Jongeren en Werk op loopbaancompetenties. Uit het "
    "eerste pilotjaar en op basis van theoretische inzichten blijkt dat de interventies effectiever "
    "zijn als ze een coachingscomponent bevatten.",
    "• Als werkzame mechanismen kunnen geïdentificeerd worden dat de interventies gericht op "
    "talentontwikkeling inwerken op:",
    "o het vergroten van kennis over de arbeidsmarkt en meer inzicht in eigen wensen, "
    "mogelijkheden en kansen;",
    "o een toename van motivatie van jongeren voor vervolgopleidingen en werk;",
    "o minder keuzestress voor vervolgstappen.",
    "4. Overheid, instituties (wet- en regelgeving) en ouders faciliteren jongeren en werkgevers "
    "bij het realiseren van kansen op werk.",
]


@pytest.mark.parametrize("item", ITEMS, ids=[i[:24] for i in ITEMS])
def test_clean_pages_keeps_list_items_whole(cleaned, item):
    _, _, blocks, _ = cleaned
    assert item in blocks
    assert "\uf0b7" not in "".join(blocks)


def test_clean_pages_chapter_title_does_not_break_the_sentence(cleaned):
    text, _, _, sections = cleaned
    assert "is een belangrijke opgave van de praktijkprojecten van het platform." in text
    assert "3 Geleerde lessen en de toekomst" not in text
    assert any(s.path[:1] == ("3 Geleerde lessen en de toekomst",) for s in sections)


def test_clean_pages_rejoins_soft_hyphen_at_line_end():
    page_4 = [  # the real lines, with the line-break hyphen written as a soft hyphen
        "bijdragen aan het ontwikkelen van interesses in ondernemerschap als toekomstperspectief, bijdragen",
        "aan het ontwikkelen van zelfvertrouwen en jongeren praktisch laten kennismaken met ondernemer\u00ad",
        "schap. Met als te verwachten uitkomst dat jongeren meer kennis krijgen van ondernemerschap, een",
    ]
    pages = [page_4, BODIES[0], BODIES[2]]
    text, *_ = clean_pages(["\n".join(_page(n, b)) for n, b in zip([4, 5, 6], pages, strict=True)])
    assert "laten kennismaken met ondernemerschap. Met als" in text


# --- the real report, end to end --------------------------------------------------------------

SENTENCES = [
    "op zoek te gaan naar effectieve aanpakken voor de begeleiding en activering van werkloze "
    "jongeren tot 29 jaar.",
    "Dit verslag is opgesteld door Regioplan, dat als onafhankelijk onderzoekspartner verbonden is "
    "aan het platform.",
    "Allereerst is de werkloosheid onder 15 – 25-jarigen gemiddeld twee keer zo hoog",
    "de verschillen in arbeidsparticipatie tussen jongeren zonder startkwalificatie en jongeren met "
    "een niet-Westerse migratieachtergrond",
    "jongeren met een flexibel- of tijdelijk contract.",
    "een coachingstraject en een werkervaringsplek.",
    "blijkt dat de interventies effectiever zijn als ze een coachingscomponent bevatten.",
    "In totaal hebben 131 MBO-studenten deelgenomen aan de beide pilots.",
    "het samenwerkingsverband re-START en bestaat uit Cirkellab B.V. en Stichting Aeccretio.",
    "Hoe het opdoen van vaardigheden in te bedden in de brede leeromgeving en docenten hier goed in "
    "te betrekken is een belangrijke opgave van de praktijkprojecten van het platform.",
    "waarbij niet op details wordt gestuurd, maar op wat nodig is om de doelstellingen te bereiken "
    "('de bedoeling').",
]


@pytest.mark.parametrize("sentence", SENTENCES, ids=[s[:30] for s in SENTENCES])
def test_load_document_contains_dehyphenated_sentence(report_doc, sentence):
    assert sentence in report_doc.text


def test_load_document_drops_header_and_symbol_bullets(report_doc):
    text = report_doc.text
    assert "reflectie oktober 2017 – juni 2020" not in text
    assert "Regioplan  |" not in text
    assert "\uf0b7" not in text and "‘" not in text and "’" not in text
    assert unicodedata.is_normalized("NFC", text)
    assert text.count("•") >= 10


def test_load_document_leaves_no_line_break_hyphen_inside_a_word(report_doc):
    # "aan- pakken" would be a missed rejoin; only suspensions (and the report's own
    # "leer- werkplekken") may show a hyphen followed by a space.
    for left, right in re.findall(r"(\w+)- (\w+)", report_doc.text):
        assert right in {"en", "of"} or (left, right) == ("leer", "werkplekken"), (left, right)


def test_load_document_sections_follow_numbered_headings(report_doc):
    paths = [s.path for s in report_doc.sections]
    assert any("2.4 Vraagstuk 3: committeren van werkgevers" in p for p in paths)
    assert any(HEADING_23 in p for p in paths)
    spans = [(s.char_start, s.char_end) for s in report_doc.sections]
    assert spans[0][0] == 0 and spans[-1][1] == len(report_doc.text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, no overlap


@pytest.mark.parametrize(
    ("before", "subheading"),
    [
        (
            "Het Platform Jongeren en Werk zet zich hiervoor in.",
            "Over het Platform Jongeren en Werk",
        ),
        (
            "om de duurzaamheid van werk te vergroten.",
            "Tweede projectjaar: faciliteren van werkgevers",
        ),
    ],
)
def test_load_document_keeps_subheading_out_of_the_sentence(report_doc, before, subheading):
    assert f"{before} {subheading}" not in report_doc.text


def test_chunks_are_exact_slices_within_one_section(report_doc, report_chunks):
    assert report_chunks
    for c in report_chunks:
        assert report_doc.text[c.char_start : c.char_end] == c.text
        assert 1 <= c.page_start <= c.page_end <= report_doc.page_count
        assert any(
            s.char_start <= c.char_start and c.char_end <= s.char_end and s.path == c.section
            for s in report_doc.sections
        ), c.chunk_id


def _pypdf_page_of(phrase: str, pages: list[str]) -> int:
    """The 1-based PDF page whose pypdf text holds ``phrase`` (line-break hyphens undone)."""
    hits = []
    for number, raw in enumerate(pages, start=1):
        flat = re.sub(r"\s+", " ", re.sub(r"(?<=\w)-\n", "", normalise_chars(raw)))
        if phrase in flat:
            hits.append(number)
    assert len(hits) == 1, (phrase, hits)
    return hits[0]


@pytest.mark.parametrize(
    ("phrase", "page"),
    [
        ("dat als onafhankelijk onderzoekspartner verbonden is", 1),
        ("een coachingstraject en een werkervaringsplek", 5),
        ("In totaal hebben 131 MBO-studenten deelgenomen", 9),
        ("2.4 Vraagstuk 3: committeren van werkgevers", 10),
        ("Hypothese 5: Langdurige persoonlijke coaching en nazorg", 20),
    ],
)
def test_sentence_is_on_its_pdf_page(report_doc, report_chunks, pdf_pages, phrase, page):
    assert _pypdf_page_of(phrase, pdf_pages) == page
    start = report_doc.text.index(phrase)
    assert report_doc.page_at(start) == page
    holding = [c for c in report_chunks if c.char_start <= start < c.char_end]
    assert holding and all(c.page_start <= page <= c.page_end for c in holding)


def test_word_broken_across_pages_starts_on_first_page(report_doc, pdf_pages):
    assert pdf_pages[5].rstrip().endswith("een coa-")
    assert "\nchingscomponent bevatten." in pdf_pages[6]
    start = report_doc.text.index("coachingscomponent bevatten.")
    assert report_doc.page_at(start) == 6
    assert report_doc.page_at(start + len("coa")) == 7


def test_labelled_statement_opens_its_own_paragraph(report_doc):
    """ "Hypothese 5: ..." after a full last line still starts a paragraph of its own."""
    for n in range(1, 9):
        start = report_doc.text.index(f"Hypothese {n}:")
        assert report_doc.text[start - 2 : start] == "\n\n", n
