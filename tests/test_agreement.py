"""Intercoder agreement: NVivo's character-level kappa, Krippendorff's alpha against the
`krippendorff` package, MAXQDA's Brennan-Prediger kappa, and `watwerkt agree` on a project coded
by two named coders and the assistant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coding.agreement import (
    Table2x2,
    brennan_prediger,
    char_table,
    cohen_kappa,
    krippendorff_alpha,
    maxqda_segment_kappa,
    percentage_agreement,
    precision_recall_f1,
)

from .cli_run import run_json


def test_nvivo_worked_example_gives_85_percent_and_kappa_0_318():
    # NVivo help, "Run a Coding Comparison query": a 1000-character source, 50 characters
    # coded by both users, 150 by only one (here 100 by A, 50 by B), 800 by neither.
    table = Table2x2(both=50, a_only=100, b_only=50, neither=800)
    assert percentage_agreement(table) == pytest.approx(0.85)
    # chance: 150/1000 * 100/1000 + 850/1000 * 900/1000 = 0.78; (0.85 - 0.78) / 0.22
    assert round(cohen_kappa(table), 3) == 0.318
    assert cohen_kappa(table) == pytest.approx(0.07 / 0.22)


def test_character_table_counts_overlapping_spans_once():
    table = char_table([(0, 150)], [(100, 200)], 1000)
    assert table == Table2x2(both=50, a_only=100, b_only=50, neither=800)
    assert char_table([(0, 10), (5, 20)], [], 30) == Table2x2(0, 20, 0, 10)


def test_kappa_is_one_when_neither_coder_used_the_code():
    assert cohen_kappa(Table2x2(0, 0, 0, 100)) == 1.0
    assert cohen_kappa(Table2x2(0, 40, 0, 60)) == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_alpha_matches_the_krippendorff_package_with_missing_values(seed: int):
    krippendorff = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    coders, units = int(rng.integers(2, 6)), int(rng.integers(10, 80))
    data = rng.integers(0, int(rng.integers(2, 6)), size=(coders, units)).astype(float)
    data[rng.random(data.shape) < 0.25] = np.nan
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    rows = [[None if np.isnan(x) else int(x) for x in data[:, u]] for u in range(units)]
    assert krippendorff_alpha(rows) == pytest.approx(expected, abs=1e-9)


def test_alpha_of_perfect_agreement_is_one_and_needs_pairable_units():
    assert krippendorff_alpha([["C", "C"], ["M", "M", None], ["O", "O"]]) == 1.0
    with pytest.raises(ValueError, match="pairable"):
        krippendorff_alpha([["C", None], [None, "M"]])


def test_brennan_prediger_uses_one_over_the_number_of_codes():
    assert brennan_prediger(0.85, 4) == pytest.approx((0.85 - 0.25) / 0.75)
    result = maxqda_segment_kappa({1: {"C"}, 2: {"M"}, 3: set()}, {1: {"C"}, 2: {"O"}, 3: {"C"}})
    # pairs (1,C) agree; (2,M) (2,O) (3,C) do not: 1/4 agreement over 3 codes
    assert result["agreement"] == pytest.approx(0.25)
    assert result["kappa_bp"] == pytest.approx((0.25 - 1 / 3) / (2 / 3))


def test_precision_recall_f1():
    assert precision_recall_f1(4, 5, 2) == pytest.approx(
        {"precision": 0.5, "recall": 0.4, "f1": 4 / 9}
    )
    assert precision_recall_f1(0, 3, 0)["precision"] is None


# -- through the CLI ---------------------------------------------------------------------------
_ANSWERS = [
    ("Mijn coach belde elke week, ook als ik geen zin had.", "I", "I"),
    ("Daardoor kreeg ik weer vertrouwen in mezelf.", "M", "M"),
    ("Nu werk ik vier dagen bij een garage en een dag naar school.", "O", "O"),
    ("Thuis was het lastig omdat mijn vader ziek was.", "C", "C"),
    ("Ze regelde een proefplaatsing zonder sollicitatiegesprek.", "I", "I T-nazorg"),
    ("Ik durfde eindelijk weer vragen te stellen.", "M", "O"),
]


@pytest.mark.slow
def test_agree_json_gives_kappa_alpha_and_per_code_figures_for_two_coders_and_the_assistant(
    tmp_path: Path,
):
    files = []
    for i in range(5):
        picked = [_ANSWERS[(i + k) % len(_ANSWERS)] for k in range(3)]
        lines = [
            f"Interviewer: Vraag {k + 1}?\nR: {text}\n" for k, (text, _, _) in enumerate(picked)
        ]
        f = tmp_path / f"interview{i + 1}.txt"
        f.write_text("".join(lines), encoding="utf-8")
        files.append((f, picked))
    run_json(["project", "new", "studie"])
    paths = [str(f) for f, _ in files]
    added = run_json(["project", "add", "studie", *paths, "--keep-names", "--no-report-evidence"])
    assert len(added["added"]) == 5 and added["models"]
    for f, picked in files:
        for coder, column in (("anna", 1), ("bert", 2)):
            typed = "".join(f"{row[column]}\n" for row in picked)
            result = run_json(
                ["code", f.name, "--project", "studie", "--coder", coder, "--blind"], typed
            )
            assert result["reviewed"] == 3

    report = run_json(["agree", "studie"])
    assistant = report["assistant"]
    assert assistant.startswith("watwerkt-suggester cimo-")
    assert report["coders"] == ["anna", "bert", assistant]
    humans = next(p for p in report["pairs"] if (p["a"], p["b"]) == ("anna", "bert"))
    assert humans["segments_compared"] == 15
    # anna and bert differ on T-nazorg (bert adds it) and on M/O of one sentence
    assert 0 < humans["pooled"]["kappa"] < 1
    assert 0 < humans["pooled"]["agreement"] < 1
    assert set(humans["per_code"]) >= {"C", "I", "M", "O", "T-nazorg"}
    assert humans["per_code"]["C"]["kappa"] == 1.0  # both coded the same sentences C
    assert -1 <= humans["alpha_cimo"] < 1
    assert len(humans["per_code_transcript"]) == 5 * len(report["codes"])
    assert report["alpha"]["cimo"] is not None
    assert {p["b"] for p in report["pairs"] if p["a"] in ("anna", "bert")} >= {assistant}
    versus = {v["human"]: v for v in report["assistant_vs_humans"]}
    assert set(versus) == {"anna", "bert"}
    assert versus["anna"]["segments"] == 15
    assert all(
        0 <= s["f1"] <= 1 for s in versus["anna"]["per_code"].values() if s["f1"] is not None
    )
    codes = [d["code"] for d in report["disagreements"]]
    assert codes == sorted(codes)
    assert {"M", "O", "T-nazorg"} <= set(codes)
    only_humans = run_json(["agree", "studie", "--coders", "anna", "bert"])
    assert only_humans["coders"] == ["anna", "bert"] and only_humans["assistant_vs_humans"] == []
