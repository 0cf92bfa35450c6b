"""One coder's decisions on one transcript: a view over a project database (``coding.project``).

A decision is "accepted" (the suggestion is right), "changed" (the coder chose other codes) or
"rejected" (no code); it is stored as that coder's codings on the segment. The app keeps one
small project per transcript file (``WATWERKT_HOME/projects/<hash>/review.sqlite``); a team
project works the same way with a named coder.

A decision is only re-applied to a segment with the same id *and* the same text, so
re-segmenting a transcript or opening it with names kept never attaches a decision to the wrong
words. A ``review.sqlite`` written before the project store (a ``decisions`` table) is moved into
the project tables the first time its transcript is opened.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import CodingError
from .models import CodedTranscript
from .project import ProjectStore, StoredTranscript

DECISIONS = ("accepted", "changed", "rejected")
DEFAULT_CODER = "coder"
_open_stores: dict[Path, ProjectStore] = {}
_open_lock = threading.Lock()


def _store_at(path: Path) -> ProjectStore:
    """One open project database per file in this process (the app opens a view per call)."""
    key = Path(path).resolve()
    with _open_lock:
        store = _open_stores.get(key)
        if store is None or not key.exists():
            store = _open_stores[key] = ProjectStore(key)
        return store


@dataclass(frozen=True, slots=True)
class Decision:
    segment_id: str
    decision: str  # "accepted" | "changed" | "rejected"
    codes: tuple[str, ...]
    text: str = ""
    updated: str = ""

    @property
    def keeps_codes(self) -> bool:
        """Accepted or changed: the codes go into an export."""
        return self.decision != "rejected"


class ReviewStore:
    """``coder``'s decisions per segment id of ``coded``, in the project database at ``path``
    (or in an open ``ProjectStore``)."""

    def __init__(
        self, path: Path | ProjectStore, coded: CodedTranscript, coder: str = DEFAULT_CODER
    ) -> None:
        self.project = path if isinstance(path, ProjectStore) else _store_at(Path(path))
        self.path = self.project.path
        self.coder = coder
        self._transcript = self._register(coded)
        self._keys = {s.key: s for s in self.project.segments(self._transcript.id)}
        self._adopt_legacy()

    def _register(self, coded: CodedTranscript) -> StoredTranscript:
        """This transcript (by its text) in the project, added with its segments if new."""
        text = coded.transcript.text
        for t in self.project.transcripts():
            if t.text == text:
                return t
        taken = {t.name for t in self.project.transcripts()}
        name = coded.transcript.name
        if name in taken:  # the same file opened with names kept (or pseudonymised again)
            name = f"{name} ({hashlib.sha256(text.encode('utf-8')).hexdigest()[:8]})"
        renamed = type(coded.transcript)(
            name, text, coded.transcript.turns, coded.transcript.pseudonymised
        )
        return self.project.add_transcript(renamed, [cs.segment for cs in coded.segments])

    def _adopt_legacy(self) -> None:
        """Move the rows of an old ``decisions`` table whose segment still matches."""
        legacy = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'decisions'"
        if not self.project.read(legacy):
            return
        with self.project.transaction() as con:
            if not con.execute(legacy).fetchone():
                return
            rows = con.execute(
                "SELECT segment_id, decision, codes, text, updated FROM decisions"
            ).fetchall()
            for key, decision, codes, text, updated in rows:
                seg = self._keys.get(key)
                if seg is None or (text and text != seg.text):
                    continue
                chosen = [c for c in codes.split("\t") if c]
                if decision != "rejected" and not chosen:
                    continue
                con.execute(
                    "DELETE FROM codings WHERE segment_id = ? AND coder = ?", (seg.id, self.coder)
                )
                for code in chosen or [""]:
                    con.execute(
                        "INSERT INTO codings (segment_id, coder, code, status, created) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (seg.id, self.coder, code, decision, updated),
                    )
                con.execute("DELETE FROM decisions WHERE segment_id = ?", (key,))
            if not con.execute("SELECT 1 FROM decisions LIMIT 1").fetchone():
                con.execute("DROP TABLE decisions")

    def set_decision(
        self, segment_id: str, decision: str, codes: Iterable[str] = (), text: str = ""
    ) -> Decision:
        """Record (or replace) the decision on one segment."""
        if decision not in DECISIONS:
            raise CodingError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        seg = self._keys.get(segment_id)
        if seg is None or (text and text != seg.text):
            raise CodingError(f"segment {segment_id} is not in this transcript; open it again")
        rows = self.project.set_coding(seg.id, self.coder, list(codes), decision)
        kept = () if decision == "rejected" else tuple(r.code for r in rows)
        return Decision(segment_id, decision, kept, seg.text, rows[0].created)

    def clear(self, segment_id: str) -> None:
        """Forget the decision on one segment (back to "open")."""
        seg = self._keys.get(segment_id)
        if seg is not None:
            self.project.clear_coding(seg.id, self.coder)

    def decisions(self) -> dict[str, Decision]:
        """Every decision by segment id: this transcript's, else the latest on a segment of the
        same id in another version of it (``matching`` then checks the text)."""
        segments = {s.id: s for s in self.project.segments()}
        grouped: dict[int, list] = {}
        for c in self.project.codings(self.coder):
            grouped.setdefault(c.segment_id, []).append(c)
        found: dict[str, tuple[bool, str, Decision]] = {}
        for sid, rows in grouped.items():
            seg = segments[sid]
            status = rows[0].status
            codes = () if status == "rejected" else tuple(r.code for r in rows if r.code)
            d = Decision(seg.key, status, codes, seg.text, max(r.created for r in rows))
            rank = (seg.transcript_id == self._transcript.id, d.updated, d)
            if seg.key not in found or rank[:2] > found[seg.key][:2]:
                found[seg.key] = rank
        return {key: d for key, (_, _, d) in found.items()}

    def matching(self, texts: Mapping[str, str]) -> dict[str, Decision]:
        """The decisions whose segment still has the stored text (``texts``: id -> text)."""
        return {
            sid: d
            for sid, d in self.decisions().items()
            if sid in texts and (not d.text or d.text == texts[sid])
        }

    def accepted(self, texts: Mapping[str, str] | None = None) -> dict[str, list[str]]:
        """Segment id -> codes for the accepted or changed segments, for ``write_qdpx``."""
        found = self.matching(texts) if texts is not None else self.decisions()
        return {sid: list(d.codes) for sid, d in found.items() if d.keeps_codes and d.codes}
