"""Extra material for re-typeset variants: an appendix dense in real hyphens, and tables.

The bundled report holds only ~40 hyphenated words, too few to measure whether the clean-up
keeps real hyphens at a line end. The appendix is generated from templates (seeded, so a
variant is reproducible) over the kinds of real hyphen a Dutch report writes: after an acronym
(``MBO-studenten``, ``mbo-opleiding``), before a capital (``Noord-Holland``, ``re-START``), with
digits (``2019-2020``, ``18-jarigen``), in a compound with a proper name (``Sparta-spelers``),
between two words that stand alone (``sociaal-economische``, ``mentor-mentee``), after a
prefix (``oud-deelnemers``, ``e-mail``) and where two vowels meet (``media-aandacht``).
Its sentences are plain made-up report prose, marked as such in the appendix title.
"""

from __future__ import annotations

import random

# (category, word) pairs; the word is written as-is into the text.
REAL_HYPHEN_WORDS: dict[str, tuple[str, ...]] = {
    "acronym": (
        "MBO-studenten",
        "VMBO-leerlingen",
        "HBO-opleiding",
        "UWV-consulenten",
        "ROC-docenten",
        "MKB-bedrijven",
        "ICT-sector",
        "CBS-cijfers",
        "GGD-regio",
        "NEET-jongeren",
        "HR-afdeling",
        "mbo-opleiding",
        "hbo-studenten",
        "vmbo-scholen",
        "uwv-vestiging",
        "cao-afspraken",
    ),
    "capital": (
        "Noord-Holland",
        "Zuid-Holland",
        "Noord-Brabant",
        "Midden-Nederland",
        "Rotterdam-Zuid",
        "Oost-Nederland",
        "re-START",
        "Zuid-Limburg",
        "niet-Westerse",
        "Nederlands-Turkse",
    ),
    "digit": (
        "2019-2020",
        "2017-2018",
        "18-jarigen",
        "15-27-jarigen",
        "23-jarige",
        "3-jarig",
        "2e-jaars",
        "21e-eeuwse",
        "4-daagse",
        "16-uurs",
    ),
    "proper-name": (
        "Sparta-spelers",
        "Buzinezzclub-traject",
        "Goldschmeding-programma",
        "Regioplan-onderzoek",
        "Nijmegen-route",
        "Rebel-team",
        "Rotterdam-aanpak",
        "Kuijpers-model",
    ),
    "two-words": (
        "sociaal-economische",
        "financieel-economische",
        "sociaal-emotionele",
        "mentor-mentee",
        "zwart-witte",
        "werk-privébalans",
        "christelijk-sociale",
    ),
    "prefix": (
        "oud-deelnemers",
        "ex-gedetineerden",
        "niet-werkenden",
        "e-mail",
        "e-learning",
        "follow-up",
        "start-ups",
        "non-profit",
        "ex-partner",
        "oud-ambassadeur",
    ),
    "vowels": (
        "media-aandacht",
        "thema-avond",
        "politie-inzet",
        "auto-industrie",
        "zee-egels",
        "privacy-instellingen",
        "diploma-eisen",
    ),
}
# The proper names also occur alone in the appendix, as a report would name them.
PROPER_NAMES = ("Sparta", "Buzinezzclub", "Goldschmeding", "Regioplan", "Nijmegen", "Rebel")

_OPENERS = (
    "In de tweede fase",
    "Volgens de betrokkenen",
    "Uit de gesprekken blijkt dat",
    "Opvallend is dat",
    "In de praktijk",
    "Daarnaast",
    "Tegelijk",
    "Ook",
)
_VERBS = (
    "spelen een grote rol bij",
    "vragen extra aandacht voor",
    "dragen bij aan",
    "hangen samen met",
    "maken deel uit van",
    "zijn van belang voor",
)
_OBJECTS = (
    "de begeleiding van jongeren naar werk",
    "de samenwerking tussen onderwijs en werkgevers",
    "het vinden van een passende werkplek",
    "de aansluiting op de arbeidsmarkt",
    "het bereik van de allianties",
    "de duurzaamheid van de plaatsingen",
    "de motivatie van deelnemers",
)


def hyphen_appendix(seed: int, paragraphs: int = 8) -> list[str]:
    """Paragraphs of made-up report prose, each with several real hyphenated words."""
    rng = random.Random(seed)
    words = [w for group in REAL_HYPHEN_WORDS.values() for w in group]
    out: list[str] = []
    for _ in range(paragraphs):
        sentences = []
        for _ in range(rng.randint(4, 6)):
            a, b = rng.sample(words, 2)
            name = rng.choice(PROPER_NAMES)
            sentences.append(
                f"{rng.choice(_OPENERS)} {rng.choice(_VERBS)} {a} en {b} "
                f"{rng.choice(_OBJECTS)}, zo meldt {name}."
            )
        out.append(" ".join(sentences))
    return out


_ALLIANCES = (
    "Aandacht",
    "Dromen",
    "Kansen",
    "Vaardigheden",
    "Verbinden",
    "MBO & Arbeidsmarkt",
    "Werkgeversperspectief",
)


def tables(seed: int) -> list[tuple[str, list[list[str]]]]:
    """A few (caption, rows) tables; the first row is the header row."""
    rng = random.Random(seed)
    regions = REAL_HYPHEN_WORDS["capital"][:6]
    groups = ("MBO-studenten", "VMBO-leerlingen", "NEET-jongeren", "18-27-jarigen", "Statushouders")
    periods = ("2017-2018", "2018-2019", "2019-2020")
    first = [["Nr.", "Alliantie", "Doelgroep", "Regio", "Periode", "Deelnemers"]]
    for i, name in enumerate(rng.sample(_ALLIANCES, 5), start=1):
        first.append(
            [
                str(i),
                name,
                rng.choice(groups),
                rng.choice(regions),
                rng.choice(periods),
                str(rng.randint(12, 240)),
            ]
        )
    second = [["Kenmerk", "Aantal", "Aandeel"]]
    for label in ("Jongeren zonder startkwalificatie", "Met migratieachtergrond", "Ouder dan 23"):
        n = rng.randint(20, 400)
        second.append([label, str(n), f"{rng.randint(5, 60)}%"])
    third = [["Activiteit", "Organisatie", "Start", "Status"]]
    for act in ("Werkervaringsplaatsen", "Ondernemerschapslessen", "Loopbaancoaching"):
        org = rng.choice(("Rebel Group", "Regioplan", "Buzinezzclub", "KBA Nijmegen"))
        third.append([act, org, rng.choice(periods), rng.choice(("Lopend", "Afgerond"))])
    return [
        ("Deelnemers per alliantie", first),
        ("Kenmerken van de deelnemers", second),
        ("Activiteiten en organisaties", third),
    ]
