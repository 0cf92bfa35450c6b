"""CLI hygiene: no file outside an ingested folder, no file content in error messages, and no
control or bidi character from a document reaching the terminal raw (JSON unchanged)."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path

import pytest

from coding.codebook import load_codebook
from coding.errors import CodingError
from coding.refi import read_codebook
from ingest.catalog import load_catalog
from ingest.errors import IngestError
from ingest.files import find_files
from ingest.readers import read_file
from ui.cli import main
from ui.term import TerminalFormatter, for_json, for_terminal

SECRET = "Fatima El Amrani"
REPORT = (
    "Evaluatie coaching.\n\n"
    + "Coaching helpt jongeren om werk te vinden. Werkgevers waarderen de begeleiding. " * 10
)
# What a hostile document can hold: colour and clear-screen escapes, an OSC clipboard write,
# a carriage return that overprints, a C1 CSI, and bidi overrides and isolates.
HOSTILE = "\x1b[31m\x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\rover\x9b1m\u202eNAALP\u202c\u2066x\u2069"
IN_TEXT = HOSTILE.replace("\r", "")  # ingest turns a lone CR into a line break
UNSAFE = ["\x1b", "\x07", "\r", "\x9b"] + [chr(c) for c in range(0x202A, 0x202F)]
UNSAFE += [chr(c) for c in range(0x2066, 0x206A)]


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "exactly one JSON object on one line"
    return code, json.loads(out)


# -- symlinks -------------------------------------------------------------------------------
def test_a_symlink_to_a_file_outside_the_folder_is_refused(tmp_path: Path, capsys):
    outside = tmp_path / "elders" / "geheim.txt"
    outside.parent.mkdir()
    outside.write_text(REPORT.replace("Coaching", SECRET), encoding="utf-8")
    folder = tmp_path / "rapporten"
    folder.mkdir()
    (folder / "notities.txt").symlink_to(outside)
    code, data = _json(capsys, ["ingest", str(folder), "--json", "-q"])
    assert code == 1
    [failed] = data["failed"]
    assert failed["path"].endswith("notities.txt")
    assert "leads outside the ingested folder" in failed["reason"]
    assert data["index"]["chunks"] == 0
    assert SECRET not in json.dumps(data)


def test_links_that_stay_inside_the_folder_are_read(tmp_path: Path):
    folder = tmp_path / "rapporten"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "echt.txt").write_text(REPORT, encoding="utf-8")
    (folder / "alias.txt").symlink_to(folder / "sub" / "echt.txt")
    (tmp_path / "elders").mkdir()
    (tmp_path / "elders" / "x.md").write_text(REPORT, encoding="utf-8")
    (folder / "uitstapje").symlink_to(tmp_path / "elders", target_is_directory=True)
    found = {f.path.relative_to(folder).as_posix(): f.refused for f in find_files([folder])}
    assert found.get("alias.txt", "absent") is None and found["sub/echt.txt"] is None
    assert found["uitstapje"] is not None, "a linked folder outside: refused, with its reason"
    assert "uitstapje/x.md" not in found


# -- no file content in error messages ------------------------------------------------------
def _pdf_without_header(path: Path) -> None:
    path.write_text(f"{SECRET} woont in de Reeshof.\n", encoding="utf-8")


def _damaged_pdf(path: Path) -> None:
    path.write_bytes(b"%PDF-1.4\n1 0 obj << /Pages (" + SECRET.encode() + b") >> endobj\n%%EOF\n")


def _binary_txt(path: Path) -> None:
    path.write_bytes(SECRET.encode() + bytes(range(1, 32)) * 40)


def _broken_docx(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", f"<w:document><{SECRET.split()[0]}>open</w:document>")


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("rapport.pdf", _pdf_without_header),
        ("kapot.pdf", _damaged_pdf),
        ("binair.txt", _binary_txt),
        ("kapot.docx", _broken_docx),
    ],
)
def test_reader_errors_describe_the_file_without_quoting_it(tmp_path: Path, name: str, make):
    path = tmp_path / name
    make(path)
    with pytest.raises(IngestError) as caught:
        read_file(path)
    assert SECRET.split()[0] not in str(caught.value)


def test_yaml_and_xml_errors_give_a_position_not_the_lines(tmp_path: Path):
    broken = f"reports:\n  - id: x\n    title: [{SECRET}\n"
    (tmp_path / "catalog.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "codebook.yaml").write_text(broken, encoding="utf-8")
    (tmp_path / "codes.qdc").write_text(f"<CodeBook><{SECRET.split()[0]}></CodeBook>", "utf-8")
    with pytest.raises(IngestError) as catalog:
        load_catalog(tmp_path / "catalog.yaml")
    with pytest.raises(CodingError) as codebook:
        load_codebook(tmp_path / "codebook.yaml")
    with pytest.raises(CodingError) as qdc:
        read_codebook(tmp_path / "codes.qdc")
    for caught in (catalog, codebook, qdc):
        message = str(caught.value)
        assert "line " in message and "\n" not in message
        assert SECRET.split()[0] not in message


def test_ingest_cli_error_does_not_quote_the_file(tmp_path: Path, capsys):
    path = tmp_path / "rapport.pdf"
    _pdf_without_header(path)
    code, data = _json(capsys, ["ingest", str(path), "--json", "-q"])
    assert code == 1 and "not a PDF" in data["failed"][0]["reason"]
    assert SECRET.split()[0] not in json.dumps(data)


# -- control and bidi characters ------------------------------------------------------------
def test_for_terminal_escapes_controls_and_bidi_and_keeps_text():
    shown = for_terminal(f"Wat werkt? Coördinatie — één\tregel\n{HOSTILE}")
    assert not any(ch in shown for ch in UNSAFE)
    assert shown.startswith("Wat werkt? Coördinatie — één\tregel\n")
    for escaped in ("\\x1b[31m", "\\x07", "\\x0d", "\\x9b", "\\u202e", "\\u202c", "\\u2066"):
        assert escaped in shown


def test_log_lines_are_escaped_too():
    record = logging.LogRecord("w", logging.WARNING, "", 0, "%s: not UTF-8", (HOSTILE,), None)
    line = TerminalFormatter("watwerkt: %(message)s").format(record)
    assert line.startswith("watwerkt: \\x1b[31m") and not any(ch in line for ch in UNSAFE)


def test_for_json_keeps_the_values_and_escapes_the_characters():
    data = {"text": f"Coördinatie {HOSTILE}", "list": ["\u2028", "é"]}
    text = for_json(json.dumps(data, ensure_ascii=False))
    assert json.loads(text) == data
    assert not any(ch in text for ch in [*UNSAFE, "\u2028"]) and "é" in text


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with one report whose text and title hold escape sequences and bidi overrides."""
    home = tmp_path_factory.mktemp("hostile-home")
    path = home.parent / "kleur.txt"
    text = REPORT.replace("Werkgevers waarderen", f"Werkgevers {IN_TEXT} waarderen")
    path.write_text(text, encoding="utf-8")
    argv = ["ingest", str(path), "--report-id", "kleur-2024", "--title", f"Kleur {HOSTILE}"]
    assert main([*argv, "--home", str(home), "-q"]) == 0
    return home


