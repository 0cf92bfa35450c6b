"""Typed records of the coding package."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker turn of a transcript; offsets index ``Transcript.text``."""

    speaker: str
    role: str  # "interviewer" | "respondent" | "context" (a title or header before the first turn)
    start: int
    end: int
    timestamp: str | None = None  # "00:01:23.400" from .vtt/.srt or "[00:01:23]" markers


@dataclass(frozen=True, slots=True)
class Transcript:
    """The stored plain text (LF, NFC, pseudonymised unless opted out) and its turns."""

    name: str
    text: str
    turns: tuple[Turn, ...]
    pseudonymised: bool = True


@dataclass(frozen=True, slots=True)
class Segment:
    """A codable unit of a respondent turn. Invariant: transcript.text[start:end] == text."""

    id: str
    speaker: str
    start: int
    end: int
    text: str
    turn: int
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a code is suggested: the cue matched, the nearest labelled example, a report passage."""

    kind: str  # "cue" | "example" | "report"
    text: str
    detail: str = ""  # the code of the example, or report/section/page
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class CodeSuggestion:
    code: str
    score: float
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class CodedSegment:
    segment: Segment
    cimo: str | None  # "C" | "I" | "M" | "O" | None
    cimo_scores: dict[str, float] = field(default_factory=dict)
    themes: tuple[CodeSuggestion, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class CodedTranscript:
    transcript: Transcript
    segments: tuple[CodedSegment, ...]
    model: str  # name and version of the suggesting model
