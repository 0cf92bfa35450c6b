"""The clean-up on layouts it has never seen: the bundled report re-typeset, read back, scored.

Each variant is a few pages of the report (plus tables and an appendix dense in real hyphens)
laid out anew by benchmarks/retypeset.py, which knows every line-end hyphen it wrote. The
figures for the full report and more layouts are in benchmarks/README.md.
"""

from __future__ import annotations

import pytest

from benchmarks.retypeset import Variant, run_variant

SMALL = dict(max_blocks=45, appendix=12)
VARIANTS = [
    Variant("narrow-times", font="Times-Roman", size=10, page=(420.0, 595.0), margin=44, **SMALL),
    Variant(
        "two-columns-by-rows",
        size=9,
        columns=2,
        by_rows=True,
        alternate_header=True,
        footer="- {page} -",
        seed=21,
        **SMALL,
    ),
    Variant(
        "wide-courier-header-last",
        font="Courier",
        size=8.5,
        page=(842.0, 595.0),
        margin=48,
        header="Hoofdstuk {n} - {chapter}",
        footer="{title} · pagina {page}",
        header_last=True,
        seed=22,
        **SMALL,
    ),
]


@pytest.fixture(scope="module", params=VARIANTS, ids=[v.name for v in VARIANTS])
def scores(request, tmp_path_factory):
    result, _ = run_variant(request.param, tmp_path_factory.mktemp(request.param.name))
    return result


def test_retypeset_variant_has_enough_line_end_hyphens_to_measure(scores):
    assert scores.pages >= 3
    assert scores.soft >= 30 and scores.real >= 25, scores.as_dict()


def test_retypeset_line_break_hyphens_are_rejoined(scores):
    assert scores.rejoined_share >= 0.98, scores.examples["soft"]


def test_retypeset_real_hyphens_at_line_end_are_kept(scores):
    assert scores.kept_share >= 0.95, (scores.real_by_category, scores.examples["real"])


def test_retypeset_running_headers_and_footers_do_not_leak(scores):
    assert scores.leaks == 0, scores.examples["leaks"]


def test_retypeset_table_headers_and_body_lines_are_no_sections(scores):
    assert scores.false_headings == 0, scores.examples["headings"]
    assert scores.missed_headings == 0
