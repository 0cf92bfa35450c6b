"""Transcript import: .txt/.md, .docx, .vtt, .srt into plain text with speaker turns.

The stored text is LF-only and NFC; every turn's offsets index it exactly. Speaker labels in the
forms transcripts use are recognised: ``Naam:``, ``I:``/``R:``, ``Interviewer:``, ``[Naam]``,
``[PERSOON-1]:``, optionally after a timestamp (``[00:01:23]`` or ``00:01:23``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from .errors import CodingError
from .models import Transcript, Turn

SUPPORTED = (".txt", ".md", ".docx", ".vtt", ".srt")
INTERVIEWER_LABELS = frozenset(
    {
        "i",
        "int",
        "interviewer",
        "interviewster",
        "onderzoeker",
        "interviewer 1",
        "v",
        "vraag",
        "q",
        "moderator",
        "gespreksleider",
    }
)
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
# A bracketed stamp may be malformed ("[0:1:5]"); it is still a stamp, never a speaker "[Naam]".
_LOOSE_TIME = r"\[\d{1,3}(?:[:.,;]\d{1,4}){1,3}\]"
_LABEL_RE = re.compile(
    rf"^(?P<ts>(?:{_LOOSE_TIME}|\[?{_TIME}\]?)\s+)?"
    r"(?:\[(?P<bracket>[^\W\d_][^\]\n]{0,39})\]:?|(?P<name>(?:\[[A-Z]+-\d+\]|[A-ZÀ-Ý][\w'.-]*)"
    r"(?:\s+(?:[A-ZÀ-Ý\[][\w'.\]-]*|van|de|der|den|el|al|ten|ter)){0,3}|[A-Z]):)"
    r"[ \t]*",
)
_CUE_TIME = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})")
# A cue timing row, well-formed or not ("00:00:01,000 -> 00:00:04", "0:1:2 --> x"): never text.
_TIMING_ROW = re.compile(r"-->|^\s*\d{1,3}[:.,]\d{1,3}[\d:.,]*\s*(?:-+>?|–|to)\s*\d")
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>(.*?)(?:</v>)?$")
# Bounds: an hour of interview is about 60 kB of text and codes in about a minute; three hours
# is allowed, which keeps time and memory bounded and every spaCy call far below max_length.
MAX_BYTES = 10 * 1024 * 1024  # the file (a .docx may hold images)
MAX_CHARS = 200_000  # its text: about 30,000 words, three hours of interview

Pseudonymiser = Callable[[str], str]


def normalise(text: str) -> str:
    """LF line ends, NFC, no BOM, no trailing spaces at line ends."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"


