"""A whole project as one REFI-QDA ``.qdpx``: every transcript, every coder's codings.

Built on the helpers of ``coding.refi`` and promising what it promises (valid against
Project.xsd, positions in code points over the stored text, nothing but pseudonymised text).
Beyond a single transcript's export:

* one ``User`` per coder; the assistant is the user "watwerkt-suggester <model>" and its
  suggestions (CIMO code and themes at or above ``THEME_THRESHOLD``) are its codings, unless
  ``include_assistant`` is off;
* one ``PlainTextSelection`` per coded segment carrying one ``Coding`` per coder and code
  (spec 1.5 §3.12), each with its coder as ``creatingUser`` and its real date;
* rejected codings are not written (a QDA tool has no place for "not this code");
* memos on a transcript become ``NoteRef``s of its source, the rest project notes;
* a CMO configuration becomes a ``Note`` (its statement, verdict, segments and report passages),
  referenced by the selections of its segments (``NoteRef``), one ``Link`` from the note to each
  segment's selection named by the segment's role (C, I, M, O), and a ``Set`` "CMO: <name>"
  whose members are the note and the transcripts that support it.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from .configurations import configurations
from .errors import CodingError
from .project import ASSISTANT_PREFIX, ProjectStore, assistant_coder
from .refi import (
    PROJECT_NS,
    THEME_THRESHOLD,
    _code_tree,
    _guid,
    _serialise,
    _short,
    _sub,
    _utc,
    _write,
    _zip,
    code_guid,
)


def _stamp(iso: str) -> str:
    """A stored timestamp (microseconds) as the xsd:dateTime REFI-QDA tools read."""
    return iso[:19] + "Z" if len(iso) >= 19 else iso


def refi_meta(store: ProjectStore) -> dict[str, Any]:
    """What an import from another tool keeps for the next export: its GUIDs (users, sources,
    selections, notes) and its Sets."""
    raw = store.meta("refi")
    return json.loads(raw) if raw else {}


def write_project_qdpx(store: ProjectStore, path: Path, *, include_assistant: bool = True) -> Path:
    """Write the project to ``path`` and return it."""
    from datetime import datetime

    codebook = store.codebook()
    known = {c.id for c in codebook.codes}
    created = store.meta("created") or "1980-01-01T00:00:00.000000Z"
    moment = _utc(datetime.fromisoformat(created.replace("Z", "+00:00")))
    project_key = f"project:{store.name}:{created}"
    ns = PROJECT_NS

    # (segment id) -> [(coder, code, date)]
    codings: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for c in store.codings():
        if c.kept:
            codings[c.segment_id].append((c.coder, c.code, c.created))
    models = store.models()
    scores: dict[int, str] = {}
    if include_assistant and models:
        for sid, sug in store.suggestions(models[0]).items():
            for code in sug.codes(THEME_THRESHOLD):
                if code not in known:  # a CIMO letter a foreign codebook has no code for
                    continue
                codings[sid].append((assistant_coder(sug.model), code, sug.created))
            shown = ", ".join(f"{k} {v:.2f}" for k, v in sug.scores.items())
            scores[sid] = f"model {sug.model}: {shown}"
    # humans first: QualCoder takes the first user as the coder of whoever opens the project
    memos = store.memos()
    kept = refi_meta(store)
    foreign: dict[str, str] = kept.get("guids", {})
    coders = sorted(
        {coder for rows in codings.values() for coder, _, _ in rows}
        | {m.coder for m in memos if m.coder}
        | {key[5:] for key in foreign if key.startswith("user:")},  # users of an imported file
        key=lambda name: (name.startswith(ASSISTANT_PREFIX), name),
    )
    unknown = sorted({code for rows in codings.values() for _, code, _ in rows} - known)
    if unknown:
        raise CodingError(
            f"codings use codes the project's codebook lacks ({', '.join(unknown)}); "
            "add them to the codebook"
        )

    def guid_for(key: str) -> str:
        return foreign.get(key) or _guid(f"{project_key}:{key}")

    by_id = {c.id: c for c in codebook.codes}
    users = {name: guid_for(f"user:{name}") for name in coders}
    owner = users[coders[0]] if coders else _guid(f"{project_key}:user:watwerkt")
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    root = _sub(None, ns, "Project", name=store.name, origin="watwerkt")
    root.set("creatingUserGUID", owner)
    root.set("creationDateTime", stamp)
    users_el = _sub(root, ns, "Users")
    for name in coders or ["watwerkt"]:
        _sub(users_el, ns, "User", guid=users.get(name, owner), name=name)
    if codebook.codes:
        _code_tree(ns, _sub(root, ns, "CodeBook"), codebook)
    files: dict[str, bytes] = {}
    sources = _sub(root, ns, "Sources")
    segments_by_transcript: dict[int, list[Any]] = defaultdict(list)
    for seg in store.segments():
        segments_by_transcript[seg.transcript_id].append(seg)
    notes: list[tuple[str, Any]] = []
    configs = configurations(store)
    config_guid = {cfg.id: _guid(f"{project_key}:configuration:{cfg.id}") for cfg in configs}
    in_config: dict[int, list[int]] = defaultdict(list)  # segment id -> configuration ids
    for cfg in configs:
        for m in cfg.members:
            in_config[m.segment_id].append(cfg.id)
    seg_memos: dict[int, list[str]] = defaultdict(list)  # segment id -> note guids of its memos
    for memo in memos:
        if memo.segment_id is not None:
            seg_memos[memo.segment_id].append(guid_for(f"memo:{memo.id}"))
    selection_of: dict[int, str] = {}  # segment id -> selection guid
    used_guids: set[str] = set()
    source_of: dict[str, str] = {}  # transcript name -> source guid
    for t in store.transcripts():
        raw = t.text.encode("utf-8")
        guid = foreign.get(f"source:{t.name}") or _guid(
            f"{project_key}:source:{t.name}:{hashlib.sha256(raw).hexdigest()}"
        )
        files[f"sources/{guid}.txt"] = raw
        dated = {"creatingUser": owner, "creationDateTime": _stamp(t.added)}
        source = _sub(sources, ns, "TextSource", guid=guid, name=t.name, **dated)
        source.set("plainTextPath", f"internal://{guid}.txt")
        source_of[t.name] = guid
        attrs = [f"{k}: {v}" for k, v in (("alliantie", t.alliance), ("rol", t.role)) if v]
        attrs += [f"datum: {t.date}"] if t.date else []
        if attrs:
            _sub(source, ns, "Description", "; ".join(attrs))
        for seg in segments_by_transcript[t.id]:
            rows = sorted(codings.get(seg.id, []), key=lambda r: (r[2], r[0], r[1]))
            if not rows and seg.id not in in_config and seg.id not in seg_memos:
                continue
            if t.text[seg.start : seg.end] != seg.text:
                raise CodingError(f"{t.name} {seg.key}: stored offsets do not match the text")
            # one selection per coder and decision (its date), carrying its Codings (spec 1.5
            # §3.12): QualCoder files every coding under its selection's user and date
            by_decision: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
            for coder, code, when in rows:
                by_decision[(coder, when)].append((code, when))
            groups = list(by_decision.items()) or [(("", ""), [])]
            for (coder, when), coded_rows in groups:
                sel_guid = guid_for(f"selection:{t.name}:{seg.key}:{coder}:{_stamp(when)}")
                if sel_guid in used_guids:  # one foreign selection held codings of two dates
                    sel_guid = _guid(f"{project_key}:selection:{t.name}:{seg.key}:{coder}:{when}")
                used_guids.add(sel_guid)
                el = _sub(source, ns, "PlainTextSelection", guid=sel_guid, name=_short(seg.text))
                el.set("startPosition", str(seg.start))
                el.set("endPosition", str(seg.end))
                el.set("creatingUser", users[coder] if coder else owner)
                el.set("creationDateTime", _stamp(coded_rows[0][1] if coded_rows else t.added))
                selection_of.setdefault(seg.id, sel_guid)
                if seg.id in scores and coder.startswith(ASSISTANT_PREFIX):
                    _sub(el, ns, "Description", scores[seg.id])
                for code, when in coded_rows:
                    coding = _sub(
                        el,
                        ns,
                        "Coding",
                        guid=_guid(f"{sel_guid}:coding:{code}"),
                        creatingUser=users[coder],
                        creationDateTime=_stamp(when),
                    )
                    _sub(coding, ns, "CodeRef", targetGUID=code_guid(by_id[code]))
                if sel_guid == selection_of[seg.id]:
                    for cid in dict.fromkeys(in_config.get(seg.id, [])):
                        _sub(el, ns, "NoteRef", targetGUID=config_guid[cid])
                    for note_guid in seg_memos.get(seg.id, []):
                        _sub(el, ns, "NoteRef", targetGUID=note_guid)
        for memo in memos:
            if memo.transcript_id == t.id:  # a segment's memo is referenced by its selection
                notes.append(("" if memo.segment_id is not None else guid, memo))
    for memo in memos:
        if memo.transcript_id is None:
            notes.append(("", memo))
    if notes or configs:
        notes_el = _sub(root, ns, "Notes")
        for cfg in configs:
            note = _sub(notes_el, ns, "Note", guid=config_guid[cfg.id], name=f"CMO: {cfg.name}")
            note.set("creatingUser", users.get(cfg.coder, owner))
            note.set("creationDateTime", _stamp(cfg.updated))
            _sub(note, ns, "PlainTextContent", cfg.note_text())
        refs: dict[str, list[str]] = defaultdict(list)
        for target, memo in notes:
            note_guid = guid_for(f"memo:{memo.id}")
            note = _sub(notes_el, ns, "Note", guid=note_guid, name=_short(memo.text, 40))
            if memo.coder in users:
                note.set("creatingUser", users[memo.coder])
            note.set("creationDateTime", _stamp(memo.created))
            _sub(note, ns, "PlainTextContent", memo.text)
            if target:
                refs[target].append(note_guid)
        for source in sources:
            for note_guid in refs.get(source.get("guid"), []):
                _sub(source, ns, "NoteRef", targetGUID=note_guid)
    links = [(cfg, m) for cfg in configs for m in cfg.members]
    if links:
        links_el = _sub(root, ns, "Links")
        for cfg, m in links:
            _sub(
                links_el,
                ns,
                "Link",
                guid=_guid(f"{config_guid[cfg.id]}:link:{m.segment_id}:{m.role}"),
                name=m.role,
                direction="OneWay",
                originGUID=config_guid[cfg.id],
                targetGUID=selection_of[m.segment_id],
            )
    foreign_sets = [s for s in kept.get("sets", []) if s.get("name")]
    if configs or foreign_sets:
        sets_el = _sub(root, ns, "Sets")
        for kept_set in foreign_sets:  # the Sets of a project imported from another tool
            fset = _sub(
                sets_el,
                ns,
                "Set",
                guid=kept_set.get("guid") or _guid(f"{project_key}:set:{kept_set['name']}"),
                name=kept_set["name"],
            )
            if kept_set.get("description"):
                _sub(fset, ns, "Description", kept_set["description"])
            for name in kept_set.get("sources", []):
                if name in source_of:
                    _sub(fset, ns, "MemberSource", targetGUID=source_of[name])
        for cfg in configs:
            cset = _sub(
                sets_el,
                ns,
                "Set",
                guid=_guid(f"{config_guid[cfg.id]}:set"),
                name=f"CMO: {cfg.name}",
            )
            verdict = f" ({cfg.verdict})" if cfg.verdict else ""
            _sub(cset, ns, "Description", f"{cfg.statement}{verdict}")
            for name in cfg.transcripts:
                _sub(cset, ns, "MemberSource", targetGUID=source_of[name])
            _sub(cset, ns, "MemberNote", targetGUID=config_guid[cfg.id])
    unnamed = [t.name for t in store.transcripts() if not t.pseudonymised]
    privacy = (
        " De teksten zijn gepseudonimiseerd."
        if not unnamed
        else " Namen behouden (--keep-names of een import uit een ander programma): niet "
        f"gepseudonimiseerd zijn {', '.join(unnamed)}."
    )
    _sub(root, ns, "Description", f"Project {store.name} uit watwerkt.{privacy}")
    qde = _serialise(root, "Project.xsd")
    return _write(Path(path), _zip({"project.qde": qde, **files}, moment))
