"""The records of the project store (``coding.project``): what a project holds, as frozen
dataclasses, and the coding statuses. ``coding.project`` re-exports them."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Evidence, Segment

STATUSES = ("accepted", "changed", "rejected", "added")
KEPT = ("accepted", "changed", "added")  # statuses whose codes apply to the segment


@dataclass(frozen=True, slots=True)
class StoredTranscript:
    id: int
    name: str
    text: str
    pseudonymised: bool
    source_sha256: str
    alliance: str | None = None
    role: str | None = None
    date: str | None = None
    added: str = ""


@dataclass(frozen=True, slots=True)
class StoredSegment:
    """A segment as stored; ``key`` is the segment id within its transcript (seg-0001)."""

    id: int
    transcript_id: int
    key: str
    speaker: str
    start: int
    end: int
    text: str
    turn: int
    timestamp: str | None = None

    def as_segment(self) -> Segment:
        return Segment(
            self.key, self.speaker, self.start, self.end, self.text, self.turn, self.timestamp
        )


@dataclass(frozen=True, slots=True)
class Suggestion:
    segment_id: int
    model: str
    cimo: str | None
    scores: dict[str, float]
    themes: tuple[tuple[str, float], ...]
    evidence: tuple[Evidence, ...]
    created: str

    def codes(self, theme_threshold: float) -> tuple[str, ...]:
        """The codes the assistant applies: its CIMO code and themes at or above the threshold."""
        chosen = [self.cimo] if self.cimo else []
        return tuple(chosen + [c for c, s in self.themes if s >= theme_threshold])


@dataclass(frozen=True, slots=True)
class Coding:
    id: int
    segment_id: int
    coder: str
    code: str  # "" only on a rejection that names no code
    status: str
    created: str

    @property
    def kept(self) -> bool:
        return self.status in KEPT and bool(self.code)


@dataclass(frozen=True, slots=True)
class Memo:
    id: int
    transcript_id: int | None
    segment_id: int | None
    coder: str
    text: str
    created: str