def read_transcript_text(path: Path) -> str:
    """The file's text as a plain transcript (vtt/srt become "Spreker: tekst" lines)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise CodingError(
            f"{path}: unsupported transcript type {suffix or '(none)'}; use {', '.join(SUPPORTED)}"
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CodingError(f"{path}: cannot be read ({exc.strerror}); check the path") from exc
    if size == 0:
        raise CodingError(f"{path}: empty file; export the transcript again")
    if size > MAX_BYTES:
        raise CodingError(
            f"{path}: transcript is {size / (1024 * 1024):.1f} MB (limit "
            f"{MAX_BYTES // (1024 * 1024)} MB); split it into interviews"
        )
    from ingest.errors import IngestError
    from ingest.readers import decode_text, read_docx

    try:
        text = (
            read_docx(path).pages[0] if suffix == ".docx" else decode_text(path.read_bytes(), path)
        )
    except IngestError as exc:
        raise CodingError(f"{path}: {exc.reason}") from exc
    if len(text) > MAX_CHARS:
        raise CodingError(
            f"{path}: transcript holds {len(text):,} characters (limit {MAX_CHARS:,}, about "
            "30,000 words); split it into interviews"
        )
    if suffix in (".vtt", ".srt"):
        try:
            return _captions_to_text(text)
        except CodingError as exc:
            raise CodingError(f"{path}: {exc}") from exc
    return text


def _captions_to_text(text: str) -> str:
    """WebVTT/SRT cues as "[hh:mm:ss] Spreker: tekst" lines; consecutive cues of a speaker merge."""
    lines: list[tuple[str, str | None, str]] = []  # (timestamp, speaker, text)
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        cue = False  # rows before a cue's timing (cue numbers, ids, NOTE, WEBVTT) are not text
        stamp: str | None = None
        rows = [r for r in block.split("\n") if r.strip()]
        for i, row in enumerate(rows):
            if row.strip().isdigit() and i + 1 < len(rows) and _TIMING_ROW.search(rows[i + 1]):
                continue  # an SRT cue number, even without the blank line before it
            if _TIMING_ROW.search(row):
                timing = _CUE_TIME.match(row)
                stamp = timing.group(1).replace(",", ".") if timing else None  # malformed: none
                cue = True
                continue
            if not cue:
                continue
            row = re.sub(r"</?(?:c|i|b|u)(?:\.[^>]*)?>", "", row).strip()
            voice = _VOICE.match(row)
            speaker, said = (
                (voice.group(1).strip(), voice.group(2).strip()) if voice else (None, row)
            )
            if speaker is None and (m := re.match(r"^([A-ZÀ-Ý][\w .'-]{0,30}):\s+(.*)$", row)):
                speaker, said = m.group(1), m.group(2)
            if lines and (speaker is None or speaker == lines[-1][1]):
                ts, sp, prev = lines[-1]
                lines[-1] = (ts, sp, f"{prev} {said}".strip())
            else:
                lines.append((stamp or "", speaker, said))
    if not lines:
        raise CodingError("no caption cues found (expected 00:00:01.000 --> 00:00:04.000 lines)")
    stamped = [(f"[{ts}] " if ts else "", sp, said) for ts, sp, said in lines]
    return (
        "\n".join(f"{ts}{sp}: {said}" if sp else f"{ts}{said}" for ts, sp, said in stamped) + "\n"
    )


def parse_turns(text: str) -> tuple[Turn, ...]:
    """Speaker turns of a normalised transcript; unlabelled text continues the current turn.

    A text without any speaker label becomes one respondent turn per paragraph.
    """
    turns: list[Turn] = []
    offset = 0
    current: dict[str, object] | None = None
    labelled = False

    def close(end: int) -> None:
        nonlocal current
        if current is not None:
            start = int(current["start"])  # type: ignore[call-overload]
            while start < end and text[start].isspace():
                start += 1
            stop = end
            while stop > start and text[stop - 1].isspace():
                stop -= 1
            if stop > start:
                turns.append(
                    Turn(
                        str(current["speaker"]),
                        str(current["role"]),
                        start,
                        stop,
                        None if current["ts"] is None else str(current["ts"]),
                    )
                )
        current = None

    for line in text.split("\n"):
        match = _LABEL_RE.match(line) if line.strip() else None
        if match and len(line) > match.end() - 1:
            labelled = True
            close(offset)
            label = (match.group("bracket") or match.group("name") or "").strip()
            if re.fullmatch(r"[A-Z]+-\d+", label):
                label = f"[{label}]"  # a pseudonym placeholder keeps its brackets
            ts = match.group("ts")
            role = (
                "interviewer" if label.lower().rstrip(".") in INTERVIEWER_LABELS else ("respondent")
            )
            current = {
                "speaker": label,
                "role": role,
                "start": offset + match.end(),
                "ts": ts.strip().strip("[]") if ts else None,
            }
        elif not line.strip() and current is None and not labelled:
            pass
        elif current is None and line.strip():
            current = {"speaker": "", "role": "respondent", "start": offset, "ts": None}
        elif not line.strip() and not labelled:
            close(offset)
        offset += len(line) + 1
    close(len(text))
    if labelled:  # text before the first speaker label is a title or header: context, not coded
        return tuple(
            Turn("", "context", t.start, t.end, t.timestamp) if not t.speaker else t for t in turns
        )
    return tuple(Turn(t.speaker or "R", t.role, t.start, t.end, t.timestamp) for t in turns)


def load_transcript(
    path: Path, pseudonymiser: Pseudonymiser | None = None, name: str | None = None
) -> Transcript:
    """Read, normalise, pseudonymise (when given) and split a transcript into turns."""
    path = Path(path)
    text = normalise(read_transcript_text(path))
    if pseudonymiser is not None:
        text = normalise(pseudonymiser(text))
    turns = parse_turns(text)
    if not turns:
        raise CodingError(f"{path}: no text found in the transcript")
    return Transcript(
        name=name or path.name, text=text, turns=turns, pseudonymised=pseudonymiser is not None
    )
