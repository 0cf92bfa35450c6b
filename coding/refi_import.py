"""A whole REFI-QDA project (``.qdpx`` from QualCoder, NVivo, ATLAS.ti, MAXQDA) into a project.

What is read (REFI-QDA 1.5; everything else is left out and counted in ``skipped``):

* ``Users``: name per GUID; the coder of a ``Coding`` is its ``creatingUser``, else its
  selection's, else the source's, else "import";
* the ``CodeBook`` with its hierarchy, colours, categories (``isCodable="false"``) and GUIDs
  (``coding.refi.codebook_from_root``);
* every ``TextSource``: its text (``plainTextPath`` inside the archive, or
  ``PlainTextContent``), its ``PlainTextSelection``s with their ``Coding``s. Each distinct span
  becomes a segment ``sel-0001`` ...; a coding is stored as status "added" with its own date.
  A BOM is dropped and CRLF becomes LF with the positions moved to match (ATLAS.ti counts a
  CRLF as one character already, so its positions stay);
* ``Notes``: a note referenced by a source is a memo on that transcript, one referenced by a
  selection a memo on its segment, the rest project memos;
* ``Sets`` of sources (their name, description and member transcripts).

The foreign GUIDs (users, sources, selections, notes) and the Sets are kept in the project's
meta ``refi``, so ``write_project_qdpx`` writes them again: import -> export -> import is equal.
Imported text is stored as it came (``pseudonymised`` false): watwerkt did not pseudonymise it.
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .codebook import Codebook
from .errors import CodingError
from .models import Segment, Transcript
from .project import ASSISTANT_PREFIX, ProjectStore, create_project
from .refi import code_guid, codebook_from_root
from .refi_safe import Archive, local, namespace

IMPORTER = "import"  # the coder of codings whose user is unknown


@dataclass
class ImportReport:
    project: str
    origin: str
    transcripts: int = 0
    codes: int = 0
    codings: int = 0
    memos: int = 0
    sets: int = 0
    coders: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _stamp(value: str | None) -> str:
    """A REFI xsd:dateTime as the store's timestamp (UTC, microseconds); now if unreadable."""
    if value:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            pass
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text_and_offsets(raw: str, positions_as_lf: bool) -> tuple[str, list[int]]:
    """LF-only text without BOM, and old position -> new position (len(raw) + 1 entries)."""
    out: list[str] = []
    where: list[int] = []
    skip_bom = raw.startswith("\ufeff")
    i = 0
    for i, ch in enumerate(raw):
        where.append(len(out))
        if (i == 0 and skip_bom) or (ch == "\r" and raw[i + 1 : i + 2] == "\n"):
            continue
        out.append("\n" if ch == "\r" else ch)
    where.append(len(out))
    text = "".join(out)
    if positions_as_lf:  # ATLAS.ti: positions already count CRLF as one character
        where = list(range(len(text) + 1)) + [len(text)] * max(0, len(raw) - len(text))
    return text, where


class _Reader:
    def __init__(self, archive: Archive, root: Any) -> None:
        self.archive = archive
        self.root = root
        self.ns = f"{{{namespace(root)}}}"
        self.origin = root.get("origin") or "REFI-QDA"
        self.users = {
            u.get("guid"): (u.get("name") or "").strip() or IMPORTER
            for u in root.iterfind(f"{self.ns}Users/{self.ns}User")
        }
        self.skipped: dict[str, int] = defaultdict(int)

    def child(self, el: Any, name: str) -> Any:
        return el.find(f"{self.ns}{name}")

    def user(self, *elements: Any) -> str:
        for el in elements:
            for attr in ("creatingUser", "modifyingUser"):
                guid = el.get(attr) if el is not None else None
                if guid and guid in self.users:
                    return self.users[guid]
        return IMPORTER

    def note_text(self, note: Any) -> str:
        content = self.child(note, "PlainTextContent")
        if content is not None and (content.text or "").strip():
            return content.text or ""
        path = note.get("plainTextPath")
        if path:
            return self.archive.internal(path).decode("utf-8", errors="replace")
        return note.get("name") or ""

    def source_text(self, source: Any) -> str:
        path = source.get("plainTextPath")
        if path:
            data = self.archive.internal(path)
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CodingError(
                    f"{self.archive.path.name}: {path} is not UTF-8 text; export it again"
                ) from exc
        content = self.child(source, "PlainTextContent")
        if content is not None:
            return content.text or ""
        raise CodingError(
            f"{self.archive.path.name}: source {source.get('name')!r} has no plain text"
        )


def _attributes(description: str | None) -> dict[str, str]:
    """alliance/role/date from the Description watwerkt writes ("alliantie: x; rol: y")."""
    keys = {"alliantie": "alliance", "rol": "role", "datum": "date"}
    out: dict[str, str] = {}
    for part in (description or "").split(";"):
        key, sep, value = part.partition(":")
        if sep and key.strip() in keys and value.strip():
            out[keys[key.strip()]] = value.strip()
    return out if description and len(out) == len(description.split(";")) else {}


