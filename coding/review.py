"""The coder's decisions on suggested codes, kept in a small SQLite file per transcript.

A decision is "accepted" (the suggestion is right), "changed" (the coder chose other codes) or
"rejected" (no code). The segment's text is stored beside the decision: a decision is only
re-applied to a segment with the same id *and* the same text, so re-segmenting a transcript or
opening it with names kept never attaches a decision to the wrong words.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import CodingError

DECISIONS = ("accepted", "changed", "rejected")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    segment_id TEXT PRIMARY KEY,
    decision   TEXT NOT NULL CHECK (decision IN ('accepted', 'changed', 'rejected')),
    codes      TEXT NOT NULL,
    text       TEXT NOT NULL DEFAULT '',
    updated    TEXT NOT NULL
)
"""


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
    """Decisions per segment id in ``path`` (created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per call (the UI calls from several threads), committed and closed."""
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(self.path, timeout=10)
            except (OSError, sqlite3.Error) as exc:
                raise CodingError(
                    f"review store {self.path} cannot be opened ({exc}); check the folder"
                ) from exc
            try:
                con.execute(_SCHEMA)
                yield con
                con.commit()
            finally:
                con.close()

    def set_decision(
        self, segment_id: str, decision: str, codes: Iterable[str] = (), text: str = ""
    ) -> Decision:
        """Record (or replace) the decision on one segment."""
        if decision not in DECISIONS:
            raise CodingError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        chosen = () if decision == "rejected" else tuple(dict.fromkeys(c for c in codes if c))
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?)",
                (segment_id, decision, "\t".join(chosen), text, stamp),
            )
        return Decision(segment_id, decision, chosen, text, stamp)

    def clear(self, segment_id: str) -> None:
        """Forget the decision on one segment (back to "open")."""
        with self._connect() as con:
            con.execute("DELETE FROM decisions WHERE segment_id = ?", (segment_id,))

    def decisions(self) -> dict[str, Decision]:
        """Every recorded decision by segment id."""
        if not self.path.exists():
            return {}
        with self._connect() as con:
            rows = con.execute(
                "SELECT segment_id, decision, codes, text, updated FROM decisions"
            ).fetchall()
        return {
            sid: Decision(sid, decision, tuple(c for c in codes.split("\t") if c), text, updated)
            for sid, decision, codes, text, updated in rows
        }

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
