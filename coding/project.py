"""The project store: one SQLite database per study, with its transcripts and everyone's codings.

``WATWERKT_HOME/projects/<name>/project.sqlite`` holds the pseudonymised transcripts (with
attributes such as alliance, role and date), their segments, the assistant's suggestions (model
version, scores, evidence), the codings of every named coder (accepted / changed / rejected /
added, with a timestamp), memos and CMO configurations.

What the store promises:

* WAL journal, ``synchronous=FULL``, foreign keys on; every write runs in one ``BEGIN IMMEDIATE``
  transaction, so a coding that was committed survives the process being killed at any moment.
* The schema carries a version (table ``schema_version``); ``migrate`` brings an older database
  up to ``SCHEMA_VERSION`` and refuses one written by a newer watwerkt.
* The folder is created 0700 and the database 0600 (SQLite gives its -wal/-shm files the
  database's mode): transcripts are pseudonymised, but they are still interviews.
* A coder's codings on a segment are replaced as a whole: the rows of (segment, coder) always
  describe one decision.

The records live in ``coding.project_records`` (re-exported here), the schema and its
migrations in ``coding.project_schema``, adding files and suggesting for them in
``coding.project_add``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .codebook import Codebook, load_codebook
from .errors import CodingError
from .models import CodedTranscript, Evidence, Segment, Transcript
from .project_records import (  # noqa: F401  (re-exported)
    KEPT,
    STATUSES,
    Coding,
    Memo,
    StoredSegment,
    StoredTranscript,
    Suggestion,
)
from .project_schema import SCHEMA_VERSION, migrate  # noqa: F401  (re-exported)

DB_NAME = "project.sqlite"
VERDICTS = ("supports", "refutes", "refines")
ASSISTANT_PREFIX = "watwerkt-suggester"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HASH_DIR = re.compile(r"^[0-9a-f]{16}$")  # the per-file folders of `watwerkt code` / the app


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def assistant_coder(model: str) -> str:
    """The assistant's name as a coder, from the model version of its suggestions."""
    return f"{ASSISTANT_PREFIX} {model}"


# -- the store -----------------------------------------------------------------------------------
def projects_root(home: Path) -> Path:
    return Path(home) / "projects"


def check_name(name: str) -> str:
    if not _NAME.match(name) or _HASH_DIR.match(name):
        raise CodingError(
            f"project name {name!r} is not usable; use letters, digits, '.', '_' or '-' "
            "(at most 64, not a 16-digit hex string)"
        )
    return name


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def create_project(home: Path, name: str, codebook: Codebook | None = None) -> ProjectStore:
    """A new, empty project (an error if it exists)."""
    folder = projects_root(home) / check_name(name)
    if (folder / DB_NAME).exists():
        raise CodingError(f"project {name!r} exists already; see `watwerkt project list`")
    _private_dir(projects_root(home))
    _private_dir(folder)
    store = ProjectStore(folder / DB_NAME)
    book = codebook or load_codebook()
    with store.transaction() as con:
        con.execute("INSERT INTO meta VALUES ('name', ?)", (name,))
        con.execute("INSERT INTO meta VALUES ('created', ?)", (now(),))
        con.execute("INSERT INTO meta VALUES ('codebook', ?)", (book.model_dump_json(),))
    return store


def open_project(home: Path, name: str) -> ProjectStore:
    path = projects_root(home) / check_name(name) / DB_NAME
    if not path.is_file():
        raise CodingError(f"no project {name!r}; create it with `watwerkt project new {name}`")
    return ProjectStore(path)


def list_projects(home: Path) -> list[str]:
    root = projects_root(home)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / DB_NAME).is_file())


