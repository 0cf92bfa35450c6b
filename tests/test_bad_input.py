"""Bad files are named with a one-line reason; the good file beside them is still ingested."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.readers import read_file

from .conftest import CORPUS_PDF
from .pdf_factory import encrypted_pdf, image_only_pdf, pages_of, zip_bomb_docx


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-input")
    pages_of(CORPUS_PDF, folder / "goed-rapport.pdf", range(13, 15))
    (folder / "leeg.pdf").write_bytes(b"")
    (folder / "afgebroken.pdf").write_bytes(CORPUS_PDF.read_bytes()[:30_000])
    (folder / "geen-pdf.pdf").write_text("Dit is een tekstbestand, geen PDF.\n", encoding="utf-8")
    encrypted_pdf(CORPUS_PDF, folder / "versleuteld.pdf")
    image_only_pdf(folder / "scan.pdf")
    zip_bomb_docx(folder / "bom.docx")
    return folder


BAD = {
    "leeg.pdf": "empty file",
    "afgebroken.pdf": "damaged PDF",
    "geen-pdf.pdf": "not a PDF",
    "versleuteld.pdf": "encrypted PDF",
    "scan.pdf": "no text layer",
    "bom.docx": "zip bomb",
}


@pytest.mark.parametrize(("name", "reason"), sorted(BAD.items()))
def test_reader_names_what_is_wrong_and_what_to_do(bad_folder: Path, name: str, reason: str):
    with pytest.raises(IngestError) as caught:
        read_file(bad_folder / name)
    message = caught.value.reason
    assert reason in message
    assert ";" in message, "the reason says what to do after the semicolon"
    assert "\n" not in message


def test_ingest_cli_reports_bad_files_and_keeps_the_good_one(bad_folder: Path, tmp_path: Path):
    env = {**os.environ, "WATWERKT_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "ingest", str(bad_folder), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    data = json.loads(run.stdout)
    failed = {Path(f["path"]).name: f["reason"] for f in data["failed"]}
    assert set(failed) == set(BAD)
    for name, reason in BAD.items():
        assert reason in failed[name]
    good = [f for f in data["files"] if Path(f["path"]).name == "goed-rapport.pdf"]
    assert good and good[0]["status"] == "added" and good[0]["chunks"] > 0

    search = subprocess.run(
        [sys.executable, "-m", "ui.cli", "search", "ouderbetrokkenheid", "--json", "-k", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert search.returncode == 0, search.stderr
    results = json.loads(search.stdout)["results"]
    assert results and all(r["report_id"] == "goed-rapport" for r in results)
