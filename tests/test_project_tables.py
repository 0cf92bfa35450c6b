"""Tables and a plot for the report (coding/project_tables.py), suggestions for a foreign
codebook's codes (coding/foreign.py), and the CLI around them (`project import`, `project export
--tables`)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from coding.codebook import Code, Codebook
from coding.foreign import add_foreign_suggestions, foreign_codes, scores
from coding.models import CodedSegment, CodedTranscript, Segment, Transcript
from coding.project import create_project, open_project
from coding.project_tables import cooccurrence_rows, frequency_rows, render, write_tables
from ui.cli import main

BOOK = Codebook(
    name="eigen",
    codes=[
        Code(id="T-groep", name="Groep", dimension="theme", codable=False),
        Code(id="T-werk", name="werk en baan", dimension="theme", parent="T-groep"),
        Code(id="T-familie", name="familie", dimension="theme", definition="moeder vader thuis"),
        Code(id="T-school", name="school", dimension="theme"),
    ],
)
TEXTS = {
    "g1": ["Ik vond een baan.", "Mijn moeder hielp.", "School was saai."],
    "g2": ["Werk is fijn.", "Thuis was het rustig."],
}


@pytest.fixture
def store(watwerkt_home):
    with create_project(watwerkt_home, "rapport", BOOK) as st:
        for name, parts in TEXTS.items():
            text = "\n".join(parts) + "\n"
            segs, pos = [], 0
            for i, part in enumerate(parts, 1):
                segs.append(Segment(f"seg-{i:04d}", "R", pos, pos + len(part), part, i))
                pos += len(part) + 1
            st.add_transcript(Transcript(name, text, ()), segs)
        ids = {(st.transcripts()[s.transcript_id - 1].name, s.key): s.id for s in st.segments()}
        st.set_coding(ids[("g1", "seg-0001")], "anna", ["T-werk"], "added")
        st.set_coding(ids[("g1", "seg-0001")], "bert", ["T-werk", "T-familie"], "added")
        st.set_coding(ids[("g1", "seg-0002")], "anna", ["T-familie"], "added")
        st.set_coding(ids[("g1", "seg-0003")], "anna", ["T-school"], "rejected")  # not kept
        st.set_coding(ids[("g2", "seg-0001")], "bert", ["T-werk"], "accepted")
        yield st


def test_frequency_table_counts_segments_per_code_and_transcript(store):
    header, rows = frequency_rows(store)
    assert header == ["code", "naam", "g1", "g2", "totaal"]
    # T-werk: g1 seg 1 (two coders, counted once), g2 seg 1; the rejection does not count
    assert rows == [["T-werk", "werk en baan", 1, 1, 2], ["T-familie", "familie", 2, 0, 2]]
    assert frequency_rows(store, coders=["anna"])[1] == [
        ["T-werk", "werk en baan", 1, 0, 1],
        ["T-familie", "familie", 1, 0, 1],
    ]


def test_cooccurrence_counts_segments_with_both_codes(store):
    header, rows = cooccurrence_rows(store)
    assert header == ["code", "T-werk", "T-familie"]
    assert rows == [["T-werk", 2, 1], ["T-familie", 1, 2]]


def test_tables_are_csv_and_markdown_and_the_plot_a_png(store, tmp_path):
    result = write_tables(store, tmp_path / "tabellen")
    names = sorted(Path(p).name for p in result["written"])  # type: ignore[union-attr]
    if "plot" in result:  # matplotlib missing: said, not hidden
        assert "matplotlib" in str(result["plot"])
    else:
        assert "code_frequencies.png" in names
        png = (tmp_path / "tabellen" / "code_frequencies.png").read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    assert {"codings_per_transcript.csv", "codings_per_transcript.md"} <= set(names)
    rows = list(csv.reader(io.StringIO((tmp_path / "tabellen" / "cooccurrence.csv").read_text())))
    assert rows[0] == ["code", "T-werk", "T-familie"] and rows[1] == ["T-werk", "2", "1"]
    md = (tmp_path / "tabellen" / "codings_per_transcript.md").read_text().splitlines()
    assert md[0] == "| code | naam | g1 | g2 | totaal |"
    assert md[1] == "|---|---:|---:|---:|---:|"
    assert render(["a|b"], [["x|y"]], "md").splitlines()[2] == "| x\\|y |"


# -- suggestions for a foreign codebook ----------------------------------------------------------
class WordEmbedder:
    """Bag of words hashed into 4096 dimensions: texts sharing words are similar."""

    name = "words"
    dim = 4096

    def embed_query(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out

    embed_passages = embed_query


def _coded(parts: list[str]) -> CodedTranscript:
    text = "\n".join(parts) + "\n"
    segs, pos = [], 0
    for i, part in enumerate(parts):
        segs.append(CodedSegment(Segment(f"s{i}", "R", pos, pos + len(part), part, i), None))
        pos += len(part) + 1
    return CodedTranscript(Transcript("t", text, ()), tuple(segs), "m")


PARTS = [
    "Ik zocht lang naar werk en vond een baan.",
    "Mijn moeder en vader steunden me thuis.",
    "Het weer was wisselend.",
    "We aten pannenkoeken.",
    "Ik fietste naar de stad.",
    "De bus was te laat.",
]


def test_foreign_codes_are_suggested_by_their_names_and_descriptions():
    assert [c.id for c in foreign_codes(BOOK)] == ["T-werk", "T-familie", "T-school"]
    coded = add_foreign_suggestions(_coded(PARTS), BOOK, WordEmbedder())
    got = {cs.segment.id: [t.code for t in cs.themes] for cs in coded.segments}
    assert got["s0"] == ["T-werk"] and got["s1"] == ["T-familie"]
    assert all(not got[f"s{i}"] for i in (2, 3, 4, 5))
    assert all(t.score >= 0.5 and t.evidence for cs in coded.segments for t in cs.themes)


def test_the_coders_own_codings_teach_a_code_its_words():
    parts = [*PARTS[:5], "Op het mbo leerde ik lassen."]
    plain = add_foreign_suggestions(_coded(parts), BOOK, WordEmbedder())
    assert "T-school" not in [t.code for t in plain.segments[5].themes]
    taught = add_foreign_suggestions(
        _coded(parts), BOOK, WordEmbedder(), examples={"T-school": ["Het mbo was zwaar."]}
    )
    assert "T-school" in [t.code for t in taught.segments[5].themes]


def test_too_few_segments_have_no_spread_to_stand_out_from():
    assert not scores(np.ones((2, 3))).any()
    coded = add_foreign_suggestions(_coded(PARTS[:2]), BOOK, WordEmbedder())
    assert all(not cs.themes for cs in coded.segments)


# -- CLI -----------------------------------------------------------------------------------------
def _cli(argv: list[str]) -> dict:
    old = sys.stdout
    sys.stdout = io.StringIO()
    try:
        code = main([*argv, "--json", "-q"])
        out = sys.stdout.getvalue()
    finally:
        sys.stdout = old
    assert code == 0, out
    return json.loads(out)


def test_cli_imports_a_qdpx_and_exports_it_with_tables(store, tmp_path, watwerkt_home):
    out = tmp_path / "rapport.qdpx"
    written = _cli(["project", "export", "rapport", str(out), "--tables", str(tmp_path / "tab")])
    assert str(out) in written["written"]
    assert any(p.endswith("cooccurrence.md") for p in written["written"])
    report = _cli(["project", "import", str(out), "--project", "kopie"])
    assert (report["transcripts"], report["codings"], report["coders"]) == (2, 5, ["anna", "bert"])
    with open_project(watwerkt_home, "kopie") as copy:
        assert frequency_rows(copy) == frequency_rows(store)
    again = _cli(["project", "export", "kopie", "--tables", str(tmp_path / "tab2")])
    assert all("tab2" in p for p in again["written"])


def test_a_project_with_a_foreign_codebook_gets_suggestions_from_the_coders_codings(tmp_path):
    from coding.foreign import suggest_foreign_stored
    from coding.project_export import write_project_qdpx
    from coding.refi import validate

    parts = [*PARTS[:5], "Op het mbo leerde ik lassen.", "Het mbo was zwaar."]
    with create_project(tmp_path / "home", "vreemd", BOOK) as st:
        coded = _coded(parts)
        stored = st.add_transcript(coded.transcript, [cs.segment for cs in coded.segments])
        cimo = CodedTranscript(
            coded.transcript,
            tuple(CodedSegment(cs.segment, "I", {"I": 0.9}) for cs in coded.segments),
            "cimo-test",
        )
        st.add_suggestions(stored.id, cimo)
        last = st.segments(stored.id)[-1]
        st.set_coding(last.id, "anna", ["T-school"], "added")
        assert suggest_foreign_stored(st, stored, WordEmbedder()) >= 2
        sugs = st.suggestions(transcript_id=stored.id)
        by_text = {s.text: sugs[s.id] for s in st.segments(stored.id)}
        assert "T-school" in dict(by_text["Op het mbo leerde ik lassen."].themes)
        assert "T-werk" in dict(by_text[PARTS[0]].themes)
        # the assistant's "I" has no code in this codebook: left out, the export still works
        out = write_project_qdpx(st, tmp_path / "vreemd.qdpx")
    import zipfile

    qde = zipfile.ZipFile(out).read("project.qde")
    assert validate(qde, "Project.xsd") == [] and qde.count(b"<Coding ") >= 3