def import_qdpx(home: Path, path: Path, name: str) -> ImportReport:
    """Create project ``name`` from the ``.qdpx`` at ``path`` (refused if it exists)."""
    path = Path(path)
    with Archive(path) as archive:
        root = archive.project()
        if namespace(root) != "urn:QDA-XML:project:1.0" or local(root.tag) != "Project":
            raise CodingError(f"{path.name} is not a REFI-QDA project (root {local(root.tag)})")
        reader = _Reader(archive, root)
        codebook = (
            codebook_from_root(root, path.name)
            if root.find(f"{reader.ns}CodeBook") is not None
            else Codebook(name=root.get("name") or path.stem, codes=[])
        )
        plan = _read_sources(reader, codebook)
        notes = _read_notes(reader)
        sets = _read_sets(reader, plan)
    return _store(home, name, path, reader, codebook, plan, notes, sets)


@dataclass
class _Source:
    guid: str
    name: str
    text: str
    added: str
    attrs: dict[str, str]
    spans: dict[tuple[int, int], list[tuple[str, str, str, str]]]  # -> (coder, code, date, guid)
    notes: list[str]  # note guids referenced by the source
    span_notes: dict[tuple[int, int], list[str]]
    # Descriptions of the source and its selections (memos in QualCoder and MAXQDA): as memos
    inline: list[tuple[tuple[int, int] | None, str, str, str]] = field(default_factory=list)


def _read_sources(reader: _Reader, codebook: Codebook) -> list[_Source]:
    ns = reader.ns
    code_of = {code_guid(c): c.id for c in codebook.codes}
    out: list[_Source] = []
    names: set[str] = set()
    sources = reader.child(reader.root, "Sources")
    for source in list(sources) if sources is not None else []:
        if local(source.tag) != "TextSource":
            reader.skipped[local(source.tag)] += 1
            continue
        raw = reader.source_text(source)
        text, where = _text_and_offsets(raw, "ATLAS" in reader.origin.upper())
        if unicodedata.normalize("NFC", text) != text:
            reader.skipped["text not NFC (kept as is)"] += 1
        name = (source.get("name") or "").strip() or source.get("guid") or "bron"
        base, n = name, 2
        while name in names:  # MAXQDA can export two sources of one name
            name, n = f"{base} ({n})", n + 1
        names.add(name)
        item = _Source(
            source.get("guid") or "",
            name,
            text,
            _stamp(source.get("creationDateTime") or source.get("modifiedDateTime")),
            _attributes(source.findtext(f"{ns}Description")),
            defaultdict(list),
            [r.get("targetGUID") for r in source.findall(f"{ns}NoteRef") if r.get("targetGUID")],
            defaultdict(list),
        )
        about = source.findtext(f"{ns}Description") or ""
        if about.strip() and not item.attrs:
            item.inline.append((None, about, reader.user(source), item.added))
        for sel in source.findall(f"{ns}PlainTextSelection"):
            try:
                a, b = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
            except ValueError:
                reader.skipped["selection without positions"] += 1
                continue
            a, b = sorted((max(0, a), max(0, b)))
            a, b = where[min(a, len(where) - 1)], where[min(b, len(where) - 1)]
            if a >= b:
                reader.skipped["empty selection"] += 1
                continue
            codings = sel.findall(f"{ns}Coding")
            for coding in codings:
                ref = coding.find(f"{ns}CodeRef")
                code = code_of.get((ref.get("targetGUID") or "") if ref is not None else "")
                if code is None:
                    reader.skipped["coding of an unknown code"] += 1
                    continue
                who = reader.user(coding, sel, source)
                when = _stamp(
                    coding.get("creationDateTime")
                    or sel.get("creationDateTime")
                    or sel.get("modifiedDateTime")
                )
                item.spans[(a, b)].append((who, code, when, sel.get("guid") or ""))
            refs = [r.get("targetGUID") for r in sel.findall(f"{ns}NoteRef")]
            item.span_notes[(a, b)] += [r for r in refs if r]
            memo = sel.findtext(f"{ns}Description") or ""
            owner = reader.user(sel, source)
            if memo.strip() and not owner.startswith((ASSISTANT_PREFIX, "watwerkt-assistent")):
                when = _stamp(sel.get("creationDateTime") or sel.get("modifiedDateTime"))
                item.inline.append(((a, b), memo, owner, when))
                item.span_notes.setdefault((a, b), [])
            if (a, b) not in item.spans and (a, b) not in item.span_notes:
                reader.skipped["selection without codings or notes"] += 1
        out.append(item)
    return out


def _read_notes(reader: _Reader) -> dict[str, tuple[str, str, str]]:
    """Note guid -> (text, coder, date)."""
    notes = reader.child(reader.root, "Notes")
    out = {}
    for note in notes.findall(f"{reader.ns}Note") if notes is not None else []:
        text = reader.note_text(note)
        if text.strip():
            when = _stamp(note.get("creationDateTime") or note.get("modifiedDateTime"))
            out[note.get("guid") or ""] = (text, reader.user(note), when)
    return out