class ProjectStore:
    """One project database; safe to share between the threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            if not self.path.exists():
                _private_dir(self.path.parent)
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            self._con = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=FULL")
            self._con.execute("PRAGMA foreign_keys=ON")
            self.version = migrate(self._con)
        except (OSError, sqlite3.Error) as exc:
            raise CodingError(
                f"project database {self.path} cannot be opened ({exc}); check the folder"
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> ProjectStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back on any error."""
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise CodingError(f"project {self.path} is busy or locked ({exc}); retry") from exc
            try:
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise CodingError(f"project {self.path}: write failed ({exc})") from exc
                raise

    def read(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Rows of one read-only query."""
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    # -- project ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.meta("name") or self.path.parent.name

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def codebook(self) -> Codebook:
        raw = self.meta("codebook")
        return Codebook.model_validate_json(raw) if raw else load_codebook()

    def integrity(self) -> str:
        return str(self.read("PRAGMA integrity_check")[0][0])

    # -- transcripts and segments ----------------------------------------------------------------
    def add_transcript(
        self,
        transcript: Transcript,
        segments: Sequence[Segment],
        *,
        source_sha256: str = "",
        alliance: str | None = None,
        role: str | None = None,
        date: str | None = None,
    ) -> StoredTranscript:
        """Store a (pseudonymised) transcript and its segments; its name must be new."""
        if self.transcript(transcript.name) is not None:
            raise CodingError(
                f"project {self.name!r} has a transcript {transcript.name!r} already; "
                "rename the file to add another"
            )
        for seg in segments:
            if transcript.text[seg.start : seg.end] != seg.text:
                raise CodingError(f"segment {seg.id}: offsets do not match its text")
        digest = source_sha256 or hashlib.sha256(transcript.text.encode("utf-8")).hexdigest()
        stamp = now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO transcripts (name, text, pseudonymised, source_sha256, alliance, "
                "role, date, added) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    transcript.name,
                    transcript.text,
                    int(transcript.pseudonymised),
                    digest,
                    alliance,
                    role,
                    date,
                    stamp,
                ),
            )
            tid = int(cur.lastrowid or 0)
            con.executemany(
                'INSERT INTO segments (transcript_id, key, speaker, start, "end", text, turn, '
                "timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (tid, s.id, s.speaker, s.start, s.end, s.text, s.turn, s.timestamp)
                    for s in segments
                ],
            )
        found = self.transcript(transcript.name)
        assert found is not None
        return found

    _T_COLS = "id, name, text, pseudonymised, source_sha256, alliance, role, date, added"

    def transcripts(self) -> list[StoredTranscript]:
        rows = self.read(f"SELECT {self._T_COLS} FROM transcripts ORDER BY id")
        return [StoredTranscript(r[0], r[1], r[2], bool(r[3]), *r[4:]) for r in rows]

    def transcript(self, name: str) -> StoredTranscript | None:
        rows = self.read(f"SELECT {self._T_COLS} FROM transcripts WHERE name = ?", (name,))
        return (
            StoredTranscript(rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3]), *rows[0][4:])
            if rows
            else None
        )

    def segments(self, transcript_id: int | None = None) -> list[StoredSegment]:
        sql = (
            'SELECT id, transcript_id, key, speaker, start, "end", text, turn, timestamp '
            "FROM segments"
        )
        params: tuple = ()
        if transcript_id is not None:
            sql, params = sql + " WHERE transcript_id = ?", (transcript_id,)
        return [
            StoredSegment(*r) for r in self.read(sql + " ORDER BY transcript_id, start", params)
        ]

    # -- suggestions -----------------------------------------------------------------------------
    def add_suggestions(self, transcript_id: int, coded: CodedTranscript) -> int:
        """Store the assistant's suggestions for a transcript's segments (replacing the same
        model's); the number stored."""
        by_key = {s.key: s.id for s in self.segments(transcript_id)}
        stamp = now()
        rows = []
        for cs in coded.segments:
            sid = by_key.get(cs.segment.id)
            if sid is None:
                raise CodingError(
                    f"suggestion for segment {cs.segment.id} that the project does not have"
                )
            rows.append(
                (
                    sid,
                    coded.model,
                    cs.cimo,
                    json.dumps(cs.cimo_scores),
                    json.dumps([[t.code, t.score] for t in cs.themes]),
                    json.dumps([[e.kind, e.text, e.detail, e.score] for e in cs.evidence]),
                    stamp,
                )
            )
        with self.transaction() as con:
            con.executemany(
                "INSERT OR REPLACE INTO suggestions (segment_id, model, cimo, scores, themes, "
                "evidence, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return len(rows)

    def models(self) -> list[str]:
        """Model versions with suggestions, the most recent first."""
        rows = self.read("SELECT model, max(created) FROM suggestions GROUP BY model")
        return [m for m, _ in sorted(rows, key=lambda r: r[1], reverse=True)]

    def suggestions(
        self, model: str | None = None, transcript_id: int | None = None
    ) -> dict[int, Suggestion]:
        """Segment id -> suggestion of ``model`` (default: the most recent model)."""
        models = self.models()
        model = model or (models[0] if models else None)
        if model is None:
            return {}
        sql = (
            "SELECT s.segment_id, s.model, s.cimo, s.scores, s.themes, s.evidence, s.created "
            "FROM suggestions s JOIN segments g ON g.id = s.segment_id WHERE s.model = ?"
        )
        params: list[object] = [model]
        if transcript_id is not None:
            sql += " AND g.transcript_id = ?"
            params.append(transcript_id)
        out = {}
        for sid, mdl, cimo, scores, themes, evidence, created in self.read(sql, params):
            out[sid] = Suggestion(
                sid,
                mdl,
                cimo,
                json.loads(scores),
                tuple((c, float(s)) for c, s in json.loads(themes)),
                tuple(Evidence(k, t, d, float(s)) for k, t, d, s in json.loads(evidence)),
                created,
            )
        return out

    # -- codings ---------------------------------------------------------------------------------
    def set_coding(
        self, segment_id: int, coder: str, codes: Iterable[str], status: str
    ) -> list[Coding]:
        """Replace ``coder``'s decision on one segment: ``codes`` with ``status``.

        A rejection names the rejected codes (or none: "no code applies here").
        """
        coder = coder.strip()
        if not coder:
            raise CodingError("a coding needs a coder name; pass --coder NAME")
        if status not in STATUSES:
            raise CodingError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        chosen = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
        if status != "rejected" and not chosen:
            raise CodingError(f"status {status} needs at least one code")
        if status == "rejected" and not chosen:
            chosen = [""]
        stamp = now()
        with self.transaction() as con:
            if con.execute("SELECT 1 FROM segments WHERE id = ?", (segment_id,)).fetchone() is None:
                raise CodingError(f"segment {segment_id} is not in project {self.name!r}")
            con.execute(
                "DELETE FROM codings WHERE segment_id = ? AND coder = ?", (segment_id, coder)
            )
            ids = [
                con.execute(
                    "INSERT INTO codings (segment_id, coder, code, status, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (segment_id, coder, code, status, stamp),
                ).lastrowid
                for code in chosen
            ]
        return [
            Coding(int(i or 0), segment_id, coder, c, status, stamp)
            for i, c in zip(ids, chosen, strict=True)
        ]

    def clear_coding(self, segment_id: int, coder: str) -> None:
        with self.transaction() as con:
            con.execute(
                "DELETE FROM codings WHERE segment_id = ? AND coder = ?", (segment_id, coder)
            )

    def codings(self, coder: str | None = None, transcript_id: int | None = None) -> list[Coding]:
        sql = (
            "SELECT c.id, c.segment_id, c.coder, c.code, c.status, c.created FROM codings c "
            "JOIN segments g ON g.id = c.segment_id WHERE 1 = 1"
        )
        params: list[object] = []
        if coder is not None:
            sql += " AND c.coder = ?"
            params.append(coder)
        if transcript_id is not None:
            sql += " AND g.transcript_id = ?"
            params.append(transcript_id)
        return [Coding(*r) for r in self.read(sql + " ORDER BY c.id", params)]

    def coders(self) -> list[str]:
        return [r[0] for r in self.read("SELECT DISTINCT coder FROM codings ORDER BY coder")]

    # -- memos -----------------------------------------------------------------------------------
    def add_memo(
        self,
        text: str,
        coder: str,
        *,
        transcript_id: int | None = None,
        segment_id: int | None = None,
    ) -> Memo:
        if not text.strip():
            raise CodingError("a memo needs text")
        stamp = now()
        with self.transaction() as con:
            cur = con.execute(
                "INSERT INTO memos (transcript_id, segment_id, coder, text, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (transcript_id, segment_id, coder, text, stamp),
            )
        return Memo(int(cur.lastrowid or 0), transcript_id, segment_id, coder, text, stamp)

    def memos(self) -> list[Memo]:
        rows = self.read(
            "SELECT id, transcript_id, segment_id, coder, text, created FROM memos ORDER BY id"
        )
        return [Memo(*r) for r in rows]

    # -- overview --------------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """Counts for `watwerkt project status`: per transcript, segments and who coded how many."""
        by_transcript = []
        for t in self.transcripts():
            segs = self.segments(t.id)
            coded: dict[str, set[int]] = {}
            for c in self.codings(transcript_id=t.id):
                coded.setdefault(c.coder, set()).add(c.segment_id)
            by_transcript.append(
                {
                    "name": t.name,
                    "alliance": t.alliance,
                    "role": t.role,
                    "date": t.date,
                    "segments": len(segs),
                    "suggested": len(self.suggestions(transcript_id=t.id)),
                    "reviewed": {k: len(v) for k, v in sorted(coded.items())},
                }
            )
        return {
            "project": self.name,
            "schema_version": self.version,
            "models": self.models(),
            "coders": self.coders(),
            "transcripts": by_transcript,
        }
