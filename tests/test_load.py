"""The load benchmark keeps working: a few users against a real `watwerkt ui` server get every
question answered or refused, with no error (figures: benchmarks/load_ui.py, not here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_concurrent_users_get_answers_and_no_errors(built_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(built_home, home, ignore=shutil.ignore_patterns("projects", "app-files"))
    done = subprocess.run(
        [sys.executable, "benchmarks/load_ui.py", "--users", "3", "--duration", "8",
         "--think", "0.5", "--single", "3", "--home", str(home), "--json"],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["errors"] == 0 and report["requests"] >= 3, report
    assert report["answered"] + report["refused"] == report["requests"]
    assert report["answered"] > 0 and report["refused"] > 0, "gold questions of both kinds"
    assert report["single_user_s"]["requests"] == 3
    assert report["p95_over_single_p95"] is not None