def _read_sets(reader: _Reader, plan: list[_Source]) -> list[dict[str, Any]]:
    by_guid = {s.guid: s.name for s in plan}
    sets = reader.child(reader.root, "Sets")
    out = []
    for el in sets.findall(f"{reader.ns}Set") if sets is not None else []:
        if (el.get("name") or "").startswith("CMO: "):
            continue  # watwerkt's own configuration sets, written again from configurations
        members = [
            by_guid[m.get("targetGUID")]
            for m in el.findall(f"{reader.ns}MemberSource")
            if m.get("targetGUID") in by_guid
        ]
        out.append(
            {
                "guid": el.get("guid") or "",
                "name": el.get("name") or "",
                "description": el.findtext(f"{reader.ns}Description") or "",
                "sources": members,
            }
        )
    return out


def _store(
    home: Path,
    name: str,
    path: Path,
    reader: _Reader,
    codebook: Codebook,
    plan: list[_Source],
    notes: dict[str, tuple[str, str, str]],
    sets: list[dict[str, Any]],
) -> ImportReport:
    report = ImportReport(name, reader.origin, codes=len(codebook.codes))
    guids: dict[str, str] = {f"user:{n}": g for g, n in reader.users.items() if g}
    store: ProjectStore = create_project(home, name, codebook)
    with store:
        used_notes: set[str] = set()
        coders: set[str] = set()
        for src in plan:
            spans = sorted(set(src.spans) | set(src.span_notes))
            keys = {span: f"sel-{i:04d}" for i, span in enumerate(spans, 1)}
            segments = [Segment(keys[(a, b)], "", a, b, src.text[a:b], 0) for a, b in spans]
            stored = store.add_transcript(
                Transcript(src.name, src.text, (), pseudonymised=False), segments, **src.attrs
            )
            report.transcripts += 1
            if src.guid:
                guids[f"source:{src.name}"] = src.guid
            seg_id = {s.key: s.id for s in store.segments(stored.id)}
            rows: list[tuple[int, str, str, str, str]] = []
            memo_rows: list[tuple[int, int | None, str]] = []
            for span in spans:
                seen: set[tuple[str, str]] = set()
                for who, code, when, sel_guid in src.spans.get(span, []):
                    if (who, code) in seen:
                        continue
                    seen.add((who, code))
                    rows.append((seg_id[keys[span]], who, code, "added", when))
                    if sel_guid:  # the key write_project_qdpx looks it up by
                        key = f"selection:{src.name}:{keys[span]}:{who}:{when[:19]}Z"
                        guids.setdefault(key, sel_guid)
                for ref in src.span_notes.get(span, []):
                    if ref in notes and ref not in used_notes:
                        used_notes.add(ref)
                        memo_rows.append((stored.id, seg_id[keys[span]], ref))
            for ref in src.notes:
                if ref in notes and ref not in used_notes:
                    used_notes.add(ref)
                    memo_rows.append((stored.id, None, ref))
            for where, text, who, when in src.inline:
                key = f"inline:{len(notes)}"
                notes[key] = (text, who, when)
                used_notes.add(key)
                memo_rows.append((stored.id, seg_id[keys[where]] if where else None, key))
            with store.transaction() as con:
                con.execute("UPDATE transcripts SET added = ? WHERE id = ?", (src.added, stored.id))
                con.executemany(
                    "INSERT INTO codings (segment_id, coder, code, status, created) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                for tid, sid, ref in memo_rows:
                    _memo(con, guids, notes, ref, tid, sid)
            report.codings += len(rows)
            report.memos += len(memo_rows)
            coders |= {r[1] for r in rows}
        with store.transaction() as con:
            for ref in notes:
                if ref not in used_notes:
                    _memo(con, guids, notes, ref, None, None)
                    report.memos += 1
            meta = {"origin": reader.origin, "source": path.name, "guids": guids, "sets": sets}
            if reader.root.get("creationDateTime"):  # the project's own date, not today's
                created = _stamp(reader.root.get("creationDateTime"))
                con.execute("UPDATE meta SET value = ? WHERE key = 'created'", (created,))
            con.execute("INSERT OR REPLACE INTO meta VALUES ('refi', ?)", (json.dumps(meta),))
    report.sets = len(sets)
    report.coders = sorted(coders)
    report.skipped = dict(reader.skipped)
    return report


def _memo(con: Any, guids: dict[str, str], notes: dict, ref: str, tid, sid) -> None:
    text, who, when = notes[ref]
    cur = con.execute(
        "INSERT INTO memos (transcript_id, segment_id, coder, text, created) "
        "VALUES (?, ?, ?, ?, ?)",
        (tid, sid, who, text, when),
    )
    if ref and not ref.startswith("inline:"):
        guids[f"memo:{cur.lastrowid}"] = ref
