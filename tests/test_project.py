"""The project store: codings of named coders in one SQLite database per project, the CLI over it,
the .qdpx with every coder's codings, and no committed coding lost to ``kill -9``."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coding.errors import CodingError
from coding.models import Segment, Transcript
from coding.project import (
    DB_NAME,
    SCHEMA_VERSION,
    create_project,
    list_projects,
    migrate,
    open_project,
)
from coding.refi import PROJECT_NS, validate
from ui.cli import main

from .cli_run import run_json

REPO = Path(__file__).resolve().parents[1]
TEXT = (
    "Interviewer: Hoe ging het?\n"
    "R: Mijn coach belde elke week. Daardoor kreeg ik weer vertrouwen.\n"
    "Interviewer: En nu?\n"
    "R: Nu werk ik vier dagen bij een garage.\n"
)


def _transcript(name: str = "t1.txt") -> tuple[Transcript, list[Segment]]:
    spans = ["Mijn coach belde elke week.", "Daardoor kreeg ik weer vertrouwen.", "Nu werk ik"]
    segments = []
    for i, piece in enumerate(spans, start=1):
        start = TEXT.index(piece)
        segments.append(Segment(f"seg-{i:04d}", "R", start, start + len(piece), piece, i))
    return Transcript(name, TEXT, (), pseudonymised=True), segments


def test_project_database_and_folder_are_private_and_versioned(watwerkt_home: Path):
    store = create_project(watwerkt_home, "studie")
    store.add_transcript(*_transcript(), alliance="Kansen", role="jongere", date="2024-03-01")
    store.close()
    folder = watwerkt_home / "projects" / "studie"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for f in folder.iterdir():
        if f.name.startswith(DB_NAME):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    con = sqlite3.connect(folder / DB_NAME)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT max(version) FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert migrate(con) == SCHEMA_VERSION  # idempotent
    con.close()
    again = open_project(watwerkt_home, "studie")
    t = again.transcripts()[0]
    assert (t.alliance, t.role, t.date) == ("Kansen", "jongere", "2024-03-01")
    assert list_projects(watwerkt_home) == ["studie"]


def test_a_newer_schema_is_refused_with_a_reason(tmp_path: Path):
    path = tmp_path / "p" / DB_NAME
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    from coding.project import ProjectStore

    with pytest.raises(CodingError, match="upgrade watwerkt"):
        ProjectStore(path)


def test_a_coders_decision_replaces_their_earlier_one_and_keeps_the_others(watwerkt_home):
    store = create_project(watwerkt_home, "p")
    stored = store.add_transcript(*_transcript())
    seg = store.segments(stored.id)[0]
    store.set_coding(seg.id, "anna", ["C"], "added")
    store.set_coding(seg.id, "bert", ["I", "T-nazorg"], "added")
    store.set_coding(seg.id, "anna", ["M"], "changed")
    rows = {(c.coder, c.code, c.status) for c in store.codings()}
    assert rows == {("anna", "M", "changed"), ("bert", "I", "added"), ("bert", "T-nazorg", "added")}
    store.set_coding(seg.id, "anna", [], "rejected")
    assert [c.kept for c in store.codings("anna")] == [False]
    with pytest.raises(CodingError, match="needs at least one code"):
        store.set_coding(seg.id, "anna", [], "accepted")
    with pytest.raises(CodingError, match="coder name"):
        store.set_coding(seg.id, " ", ["C"], "added")


@pytest.mark.parametrize("name", ["../x", "", "a b", "0123456789abcdef"])
def test_unusable_project_names_are_refused(watwerkt_home: Path, name: str):
    with pytest.raises(CodingError, match="not usable"):
        create_project(watwerkt_home, name)


_WRITER = """
import sys
from coding.project import open_project
store = open_project(sys.argv[1], "p")
segs = store.segments()
i = 0
while True:
    seg = segs[i % len(segs)]
    rows = store.set_coding(seg.id, f"coder-{i}", ["C", "T-nazorg"], "added")
    print(" ".join(str(r.id) for r in rows), flush=True)
    i += 1