def _human(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 0
    captured = capsys.readouterr()
    return captured.out + captured.err


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "werkgevers waarderen coaching", "-k", "2"],
        ["ask", "Wat waarderen werkgevers aan coaching van jongeren?"],
        ["reports"],
    ],
    ids=["search", "ask", "reports"],
)
def test_human_output_shows_document_controls_escaped(hostile_home: Path, capsys, argv):
    shown = _human(capsys, [*argv, "--home", str(hostile_home)])
    assert not any(ch in shown for ch in UNSAFE)
    assert "\\x1b[31m" in shown and "\\u202e" in shown


def test_json_output_keeps_the_document_text(hostile_home: Path, capsys):
    argv = ["search", "werkgevers waarderen", "-k", "1", "--json", "--home", str(hostile_home)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in UNSAFE)
    assert IN_TEXT in json.loads(out)["results"][0]["text"]


def test_code_output_shows_transcript_controls_escaped(tmp_path: Path, capsys):
    path = tmp_path / "gesprek.txt"
    path.write_text(
        "Interviewer: Hoe ging het?\n"
        f"Respondent: Mijn coach hielp me {HOSTILE} aan een stage bij een bakker.\n",
        encoding="utf-8",
    )
    argv = ["code", str(path), "--keep-names", "--no-report-evidence", "-q"]
    shown = _human(capsys, argv)
    assert not any(ch in shown for ch in UNSAFE)
    assert "\\x1b[31m" in shown


def test_an_error_naming_a_hostile_path_is_escaped(tmp_path: Path, capsys):
    missing = tmp_path / f"weg{HOSTILE}.txt"
    assert main(["code", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("watwerkt: error:") and err.count("\n") == 1
    assert not any(ch in err for ch in UNSAFE)
    assert os.fspath(tmp_path) in err
