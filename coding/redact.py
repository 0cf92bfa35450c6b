"""The coder's corrections to the pseudonymisation, applied to what is already stored.

A name the pseudonymiser missed and the coder adds later (``add_name``) goes into
``WATWERKT_HOME/projects/coder_names.json`` (so every later pseudonymisation replaces it, in
every transcript), gets a placeholder in each stored name mapping, and is replaced in every
SQLite store beside a mapping (the review decisions, the project database with its transcripts
and segments). Later exports are made from those stores, so they never hold it. A word the coder
marks as no name (``keep_word``) is kept from the next pseudonymisation on.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from .errors import CodingError
from .pipeline import load_coder_names, save_coder_names
from .pseudonymise import KINDS, load_mapping, save_mapping

_FTS_SHADOW = re.compile(r".+_(?:content|data|idx|docsize|config)$")


def _placeholder(mapping: dict[str, str], phrase: str, kind: str) -> str:
    """The placeholder a phrase has in a mapping (case-insensitive), else the next free one."""
    folded = " ".join(phrase.split()).casefold()
    for key, value in mapping.items():
        if " ".join(key.split()).casefold() == folded:
            return value
    numbers = [
        int(m.group(1)) for v in mapping.values() if (m := re.fullmatch(rf"\[{kind}-(\d+)\]", v))
    ]
    placeholder = f"[{kind}-{max(numbers, default=0) + 1}]"
    mapping[phrase] = placeholder
    return placeholder


def redact_sqlite(path: Path, pattern: re.Pattern[str], placeholder: str) -> int:
    """Replace ``pattern`` by ``placeholder`` in every text cell of every table; the count."""
    changed = 0
    try:
        con = sqlite3.connect(path, timeout=10)
    except sqlite3.Error as exc:
        raise CodingError(f"{path} cannot be opened ({exc}); close other watwerkt windows") from exc
    try:
        with con:
            tables = con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            virtual = {t for t, sql in tables if (sql or "").upper().startswith("CREATE VIRTUAL")}
            for table, _ in tables:
                if _FTS_SHADOW.fullmatch(table) and table.rsplit("_", 1)[0] in virtual:
                    continue  # an FTS index's own tables follow its virtual table
                cols = [
                    c[1]
                    for c in con.execute(f'PRAGMA table_info("{table}")')
                    if "CHAR" in (c[2] or "TEXT").upper() or "TEXT" in (c[2] or "TEXT").upper()
                ]
                for col in cols:
                    rows = con.execute(
                        f'SELECT rowid, "{col}" FROM "{table}" WHERE typeof("{col}") = \'text\''
                    ).fetchall()
                    for rowid, value in rows:
                        new = pattern.sub(placeholder, value)
                        if new != value:
                            con.execute(
                                f'UPDATE "{table}" SET "{col}" = ? WHERE rowid = ?', (new, rowid)
                            )
                            changed += 1
    except sqlite3.Error as exc:
        raise CodingError(f"{path}: the name could not be replaced ({type(exc).__name__})") from exc
    finally:
        con.close()
    return changed


def add_name(home: Path, phrase: str, kind: str = "PERSOON") -> int:
    """Add a name everywhere: future pseudonymisations, every mapping, every stored text.

    Returns how many stored text cells were rewritten."""
    phrase = " ".join(phrase.split())
    if len(phrase) < 2 or kind not in KINDS:
        raise CodingError(f"give a name of two letters or more and a kind of {', '.join(KINDS)}")
    projects = Path(home) / "projects"
    names = load_coder_names(projects)
    entry = phrase if kind == "PERSOON" else f"{phrase}={kind}"
    names["add"] = [*names["add"], entry]
    names["keep"] = [w for w in names["keep"] if w.casefold() != phrase.casefold()]
    save_coder_names(projects, names)
    words = r"\s+".join(map(re.escape, phrase.split()))
    pattern = re.compile(rf"(?<![\w\[]){words}(?:(?=['’]s)|(?!\w))", re.I)
    changed = 0
    for mapping_path in sorted(projects.glob("**/pseudonyms.json")):
        mapping = load_mapping(mapping_path)
        placeholder = _placeholder(mapping, phrase, kind)
        save_mapping(mapping, mapping_path)
        for db in sorted(mapping_path.parent.glob("*.sqlite")):
            changed += redact_sqlite(db, pattern, placeholder)
    return changed


def keep_word(home: Path, word: str) -> None:
    """The coder says a replaced word is no name: kept from the next pseudonymisation on."""
    projects = Path(home) / "projects"
    names = load_coder_names(projects)
    names["keep"] = [*names["keep"], " ".join(word.split())]
    names["add"] = [w for w in names["add"] if w.partition("=")[0].casefold() != word.casefold()]
    save_coder_names(projects, names)