"""


def test_kill_9_during_saves_loses_no_committed_coding(watwerkt_home: Path):
    store = create_project(watwerkt_home, "p")
    store.add_transcript(*_transcript())
    store.close()
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(watwerkt_home)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    printed: list[int] = []
    assert proc.stdout is not None
    try:
        while len(printed) < 2 * 150:
            line = proc.stdout.readline()
            assert line, "the writer stopped before it was killed"
            printed += [int(x) for x in line.split()]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    again = open_project(watwerkt_home, "p")
    assert again.integrity() == "ok"
    stored = {c.id for c in again.codings()}
    assert set(printed) <= stored
    assert len(stored) >= len(printed)


def test_cli_codes_a_project_as_two_coders_and_exports_every_coding(tmp_path: Path):
    files = []
    for i in (1, 2):
        f = tmp_path / f"gesprek{i}.txt"
        f.write_text(TEXT, encoding="utf-8")
        files.append(str(f))
    assert run_json(["project", "new", "studie"])["project"] == "studie"
    added = run_json(["project", "add", "studie", *files, "--keep-names", "--no-suggest"])
    assert [a["segments"] for a in added["added"]] == [3, 3]
    first = run_json(
        ["code", files[0], "--project", "studie", "--coder", "anna", "--blind"],
        "I\nM T-nazorg\nO\n",
    )
    assert (first["added"], first["reviewed"]) == (3, 3)
    second = run_json(
        ["code", "gesprek1.txt", "--project", "studie", "--coder", "bert", "--blind"], "I\n-\n"
    )
    assert (second["added"], second["rejected"], second["reviewed"]) == (1, 1, 2)
    status = run_json(["project", "status", "studie"])
    assert status["transcripts"][0]["reviewed"] == {"anna": 3, "bert": 2}
    assert run_json(["project", "list"])["projects"][0]["coders"] == ["anna", "bert"]

    out = tmp_path / "studie.qdpx"
    run_json(["project", "export", "studie", str(out)])
    with zipfile.ZipFile(out) as zf:
        qde = zf.read("project.qde")
        assert len([n for n in zf.namelist() if n.startswith("sources/")]) == 2
    assert validate(qde, "Project.xsd") == []
    assert "Namen behouden" in qde.decode("utf-8")  # added with --keep-names: the export says so
    from lxml import etree

    root = etree.fromstring(qde)
    ns = {"q": PROJECT_NS}
    users = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", ns)}
    assert sorted(users.values()) == ["anna", "bert"]
    # one selection per segment and coder, carrying that coder's Codings: QualCoder files a
    # coding under its selection's creatingUser
    for sel in root.iterfind(".//q:PlainTextSelection", ns):
        owners = {c.get("creatingUser") for c in sel.iterfind("q:Coding", ns)}
        assert owners == {sel.get("creatingUser")}
    first, second = root.findall(".//q:TextSource", ns)[0].findall("q:PlainTextSelection", ns)[:2]
    assert (first.get("startPosition"), first.get("endPosition")) == (
        second.get("startPosition"),
        second.get("endPosition"),
    )
    assert sorted(users[s.get("creatingUser")] for s in (first, second)) == ["anna", "bert"]
    dates = {c.get("creationDateTime") for c in root.iterfind(".//q:Coding", ns)}
    assert all(d.startswith("20") for d in dates)  # real dates, not 1980


def test_cli_refuses_a_changed_file_under_a_stored_name(tmp_path: Path):
    f = tmp_path / "gesprek.txt"
    f.write_text(TEXT, encoding="utf-8")
    run_json(["project", "new", "p"])
    run_json(["project", "add", "p", str(f), "--keep-names", "--no-suggest"])
    f.write_text(TEXT + "R: Nog iets.\n", encoding="utf-8")
    err = io.StringIO()
    old = sys.stderr
    sys.stderr = err
    try:
        code = main(["code", str(f), "--project", "p", "--coder", "anna", "--blind", "-q"])
    finally:
        sys.stderr = old
    assert code == 1
    assert "different gesprek.txt" in err.getvalue()
