"""No export of the de-identification benchmark transcripts holds an identifying string: the
`watwerkt code --json` output, the .qdpx and .qdc it writes, and the app's CSV export and
segments table (issue 10). Every annotated string is searched as a whole word, case-sensitive."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coding import deid_eval

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "benchmarks" / "data" / "deid"


def _texts_of(path: Path) -> str:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_text(encoding="utf-8")


def _leaked(identifiers: set[str], text: str) -> list[str]:
    return sorted(i for i in identifiers if re.search(rf"(?<!\w){re.escape(i)}(?!\w)", text))


@pytest.mark.slow
def test_no_export_of_the_benchmark_transcripts_holds_an_identifier(
    built_home: Path, tmp_path: Path
) -> None:
    from ui import app_coding
    from ui.settings import get_settings
    from ui.wiring import App

    # A home of its own (the session's index, no projects): no other test's mappings, undone
    # replacements or coder's name lists can change what this one finds.
    home = tmp_path / "home"
    shutil.copytree(built_home, home, ignore=shutil.ignore_patterns("projects"))
    built_app = App(get_settings(home=home), show_progress=False)
    built_home = home
    for item in deid_eval.load(DEV):
        identifiers = {o.text for o in item.identifiers}
        source = tmp_path / item.name
        source.write_text(item.text, encoding="utf-8")
        qdpx, qdc = tmp_path / f"{source.stem}.qdpx", tmp_path / f"{source.stem}.qdc"
        done = subprocess.run(  # the CLI as a user runs it: a process of its own
            [sys.executable, "-m", "ui.cli", "code", str(source), "--json", "--home",
             str(built_home), "--no-report-evidence", "--qdpx", str(qdpx), "--qdc", str(qdc)],
            capture_output=True, text=True, cwd=REPO, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        exports = {"json": done.stdout, "qdpx": _texts_of(qdpx), "qdc": _texts_of(qdc)}
        session = app_coding.open_transcript(built_app, source, name="transcript.txt")
        for path in app_coding.export_files(session, tmp_path / f"{source.stem}-app"):
            exports[path.suffix] = exports.get(path.suffix, "") + _texts_of(path)
        exports["segments table"] = app_coding.segments_html(session)
        for where, text in exports.items():
            assert not _leaked(identifiers, text), (item.name, where, _leaked(identifiers, text))
