"""CMO configurations as objects of a project: created, edited and listed through the CLI,
exported into the .qdpx as REFI-QDA Notes, Links and Sets, and as a configuration x transcript
table."""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from coding.refi import PROJECT_NS, validate
from ui.cli import main

TEXT = (
    "Interviewer: Hoe ging het?\n"
    "R: Thuis was het lastig. Mijn coach belde elke week. Daardoor kreeg ik weer vertrouwen.\n"
    "Interviewer: En nu?\n"
    "R: Nu werk ik vier dagen bij een garage.\n"
)


def _run(argv: list[str]) -> tuple[int, str, str]:
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        code = main([*argv, "-q"])
        return code, sys.stdout.getvalue(), sys.stderr.getvalue()
    finally:
        sys.stdout, sys.stderr = old_out, old_err


def _json(argv: list[str]) -> dict:
    code, out, err = _run([*argv, "--json"])
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def project(tmp_path: Path) -> str:
    files = []
    for name in ("gesprek1.txt", "gesprek2.txt"):
        f = tmp_path / name
        f.write_text(TEXT, encoding="utf-8")
        files.append(str(f))
    _json(["project", "new", "studie"])
    _json(["project", "add", "studie", *files, "--keep-names", "--no-suggest"])
    return "studie"


def test_a_configuration_is_created_edited_and_listed(project: str):
    made = _json(
        [
            "cmo",
            "new",
            project,
            "vaste-coach",
            "--coder",
            "anna",
            "--statement",
            "Een vaste coach geeft vertrouwen, waardoor jongeren werk vinden",
            "--verdict",
            "supports",
            "--theory",
            "PT1",
            "--segment",
            "gesprek1.txt:seg-0002=I",
            "--segment",
            "gesprek1.txt:seg-0003=M",
            "--segment",
            "gesprek2.txt:seg-0004=O",
            "--link",
            "regioplan-2020|4.2 Werkzame mechanismen|17|Een vaste coach",
        ]
    )
    assert made["transcripts"] == ["gesprek1.txt", "gesprek2.txt"]
    assert [s["role"] for s in made["segments"]] == ["I", "M", "O"]
    assert made["links"] == [
        {
            "report": "regioplan-2020",
            "section": "4.2 Werkzame mechanismen",
            "page": 17,
            "quote": "Een vaste coach",
        }
    ]
    edited = _json(
        [
            "cmo",
            "edit",
            project,
            "vaste-coach",
            "--verdict",
            "refines",
            "--segment",
            "gesprek1.txt:seg-0001=C",
            "--remove",
            "gesprek2.txt:seg-0004",
        ]
    )
    assert edited["verdict"] == "refines" and edited["statement"] == made["statement"]
    assert [(s["transcript"], s["role"]) for s in edited["segments"]] == [
        ("gesprek1.txt", "C"),
        ("gesprek1.txt", "I"),
        ("gesprek1.txt", "M"),
    ]
    listed = _json(["cmo", "list", project, "--table", "csv"])
    assert [c["name"] for c in listed["configurations"]] == ["vaste-coach"]
    rows = list(csv.reader(io.StringIO(listed["table"])))
    assert rows[0][3:5] == ["gesprek1.txt", "gesprek2.txt"]
    assert rows[1][3:5] == ["C I M", ""]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--segment", "gesprek1.txt:seg-0002=X"], "ROLE one of"),
        (["--segment", "gesprek9.txt:seg-0002=I"], "no transcript"),
        (["--segment", "gesprek1.txt:seg-0099=I"], "has no segment"),
        (["--link", "regioplan-2020|4.2|zeventien"], "page is a number"),
    ],
)
def test_a_wrong_segment_or_link_is_one_clear_line(project: str, extra: list[str], message: str):
    code, out, err = _run(
        ["cmo", "new", project, "c1", "--coder", "anna", "--statement", "x", *extra]
    )
    assert code == 1 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert _json(["cmo", "list", project])["configurations"] == []  # nothing half-written


def test_export_writes_configurations_as_notes_links_and_sets(project: str, tmp_path: Path):
    _json(
        [
            "cmo",
            "new",
            project,
            "vaste-coach",
            "--coder",
            "anna",
            "--statement",
            "Coach helpt",
            "--segment",
            "gesprek1.txt:seg-0002=I",
            "--segment",
            "gesprek2.txt:seg-0004=O",
        ]
    )
    out, table = tmp_path / "studie.qdpx", tmp_path / "cmo.md"
    written = _json(["project", "export", project, str(out), "--cmo-table", str(table)])
    assert written["written"] == [str(out), str(table)]
    qde = zipfile.ZipFile(out).read("project.qde")
    assert validate(qde, "Project.xsd") == []
    ns = {"q": PROJECT_NS}
    root = etree.fromstring(qde)
    note = root.find("q:Notes/q:Note", ns)
    assert note.get("name") == "CMO: vaste-coach"
    assert "Coach helpt" in note.findtext("q:PlainTextContent", namespaces=ns)
    links = root.findall("q:Links/q:Link", ns)
    assert sorted(link.get("name") for link in links) == ["I", "O"]
    selections = {s.get("guid"): s for s in root.iterfind(".//q:PlainTextSelection", ns)}
    for link in links:
        assert link.get("originGUID") == note.get("guid")
        target = selections[link.get("targetGUID")]  # uncoded segments still get a selection
        refs = [r.get("targetGUID") for r in target.iterfind("q:NoteRef", ns)]
        assert refs == [note.get("guid")]
    cmo_set = root.find("q:Sets/q:Set", ns)
    assert cmo_set.get("name") == "CMO: vaste-coach"
    assert len(cmo_set.findall("q:MemberSource", ns)) == 2
    assert cmo_set.find("q:MemberNote", ns).get("targetGUID") == note.get("guid")
    assert "| vaste-coach | Coach helpt |" in table.read_text(encoding="utf-8")
