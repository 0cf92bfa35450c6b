"""Coderen: uncertain replacements highlighted before coding, and the coder's confirm / undo /
add-a-name (issue 10). The segments table never shows an original word; the review panel does,
to the coder only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("gradio")

from ui import app_coding, app_deid

TEXT = (
    "Interviewer: Hoe ging het op je stage?\n"
    "Respondent: Goed. Ik werkte samen met Qorvath, die kende ik van school. "
    "Mijn maat beer hielp ook. Qorvath zei dat ik goed was.\n"
    "Interviewer: En nu?\n"
    "Respondent: Nu werk ik, en beer ook. De Zonnebloem is een gebouw hier.\n"
)


@pytest.fixture
def session(built_app, tmp_path: Path) -> Iterator[app_coding.CodingSession]:
    """A transcript of its own (own project folder); the coder's name lists of the shared home
    are removed before and after, so no test sees another's corrections."""
    names = built_app.settings.home / "projects" / "coder_names.json"
    names.unlink(missing_ok=True)
    path = tmp_path / "gesprek.txt"
    path.write_text(TEXT + f"Interviewer: Dank je. (sessie {uuid.uuid4().hex[:8]})\n", "utf-8")
    yield app_coding.open_transcript(built_app, path, name="transcript.txt")
    names.unlink(missing_ok=True)


@pytest.mark.slow
def test_uncertain_replacements_are_marked_and_reviewed(built_app, session) -> None:
    marks = app_deid.uncertain(session)
    assert marks, session.replacements
    placeholder = next(iter(marks))
    word = app_deid._originals(session)[placeholder][0]
    table = app_coding.segments_html(session)
    assert 'class="ww-uncertain"' in table
    assert "Qorvath" not in table and word not in table, "no original word in the table"
    assert "onzeker" in app_coding.notice_markdown(session)
    panel = app_deid.review_html(session)
    assert placeholder in panel and word in panel, "the coder sees the word to judge it"

    confirmed = app_deid.confirm(session, placeholder)
    assert placeholder not in app_deid.uncertain(confirmed)
    assert placeholder not in app_coding.segments_html(confirmed).split("ww-uncertain")[-1][:40]


@pytest.mark.slow
def test_undo_brings_the_word_back_and_add_replaces_it_everywhere(built_app, session) -> None:
    placeholder = next(iter(app_deid.uncertain(session)))
    word = app_deid._originals(session)[placeholder][0]
    undone = app_deid.undo(built_app, session, placeholder)
    assert word in undone.coded.transcript.text and placeholder not in undone.coded.transcript.text

    added = app_deid.add(built_app, undone, "beer")
    text = added.coded.transcript.text
    assert "beer" not in text, "a name added once is replaced in the whole text"
    assert all("beer" not in cs.segment.text for cs in added.coded.segments)
    assert "beer" not in app_coding.segments_html(added)
    folder = built_app.settings.home / "projects"
    names = (folder / "coder_names.json").read_text(encoding="utf-8")
    assert "beer" in names and word in names  # added and kept, for every later transcript
