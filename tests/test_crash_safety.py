"""An ingest killed with SIGKILL at any stage, then `watwerkt ingest`: the index of a clean run.

The child process kills itself at a named stage (WATWERKT_TEST_CRASH_AT, rag.index.crash_point),
which is what `kill -9` at that moment does: no clean-up, no flush, no atexit.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rag.index import CRASH_STAGES, Index
from rag.lock import write_lock
from ui.cli import main
from ui.settings import get_settings
from ui.wiring import App

from .conftest import REPO
from .index_state import assert_same_index, corpus_files, index_state, watwerkt

pytestmark = pytest.mark.slow


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATWERKT_")}
    env["WATWERKT_EMBED_CACHE"] = os.environ.get("WATWERKT_EMBED_CACHE", "off")
    return {**env, "WATWERKT_HOME": str(home), **extra}


def _index(home: Path) -> Index:
    return App(get_settings(home=home), show_progress=False).index


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The corpus (at version 2), a home indexed at version 1 (by the real command) and the
    reference: a clean ingest of version 2 into an empty home."""
    root = tmp_path_factory.mktemp("crash")
    corpus = corpus_files(root / "corpus", version=1)
    v1 = root / "home-v1"
    done = watwerkt("ingest", str(corpus), "--json", "-q", env=_env(v1))
    assert done.returncode == 0, done.stderr
    corpus_files(corpus, version=2)
    clean = root / "home-clean"
    outcomes = App(get_settings(home=clean), show_progress=False).ingest([corpus])
    assert [o.status for o in outcomes] == ["added"] * 3
    return {"corpus": corpus, "v1": v1, "clean": clean}


@pytest.fixture(scope="module")
def clean_state(homes: dict[str, Path]) -> dict:
    return index_state(_index(homes["clean"]))


# Stages after which the changed report b is uncommitted: left out of search, named as incomplete.
UNCOMMITTED = {"uncommitted", "deleted", "chunks", "sentences", "document"}


@pytest.mark.parametrize("stage", CRASH_STAGES)
def test_ingest_killed_at_any_stage_is_repaired_to_a_clean_run(
    stage, homes, clean_state, tmp_path, caplog
):
    home = tmp_path / "home"
    shutil.copytree(homes["v1"], home)
    crashed = watwerkt(
        "ingest", str(homes["corpus"]), "--json", "-q", env=_env(home, WATWERKT_TEST_CRASH_AT=stage)
    )
    assert crashed.returncode == -9, f"did not die at {stage}: {crashed.stderr[-400:]}"

    with caplog.at_level(logging.WARNING, logger="rag.index"):
        index = _index(home)
        records = index.records()
    committed = {m["report_id"] for _, m in records.values()}
    if stage in UNCOMMITTED:
        assert index.incomplete() == ["b"]
        assert "incomplete" in caplog.text and "watwerkt ingest" in caplog.text
        assert "b" not in committed, "a half-written report must not be searchable"
    # Whatever readers see is whole: every visible report has all its sentences.
    for report_id in committed:
        (mark,) = index.manifest.get(ids=[report_id], include=["metadatas"])["metadatas"]
        sentences = index.sentences.get(where={"report_id": report_id}, include=[])
        assert len(sentences["ids"]) == mark["sentences"]
        assert index.documents.load(report_id) is not None

    assert main(["ingest", str(homes["corpus"]), "--json", "-q", "--home", str(home)]) == 0
    assert_same_index(index_state(_index(home)), clean_state)


def test_known_bad_moment_no_longer_shows_an_indexed_report_that_search_cannot_use(
    homes, tmp_path, capsys
):
    """Killed between the chunk and the sentence writes of a new report: `reports` calls it
    incomplete, search finds nothing of it, the reports before it still answer."""
    home = tmp_path / "home"
    shutil.copytree(homes["v1"], home)
    crashed = watwerkt(
        "ingest",
        str(homes["corpus"] / "c.txt"),
        "-q",
        env=_env(home, WATWERKT_TEST_CRASH_AT="chunks"),
    )
    assert crashed.returncode == -9
    assert main(["reports", "--json", "--home", str(home)]) == 0
    rows = json.loads(capsys.readouterr().out)["reports"]
    assert {r["id"] for r in rows if r["state"].startswith("indexed")} == {"a", "b"}
    assert [r["id"] for r in rows if r["state"] == "incomplete"] == ["c"]
    argv = ["search", "voortijdig schoolverlaters bellen", "--json", "--home", str(home)]
    assert main(argv) == 0
    found = {r["report_id"] for r in json.loads(capsys.readouterr().out)["results"]}
    assert found and "c" not in found


def _wait_for(stream, needle: str, seconds: float) -> str:
    """Lines of ``stream`` up to the one holding ``needle`` (read in a thread, bounded)."""
    seen: list[str] = []
    found = threading.Event()

    def read() -> None:
        for line in stream:
            seen.append(line)
            if needle in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    found.wait(seconds)
    return "".join(seen)


def test_second_ingest_waits_for_the_lock_then_writes_the_clean_index(homes, clean_state, tmp_path):
    home = tmp_path / "home"
    with write_lock(home, timeout=5):
        child = subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "ingest", str(homes["corpus"]), "--json", "-q"],
            cwd=REPO,
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            said = _wait_for(child.stderr, "waiting", seconds=120)
        except BaseException:
            child.kill()
            raise
        assert f"another ingest (pid {os.getpid()}) is writing to" in said
    out, _ = child.communicate(timeout=300)
    assert child.returncode == 0
    assert out.count("\n") == 1
    assert_same_index(index_state(_index(home)), clean_state)


def test_ingest_gives_up_on_a_held_lock_with_one_line(homes, tmp_path):
    home = tmp_path / "home"
    with write_lock(home, timeout=5):
        done = watwerkt(
            "ingest", str(homes["corpus"]), "--json", env=_env(home, WATWERKT_LOCK_TIMEOUT="1")
        )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("watwerkt: error: another ingest (pid ")
    assert "ingest.lock after 1 s" in lines[-1]
    assert "Traceback" not in done.stderr


def test_two_ingests_at_once_leave_the_clean_index(homes, clean_state, tmp_path):
    home = tmp_path / "home"
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "ingest", str(homes["corpus"]), "--json", "-q"],
            cwd=REPO,
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [c.communicate(timeout=300) for c in children]
    assert [c.returncode for c in children] == [0, 0], [err for _, err in results]
    statuses = sorted(out.count('"added"') for out, _ in results)
    assert statuses == [0, 3], "one wrote all three reports, the other found them unchanged"
    assert_same_index(index_state(_index(home)), clean_state)
