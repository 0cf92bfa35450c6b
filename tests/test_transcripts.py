"""Transcript import and segmentation: speaker turns, exact offsets, any input encoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from coding.errors import CodingError
from coding.segment import segment
from coding.transcripts import load_transcript, normalise, parse_turns

INTERVIEW = (
    "Interviewer: Hoe ging het met je stage?\n"
    "Fatima: Nou, eh, in het begin best lastig. Maar mijn coach belde me elke week, ook in de "
    "vakantie, waardoor ik me eindelijk serieus genomen voelde door iemand die luisterde.\n"
    "I: En daarna?\n"
    "R: Toen kreeg ik een contract bij de bakker. 👍 Het café vond ik ook leuk.\n"
)


def _segments_hold(transcript) -> list:
    segs = segment(transcript)
    for s in segs:
        assert transcript.text[s.start : s.end] == s.text
        assert transcript.turns[s.turn].role == "respondent"
    return segs


@pytest.mark.parametrize(
    ("line", "speaker", "role"),
    [
        ("Interviewer: Hoe gaat het?", "Interviewer", "interviewer"),
        ("I: Hoe gaat het?", "I", "interviewer"),
        ("R: Goed.", "R", "respondent"),
        ("Fatima El Amrani: Goed.", "Fatima El Amrani", "respondent"),
        ("[Kevin] Goed hoor.", "Kevin", "respondent"),
        ("[00:01:23] Sanne: Goed.", "Sanne", "respondent"),
        ("00:01:23 Coach: Ja.", "Coach", "respondent"),
        ("[PERSOON-3]: Dat klopt.", "[PERSOON-3]", "respondent"),
    ],
)
def test_speaker_labels_in_the_forms_transcripts_use(line: str, speaker: str, role: str):
    (turn,) = parse_turns(normalise(line))
    assert (turn.speaker, turn.role) == (speaker, role)


def test_unlabelled_lines_continue_the_turn():
    text = normalise("Sanne: Eerste zin.\nTweede regel van Sanne.\nI: Vraag?\n")
    turns = parse_turns(text)
    assert [t.speaker for t in turns] == ["Sanne", "I"]
    assert text[turns[0].start : turns[0].end] == "Eerste zin.\nTweede regel van Sanne."


@pytest.mark.parametrize(
    "variant",
    [
        lambda s: s,
        lambda s: s.replace("\n", "\r\n"),  # Windows line ends
        lambda s: s.replace("café", "cafe\u0301"),  # decomposed accent
        lambda s: "\ufeff" + s,  # byte-order mark
    ],
)
def test_segment_offsets_are_exact_for_any_input(tmp_path: Path, variant):
    path = tmp_path / "interview.txt"
    path.write_bytes(variant(INTERVIEW).encode("utf-8"))
    transcript = load_transcript(path)
    assert "\r" not in transcript.text and "\ufeff" not in transcript.text
    assert "café" in transcript.text  # NFC
    segs = _segments_hold(transcript)
    assert any("👍" in s.text or "café" in s.text for s in segs)
    assert not any("Hoe ging het" in s.text for s in segs), "interviewer turns are not coded"


def test_long_sentences_split_at_a_clause_connective(tmp_path: Path):
    path = tmp_path / "i.txt"
    path.write_text(INTERVIEW, encoding="utf-8")
    texts = [s.text for s in _segments_hold(load_transcript(path))]
    assert any(t.startswith("waardoor ik me eindelijk serieus genomen") for t in texts)
    assert "Nou, eh, in het begin best lastig." in texts


def test_vtt_and_srt_keep_speakers_and_timestamps(tmp_path: Path):
    vtt = tmp_path / "a.vtt"
    vtt.write_text(
        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>Hoe gaat het?</v>\n\n"
        "2\n00:00:04.500 --> 00:00:08.000\n<v Sanne>Ik werk nu bij de bakker.</v>\n\n"
        "3\n00:00:08.000 --> 00:00:09.500\n<v Sanne>Al drie maanden, dankzij mijn coach.</v>\n",
        encoding="utf-8",
    )
    t = load_transcript(vtt)
    assert [(x.speaker, x.role, x.timestamp) for x in t.turns] == [
        ("Interviewer", "interviewer", "00:00:01.000"),
        ("Sanne", "respondent", "00:00:04.500"),
    ]
    segs = _segments_hold(t)
    assert segs and all(s.timestamp == "00:00:04.500" for s in segs)
    srt = tmp_path / "b.srt"
    srt.write_text(
        "1\n00:00:01,000 --> 00:00:04,000\nInterviewer: Hoe gaat het?\n\n"
        "2\n00:00:04,500 --> 00:00:08,000\nKevin: Goed, ik heb mijn diploma gehaald.\n",
        encoding="utf-8",
    )
    assert [x.speaker for x in load_transcript(srt).turns] == ["Interviewer", "Kevin"]


def test_docx_transcripts(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_paragraph("Interviewer: Wat heb je geleerd?")
    document.add_paragraph("Mohammed: Op tijd komen, dat heb ik echt geleerd op de werkvloer.")
    path = tmp_path / "t.docx"
    document.save(str(path))
    t = load_transcript(path)
    assert [x.speaker for x in t.turns] == ["Interviewer", "Mohammed"]
    assert _segments_hold(t)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("leeg.txt", b"", "empty file"),
        ("x.pdf", b"%PDF-1.4", "unsupported transcript type"),
        ("kapot.vtt", b"WEBVTT\n\ngeen cues hier\n", "no caption cues"),
    ],
)
def test_bad_transcripts_give_a_clear_error(tmp_path: Path, name: str, content: bytes, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CodingError, match=message):
        load_transcript(path)


def test_a_title_before_the_first_speaker_is_context_not_coded():
    text = normalise("Interview jongeren en werk (fictief)\n\nI: Hoe gaat het?\nSanne: Goed.\n")
    turns = parse_turns(text)
    assert [(t.speaker, t.role) for t in turns] == [
        ("", "context"),
        ("I", "interviewer"),
        ("Sanne", "respondent"),
    ]
