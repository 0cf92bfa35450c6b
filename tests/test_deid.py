"""De-identification beyond deduce: names of every origin, context, one identity, public terms,
the replacement report, the coder's names, and the benchmark floors (issue 10)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from coding import deid_eval, gazetteers
from coding.errors import CodingError
from coding.pipeline import ProjectPseudonymiser, load_coder_names, save_coder_names
from coding.pseudonymise import pseudonymise, warm_up

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "benchmarks" / "data" / "deid"
# benchmarks/deid.py on the dev transcripts: recall 0.998-1.000, over-replacement 0.000
# (deduce alone: 0.685 and 0.016). A change that drops below these floors fails the build.
RECALL_FLOOR, OVER_CEILING = 0.99, 0.02


@pytest.fixture(scope="module")
def deduce_ready() -> None:
    warm_up()


def _spans(text: str) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in pseudonymise(text)[1]]


def test_dev_benchmark_keeps_its_figures(deduce_ready: None) -> None:
    items = deid_eval.load(DEV)
    assert sum(len(i.identifiers) for i in items) >= 250 and len(items) == 3
    score = deid_eval.score(items, _spans)
    assert score.recall >= RECALL_FLOOR, score.missed
    assert score.over_rate <= OVER_CEILING, score.over_terms
    assert score.public_total >= 60


def test_scorer_counts_a_partly_replaced_name_as_a_leak() -> None:
    occ = deid_eval.Occurrence("Ayoub El Khattabi", "person", 0, 17)
    text = "Ayoub El Khattabi is er."
    assert deid_eval._leaks(occ, text, [(9, 17)])  # "Ayoub" survives
    assert not deid_eval._leaks(occ, text, [(0, 5), (9, 17)])  # "El" is a particle


def test_gazetteers_fold_diacritics_and_know_neighbourhoods() -> None:
    gaz = gazetteers.load()
    for name in ("Yılmaz", "Yilmaz", "Ayşe", "Öztürk", "Wójcik", "Tesfay", "Warsame", "Jagessar"):
        assert gaz.is_name(name), name
    words = ["Bos", "en", "Lommer"]
    assert gaz.place_at(words, 0) == 3
    assert gaz.place_at(["Schilderswijk"], 0) == 1
    assert "Witvliet" in gaz.public_terms, "report authors come from corpus/catalog.yaml"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ik ging met Semhar naar school.", "Semhar"),  # list (Eritrean)
        ("Toen zei ik tegen Dawitt dat het klaar was.", "Dawitt"),  # person cue, not in a list
        ("Hij heet shurandy, echt waar.", "shurandy"),  # lower case after 'heet'
        ("Bilal zei dat het goed ging.", "Bilal"),  # subject of a verb of saying
        ("Xandru, kom je ook?", "Xandru"),  # addressed
        ("Mijn broer Kenrick werkt bij de haven.", "Kenrick"),  # kinship cue
        ("We zaten in de Kolenkitbuurt.", "Kolenkitbuurt"),  # neighbourhood
        ("Ze komt uit Asmara, ze is nu hier.", "Asmara"),  # foreign home town
        ("Postcode 3071 VK klopt.", "3071 VK"),
        ("Bel 06 1234 5678 of +31 6 12345678.", "+31 6 12345678"),
        ("Mijn BSN is 111222333.", "111222333"),
    ],
)
def test_names_without_a_dutch_list_entry_are_found(
    deduce_ready: None, text: str, name: str
) -> None:
    output = pseudonymise(text)[0]
    assert not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", output), output


def test_one_identity_on_every_surface(deduce_ready: None) -> None:
    text = (
        "Noor Haddou is mijn coach. Noor belde gisteren. noor is echt lief. "
        "Haddou's kantoor is klein. Later zei Noor dat het goed was."
    )
    output, replacements, _ = pseudonymise(text)
    placeholders = {r.placeholder for r in replacements}
    assert len(placeholders) == 1, replacements
    assert "Noor" not in output and "noor" not in output and "Haddou" not in output
    assert f"{placeholders.pop()}'s kantoor" in output


def test_diacritic_and_ascii_spelling_are_one_person(deduce_ready: None) -> None:
    _, replacements, _ = pseudonymise("Ayşe Yılmaz kwam. Daarna kwam Ayse Yilmaz weer.")
    assert len({r.placeholder for r in replacements}) == 1


def test_public_vocabulary_survives(deduce_ready: None) -> None:
    text = (
        "Via de alliantie MBO & Arbeidsmarkt en de alliantie Kansen, onderdeel van Platform "
        "Jongeren en Werk, kwam ik bij het UWV en de gemeente. Witvliet schreef erover. "
        "Mijn ouders komen uit Marokko en we spreken Tarifit."
    )
    output = pseudonymise(text)[0]
    for kept in ("MBO & Arbeidsmarkt", "Kansen", "Platform Jongeren en Werk", "UWV", "Witvliet",
                 "Marokko", "Tarifit"):  # fmt: skip
        assert kept in output, (kept, output)


def test_employer_named_after_a_person_stays_an_organisation(deduce_ready: None) -> None:
    text = "Ik loop stage bij Hoveniersbedrijf Verbeek. Mijn oom werkt bij Yilmaz Bouw."
    output, replacements, _ = pseudonymise(text)
    assert {r.kind for r in replacements} == {"ORGANISATIE"}, replacements
    assert "Verbeek" not in output and "Yilmaz" not in output


def test_a_street_is_a_place_not_a_person(deduce_ready: None) -> None:
    output, replacements, _ = pseudonymise("We wonen op de Witte de Withstraat 12, driehoog.")
    assert [r.kind for r in replacements] == ["PLAATS"]
    assert output == f"We wonen op de {replacements[0].placeholder}, driehoog."


def test_replacements_carry_kind_evidence_and_confidence(deduce_ready: None) -> None:
    text = "Ik sprak met Qorvath over Nador. Mail: q.x@voorbeeld.nl"
    _, replacements, _ = pseudonymise(text)
    found = {r.original: r for r in replacements}
    assert found["Nador"].evidence == "list" and not found["Nador"].uncertain
    assert found["q.x@voorbeeld.nl"].evidence == "pattern"
    assert found["Qorvath"].evidence == "context"
    for r in replacements:
        assert r.kind in r.placeholder and 0 < r.confidence <= 1


def test_coder_names_are_added_everywhere_and_undone(tmp_path: Path, deduce_ready: None) -> None:
    projects = tmp_path / "projects"
    first = ProjectPseudonymiser(projects / "a" / "pseudonyms.json")
    second = ProjectPseudonymiser(projects / "b" / "pseudonyms.json")
    text = "Bolle kwam ook, en de Zorgbalie hielp. Ik sprak met Semhar."
    assert "Semhar" not in first(text), "before the coder's correction"
    save_coder_names(projects, {"add": ["Bolle"], "keep": ["Semhar"]})
    assert load_coder_names(projects) == {"add": ["Bolle"], "keep": ["Semhar"]}
    for pseudonymiser in (first, second):  # added once: added in every transcript
        output = pseudonymiser(text)
        assert "Bolle" not in output and "Semhar" in output
        report = json.dumps(pseudonymiser.report)
        assert "Bolle" not in report, "the report never holds the original text"
        for r in pseudonymiser.report:
            assert output[int(r["start"]) : int(r["end"])] == r["placeholder"]  # type: ignore[call-overload]


def test_a_bad_word_list_entry_is_not_repeated_in_the_error(deduce_ready: None) -> None:
    with pytest.raises(CodingError) as info:
        pseudonymise("Hallo.", word_list=["Fatima El Amrani=BIJNAAM"])
    assert "Fatima" not in str(info.value) and "entry 1" in str(info.value)


def test_a_name_added_later_is_replaced_in_stored_text_and_later_runs(
    tmp_path: Path, deduce_ready: None
) -> None:
    import sqlite3

    from coding.redact import add_name, keep_word

    folder = tmp_path / "projects" / "abc"
    said = "R: Goed, beer en Kwabs zijn er ook. Beer's moeder ook.\n"
    stored = ProjectPseudonymiser(folder / "pseudonyms.json")("Interviewer: Hoe gaat het?\n" + said)
    assert "beer" in stored, "a nickname that is an everyday word: missed, the coder adds it"
    db = folder / "review.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE segments (id INTEGER PRIMARY KEY, text TEXT, n INTEGER)")
        con.execute("INSERT INTO segments (text, n) VALUES (?, 3)", (stored,))
    con.close()
    assert add_name(tmp_path, "beer") == 1
    with sqlite3.connect(db) as con:
        (text,) = con.execute("SELECT text FROM segments").fetchone()
    con.close()
    assert "beer" not in text.lower() and "'s moeder" in text
    again = ProjectPseudonymiser(folder / "pseudonyms.json")(said)
    assert again.split("Goed, ")[1] == text.split("Goed, ")[1], "same placeholder later"
    other = ProjectPseudonymiser(tmp_path / "projects" / "xyz" / "pseudonyms.json")(said)
    assert "beer" not in other.lower(), "added once, added in every transcript"
    keep_word(tmp_path, "Kwabs")
    assert "Kwabs" in ProjectPseudonymiser(folder / "pseudonyms.json")("Ik zag Kwabs.")
