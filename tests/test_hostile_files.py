"""Hostile and odd files: each one is refused with a one-line reason, the batch goes on.

Every file is made here, small (a sparse file stands in for a huge one); none is committed.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pypdf
import pytest

from coding.errors import CodingError
from coding.transcripts import load_transcript, read_transcript_text
from ingest import readers
from ingest.chunk import chunk_document
from ingest.document import load_document
from ingest.errors import IngestError
from ingest.readers import read_file
from ingest.transcript_check import transcript_evidence
from ui.cli import main

from .conftest import CORPUS_PDF, REPO
from .pdf_factory import text_pdf

REPORT_TEXT = (
    "Rapport over jongeren en werk.\n\n"
    + "Coaching helpt jongeren om werk te vinden. Werkgevers waarderen de begeleiding. " * 12
)


def _aes_pdf(path: Path, algorithm: str, user_password: str) -> Path:
    source = text_pdf(path.with_suffix(".bron.pdf"), ["Coaching helpt jongeren aan werk."] * 4)
    writer = pypdf.PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=user_password, owner_password="eigenaar", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)
    source.unlink()
    return path


def _inflating_docx(path: Path, megabytes: int) -> Path:
    """A .docx whose document.xml is ``megabytes`` of XML, stored: compression ratio 1."""
    paragraph = b"<w:p><w:r><w:t>Coaching helpt jongeren aan werk.</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as fh:
            block = paragraph * (1024 * 1024 // len(paragraph))
            for _ in range(megabytes):
                fh.write(block)
    return path


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def _binary(path: Path, nul: bool) -> Path:
    data = random.Random(7).randbytes(20_000)
    path.write_bytes(data if nul else data.replace(b"\x00", b"\x01"))
    return path


def _reason(path: Path) -> str:
    with pytest.raises(IngestError) as caught:
        read_file(path)
    reason = caught.value.reason
    assert "\n" not in reason and ";" in reason, "one line that says what to do"
    return reason


# -- PDFs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_pdf_with_only_an_owner_password_is_read(tmp_path: Path, algorithm: str):
    raw = read_file(_aes_pdf(tmp_path / "beperkt.pdf", algorithm, user_password=""))
    assert "Coaching helpt jongeren" in raw.pages[0]


def test_aes256_pdf_with_a_password_is_named_encrypted(tmp_path: Path):
    reason = _reason(_aes_pdf(tmp_path / "slot.pdf", "AES-256", user_password="geheim"))
    assert reason.startswith("encrypted PDF") and "qpdf --decrypt" in reason


def test_aes_pdfs_without_cryptography_get_a_reason_and_the_batch_goes_on(tmp_path: Path):
    folder = tmp_path / "aes"
    folder.mkdir()
    _aes_pdf(folder / "aes128-eigenaar.pdf", "AES-128", user_password="")
    _aes_pdf(folder / "aes256.pdf", "AES-256", user_password="geheim")
    _binary(folder / "zz-binair.txt", nul=True)  # after the PDFs: still reached
    hide = "import sys; sys.modules['cryptography'] = sys.modules['Crypto'] = None; "
    code = hide + "from ui.cli import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        [sys.executable, "-c", code, "ingest", str(folder), "--json", "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "WATWERKT_HOME": str(tmp_path / "home")},
        timeout=300,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    failed = {Path(f["path"]).name: f["reason"] for f in json.loads(run.stdout)["failed"]}
    assert set(failed) == {"aes128-eigenaar.pdf", "aes256.pdf", "zz-binair.txt"}
    for name in ("aes128-eigenaar.pdf", "aes256.pdf"):
        assert "AES-encrypted PDF" in failed[name] and "pip install cryptography" in failed[name]
        assert "scanned" not in failed[name]


# -- sizes --------------------------------------------------------------------------------------
def test_docx_whose_xml_inflates_is_refused_by_its_uncompressed_size(tmp_path: Path):
    path = _inflating_docx(tmp_path / "opgeblazen.docx", readers.MAX_DOCX_XML // readers.MB + 1)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
    ratio = sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)
    assert ratio < 1.1, "no compression: the ratio bound alone would let it through"
    reason = _reason(path)
    assert "of XML" in reason and f"limits {readers.MAX_DOCX_XML // readers.MB} MB" in reason


def test_huge_text_file_is_refused_by_size_with_the_limit(tmp_path: Path):
    reason = _reason(_sparse(tmp_path / "enorm.txt", 200 * 1024 * 1024))
    assert "200 MB" in reason and "limit 2.0 MB" in reason


def test_pdf_text_past_the_bound_stops_at_that_page(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_REPORT_CHARS", 100)
    path = text_pdf(tmp_path / "lang.pdf", ["Coaching helpt jongeren aan werk en een stage."] * 5)
    reason = _reason(path)
    assert "by page 1" in reason and "limit 100" in reason


def test_a_long_single_line_report_is_split_for_spacy_not_refused(tmp_path: Path):
    sentence = "Coaching helpt jongeren om werk te vinden en werkgevers waarderen dat "
    path = tmp_path / "een-regel.txt"
    path.write_text(sentence * (1_100_000 // len(sentence)), encoding="utf-8")  # > max_length
    doc = load_document(path)
    chunks = chunk_document(doc)
    assert chunks and all(doc.text[c.char_start : c.char_end] == c.text for c in chunks)


def test_a_5_mb_single_line_transcript_is_refused_with_the_limit(tmp_path: Path):
    path = tmp_path / "een-regel.txt"
    path.write_text("R: " + "ja dus eh " * 520_000, encoding="utf-8")
    with pytest.raises(CodingError) as caught:
        read_transcript_text(path)
    message = str(caught.value)
    assert "limit 200,000" in message and "split it" in message and "\n" not in message


# -- wrong content under a text name ------------------------------------------------------------
@pytest.mark.parametrize("nul", [True, False], ids=["with-nul-bytes", "without-nul-bytes"])
def test_binary_file_named_txt_is_refused_by_ingest_and_code(tmp_path: Path, nul: bool):
    path = _binary(tmp_path / "interview.txt", nul)
    assert "binary data" in _reason(path)
    with pytest.raises(CodingError, match="binary data"):
        read_transcript_text(path)


def test_text_with_a_few_control_characters_is_still_text(tmp_path: Path):
    path = tmp_path / "rapport.txt"
    path.write_text(REPORT_TEXT.replace("Werkgevers", "\x1b[1mWerkgevers\x1b[0m", 2), "utf-8")
    assert "\x1b[1mWerkgevers" in read_file(path).pages[0]


MALFORMED_CAPTIONS = {
    "ondertitels.vtt": (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nInterviewer: Hoe ging het op school?\n\n"
        "00:00:0x.000 --> 00:00:07.000\nJan: Niet zo goed eigenlijk.\n\n"
        "1:2:3 -> 4:5:6\nIk ben gestopt.\n\n"
        "00:00:09.000 --> 00:00:12,5\n<v Interviewer>En toen?</v>\n"
    ),
    "ondertitels.srt": (
        "1\n00:00:01,000 --> 00:00:02,000\nInterviewer: Hoe ging het op school?\n"
        "2\n00:00:03,000 --> 00:00:04,000\nJan: Niet zo goed eigenlijk.\n\n"
        "3\n00:00:05:000 --> 00:00:06:000\nIk ben gestopt.\n\n"
        "4\n99:99 --> \nInterviewer: En toen?\n"
    ),
    "transcript.txt": (
        "[00:00:01] Interviewer: Hoe ging het op school?\n"
        "[0:0:5] Jan: Niet zo goed eigenlijk.\n"
        "[00:01:2] Ik ben gestopt.\n"
        "[00:02:10] Interviewer: En toen?\n"
    ),
}


@pytest.mark.parametrize("name", sorted(MALFORMED_CAPTIONS))
def test_malformed_timestamps_do_not_become_speakers(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_text(MALFORMED_CAPTIONS[name], encoding="utf-8")
    transcript = load_transcript(path)
    assert {t.speaker for t in transcript.turns} == {"Interviewer", "Jan"}
    assert "Ik ben gestopt." in transcript.text
    assert "-->" not in transcript.text


def test_a_bad_report_id_is_one_line_not_a_validation_dump(tmp_path: Path, capsys):
    path = tmp_path / "rapport.txt"
    path.write_text(REPORT_TEXT, encoding="utf-8")
    assert main(["ingest", str(path), "--report-id", "../../x", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("watwerkt: error: --report-id '../../x'")
    assert "validation error" not in captured.err and "pydantic" not in captured.err


# -- transcripts are not reports (issue 10) -----------------------------------------------------
TRANSCRIPTS = {
    "interview_pseudo.txt": (REPO / "tests" / "data" / "interview_pseudo.txt").read_text("utf-8"),
    "ir.md": "# Gesprek\n\n" + "I: Hoe gaat het met je opleiding?\n\nR: Goed, ik werk.\n\n" * 4,
    "namen.txt": "".join(
        f"{'Sanne' if i % 2 else 'Youssef'}: zin {i} over school en werk.\n" for i in range(12)
    ),
    "rollen.txt": "".join(
        f"{'Coach' if i % 2 else 'Jongere'}: en toen ging ik weer naar school.\n" for i in range(8)
    ),
    "tijden.txt": "".join(
        f"[00:0{i}:10] {'Interviewer' if i % 2 else 'Fatima'}: en toen ging ik werken.\n"
        for i in range(8)
    ),
}


@pytest.mark.parametrize("name", sorted(TRANSCRIPTS))
def test_ingest_refuses_a_transcript_and_points_at_code(tmp_path: Path, capsys, name: str):
    path = tmp_path / name
    path.write_text(TRANSCRIPTS[name], encoding="utf-8")
    assert main(["ingest", str(path), "--json", "-q"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert len(data["failed"]) == 1
    reason = data["failed"][0]["reason"]
    assert "interview transcript" in reason and f"watwerkt code {name}" in reason
    assert "Fatima" not in reason and "Sanne" not in reason, "labels are names: not quoted"
    assert data["index"]["chunks"] == 0


def test_ingest_refuses_a_transcript_pdf_docx_and_caption_file(tmp_path: Path):
    import docx

    document = docx.Document()
    for i in range(8):
        document.add_paragraph(f"{'I' if i % 2 else 'R'}: antwoord nummer {i} over werk.")
    document.save(str(tmp_path / "gesprek.docx"))
    with pytest.raises(IngestError, match="interview transcript"):
        load_document(tmp_path / "gesprek.docx")
    pdf = text_pdf(tmp_path / "gesprek.pdf", ["Interviewer: Hoe gaat het?", "R: Goed."] * 8)
    with pytest.raises(IngestError, match="interview transcript"):
        load_document(pdf)
    vtt = tmp_path / "gesprek.vtt"
    vtt.write_text(MALFORMED_CAPTIONS["ondertitels.vtt"], encoding="utf-8")
    assert "watwerkt code gesprek.vtt" in _reason(vtt)


REPORTS_WITH_QUOTES = {
    "citaten.txt": (
        "1 Inleiding\n\nDe alliantie begeleidt jongeren naar werk.\n\n"
        "Een jongere zegt: 'Mijn coach belde elke week.' Dat helpt.\n\n"
        "Respondent: 'Zonder de coach was ik gestopt.'\n\n"
        "Doelgroep: jongeren van 16 tot 27 jaar.\nLooptijd: 2018-2020.\nBron: Regioplan.\n\n"
        + "Werkgevers geven aan dat de begeleiding helpt bij het behoud van werk. " * 30
        + "\n\nInterviewer: 'Wat werkte?' Jongere: 'De vaste contactpersoon.'\n"
    ),
    "citaten.md": (
        "# Evaluatie\n\n## Resultaten\n\n"
        + "De aanpak werkt voor jongeren met een afstand tot de arbeidsmarkt.\n\n" * 10
        + "> Coach: 'Je moet ze echt kennen.'\n\n**Noot:** cijfers zijn voorlopig.\n"
    ),
    "factsheets.txt": "".join(
        f"Alliantie {i}\nDoelgroep: jongeren van 16 tot 27 jaar\nAanpak: coaching\n"
        f"Looptijd: 2018-2020\nPartners: gemeente en UWV\n\n"
        for i in range(8)
    ),
    "vragen.md": "".join(
        f"Vraag: wat werkt voor groep {i}?\nAntwoord: een vaste coach en een werkgever.\n\n"
        for i in range(10)
    ),
}


@pytest.mark.parametrize("name", sorted(REPORTS_WITH_QUOTES))
def test_a_report_with_the_occasional_quote_is_not_taken_for_a_transcript(
    tmp_path: Path, name: str
):
    path = tmp_path / name
    path.write_text(REPORTS_WITH_QUOTES[name], encoding="utf-8")
    assert load_document(path).text


def test_the_bundled_report_is_not_taken_for_a_transcript():
    assert transcript_evidence("\n".join(read_file(CORPUS_PDF).pages)) is None


# -- one batch, through the real command --------------------------------------------------------
def test_a_batch_of_hostile_files_names_each_and_indexes_the_good_one(tmp_path: Path):
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "goed.txt").write_text(REPORT_TEXT, encoding="utf-8")
    _aes_pdf(folder / "aes256.pdf", "AES-256", user_password="geheim")
    _inflating_docx(folder / "opgeblazen.docx", readers.MAX_DOCX_XML // readers.MB + 1)
    _sparse(folder / "enorm.txt", 200 * 1024 * 1024)
    _binary(folder / "binair.txt", nul=False)
    (folder / "interview.txt").write_text(TRANSCRIPTS["ir.md"], encoding="utf-8")
    (folder / "ondertitels.srt").write_text(MALFORMED_CAPTIONS["ondertitels.srt"], "utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ingest", str(folder), "--json", "-q"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "WATWERKT_HOME": str(tmp_path / "home")},
        timeout=600,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stdout.count("\n") == 1, "exactly one JSON object"
    data = json.loads(run.stdout)
    failed = {Path(f["path"]).name: f["reason"] for f in data["failed"]}
    expected = {
        "aes256.pdf": "encrypted PDF",
        "opgeblazen.docx": "zip bomb",
        "enorm.txt": "limit 2.0 MB",
        "binair.txt": "binary data",
        "interview.txt": "interview transcript",
        "ondertitels.srt": "watwerkt code ondertitels.srt",
    }
    assert set(failed) == set(expected)
    for name, words in expected.items():
        assert words in failed[name]
    good = [f for f in data["files"] if f["status"] != "failed"]
    assert [Path(f["path"]).name for f in good] == ["goed.txt"] and good[0]["chunks"] > 0
