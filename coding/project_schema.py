"""The project database's schema and its migrations (see ``coding.project``)."""

from __future__ import annotations

import sqlite3

from .errors import CodingError

SCHEMA_VERSION = 1

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE transcripts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    text          TEXT NOT NULL,
    pseudonymised INTEGER NOT NULL CHECK (pseudonymised IN (0, 1)),
    source_sha256 TEXT NOT NULL,
    alliance      TEXT,
    role          TEXT,
    date          TEXT,
    added         TEXT NOT NULL
);
CREATE TABLE segments (
    id            INTEGER PRIMARY KEY,
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id) ON DELETE CASCADE,
    key           TEXT NOT NULL,
    speaker       TEXT NOT NULL,
    start         INTEGER NOT NULL CHECK (start >= 0),
    "end"         INTEGER NOT NULL CHECK ("end" > start),
    text          TEXT NOT NULL,
    turn          INTEGER NOT NULL,
    timestamp     TEXT,
    UNIQUE (transcript_id, key)
);
CREATE TABLE suggestions (
    id         INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    cimo       TEXT,
    scores     TEXT NOT NULL,
    themes     TEXT NOT NULL,
    evidence   TEXT NOT NULL,
    created    TEXT NOT NULL,
    UNIQUE (segment_id, model)
);
CREATE TABLE codings (
    id         INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    coder      TEXT NOT NULL CHECK (coder <> ''),
    code       TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('accepted', 'changed', 'rejected', 'added')),
    created    TEXT NOT NULL,
    CHECK (code <> '' OR status = 'rejected'),
    UNIQUE (segment_id, coder, code)
);
CREATE INDEX codings_by_coder ON codings (coder, segment_id);
CREATE TABLE memos (
    id            INTEGER PRIMARY KEY,
    transcript_id INTEGER REFERENCES transcripts(id) ON DELETE CASCADE,
    segment_id    INTEGER REFERENCES segments(id) ON DELETE CASCADE,
    coder         TEXT NOT NULL,
    text          TEXT NOT NULL,
    created       TEXT NOT NULL
);
CREATE TABLE configurations (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    statement TEXT NOT NULL,
    verdict   TEXT CHECK (verdict IS NULL OR verdict IN ('supports', 'refutes', 'refines')),
    theory    TEXT NOT NULL DEFAULT '',
    coder     TEXT NOT NULL,
    created   TEXT NOT NULL,
    updated   TEXT NOT NULL
);
CREATE TABLE configuration_segments (
    configuration_id INTEGER NOT NULL REFERENCES configurations(id) ON DELETE CASCADE,
    segment_id       INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    role             TEXT NOT NULL
                     CHECK (role IN ('C', 'I', 'M', 'M-resource', 'M-reasoning', 'O')),
    PRIMARY KEY (configuration_id, segment_id, role)
);
CREATE TABLE configuration_links (
    id               INTEGER PRIMARY KEY,
    configuration_id INTEGER NOT NULL REFERENCES configurations(id) ON DELETE CASCADE,
    report           TEXT NOT NULL,
    section          TEXT NOT NULL DEFAULT '',
    page             INTEGER,
    quote            TEXT NOT NULL DEFAULT ''
);
"""

# version reached -> the statements that reach it from the version before
MIGRATIONS: dict[int, str] = {1: _V1}


def migrate(con: sqlite3.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION, one migration per transaction; the version now."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    version = int(row[0] or 0)
    if version > SCHEMA_VERSION:
        raise CodingError(
            f"project database has schema {version}, this watwerkt knows up to "
            f"{SCHEMA_VERSION}; upgrade watwerkt"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN IMMEDIATE")
        try:
            # another process may have migrated while this one waited for the lock
            done = con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
            if done < target:
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        con.execute(statement)
                con.execute("INSERT INTO schema_version VALUES (?)", (target,))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        version = target
    return version
