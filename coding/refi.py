"""REFI-QDA exchange: coded transcripts to ``.qdpx``, codebooks to and from ``.qdc``/``.qdpx``.

What the written files promise (see /work/shared/refi-qda/README.md and the REFI-QDA 1.5 spec):

* ``.qdpx`` is a zip with exactly ``project.qde`` at its root and ``sources/<GUID>.txt``, the
  transcript text exactly as stored (LF, NFC, UTF-8 without BOM), referenced as
  ``plainTextPath="internal://<GUID>.txt"``. No ``basePath``, no local paths, nothing but the
  (pseudonymised) transcript text and the suggestions.
* ``PlainTextSelection`` positions are 0-based code points, end exclusive, over that text.
* Every file validates against the schemas in ``coding/schemas`` (checked before writing).
* Output is byte-identical for the same input and ``created``: GUIDs are uuid5 of stable names
  (or the GUIDs another tool gave the codes) and every date is ``created``, which defaults to
  now: a coding carries its real date, never 1980-01-01.
* One ``PlainTextSelection`` per coded segment carries a ``Coding`` per code (spec 1.5 §3.12),
  all by one user: the assistant for suggestions, the human coder for accepted codes (QualCoder
  files a coding under its selection's user and takes the first user as its own coder).
* Every code has a colour (``code_color``) and keeps ``isCodable="false"`` if it is a category.
* Ids the names cannot carry (``T-talent`` for "talentontwikkeling") are kept in the code's
  ``Description`` as a last line ``watwerkt-id: T-talent``, so write_qdc -> read_codebook keeps
  them.
"""

from __future__ import annotations

import colorsys
import functools
import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError

from .codebook import CIMO, Code, Codebook, resolve_cimo_map
from .errors import CodingError
from .models import CodedSegment, CodedTranscript
from .refi_safe import Archive, local, namespace, parse_xml

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
THEME_THRESHOLD = 0.5  # themes scoring at least this are exported when nothing was accepted
# The user of accepted codings when no coder is named: a human, never the assistant (QualCoder
# makes the first user the coder of whoever opens the file)
HUMAN_CODER = "codeur"
_GUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:watwerkt:refi-qda")
_ID_LINE = re.compile(r"(?:^|\n)[ \t]*watwerkt-id:[ \t]*(\S+)[ \t]*$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CIMO_NAMES = {
    "C": {"c", "context"},
    "I": {"i", "interventie", "intervention"},
    "M": {"m", "mechanisme", "mechanism"},
    "O": {"o", "uitkomst", "outcome"},
}


# -- helpers -------------------------------------------------------------------------------------
def _guid(name: str) -> str:
    return str(uuid.uuid5(_GUID_NS, name))


def _slug(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "code"


def _clean(text: str) -> str:
    """Drop the few characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _unique(candidates: list[str], used: set[str]) -> str:
    """The first candidate not in ``used``, else the last one with -2, -3, ..."""
    for candidate in candidates:
        if candidate not in used:
            return candidate
    n = 2
    while f"{candidates[-1]}-{n}" in used:
        n += 1
    return f"{candidates[-1]}-{n}"


def _sub(parent: Any, ns: str, tag: str, text: str | None = None, **attrs: str) -> Any:
    """A child element (the root element if ``parent`` is None) with cleaned text and attributes."""
    qname = f"{{{ns}}}{tag}"
    el = (
        etree.Element(qname, nsmap={None: ns})
        if parent is None
        else etree.SubElement(parent, qname)
    )
    for key, value in attrs.items():
        el.set(key, _clean(value))
    if text is not None:
        el.text = _clean(text)
    return el


def _cimo_letter(name: str) -> str | None:
    low = name.strip().lower()
    return next((k for k, names in _CIMO_NAMES.items() if low in names), None)


def _default_id(code: Code) -> str:
    """The id read_codebook derives from the name alone (parent taken as the codebook's)."""
    if code.dimension == "cimo" and code.parent is None:
        return _cimo_letter(code.name) or ""
    prefix = code.parent if code.dimension == "cimo" and code.parent else "T"
    return f"{prefix}-{_slug(code.name)}"


def code_guid(code: Code) -> str:
    """The code's GUID: the one another tool gave it, else one derived from its id."""
    return code.guid or _guid(f"code:{code.id}")


def code_color(code: Code) -> str:
    """The code's colour, else a soft colour whose hue is fixed by the code's id (every code
    gets one: QualCoder and MAXQDA show codes by colour)."""
    if code.color:
        return code.color
    hue = int(hashlib.sha1(code.id.encode()).hexdigest(), 16) % 360 / 360
    red, green, blue = colorsys.hls_to_rgb(hue, 0.62, 0.55)
    return "#" + "".join(f"{round(v * 255):02X}" for v in (red, green, blue))


def _code_tree(ns: str, parent: Any, codebook: Codebook) -> None:
    """Nested ``<Codes>``; children follow the codebook's order under their parent."""
    children: dict[str | None, list[Code]] = {}
    for code in codebook.codes:
        children.setdefault(code.parent, []).append(code)
    written: set[str] = set()

    def add(into: Any, code: Code) -> None:
        written.add(code.id)
        codable = "true" if code.codable else "false"
        attrs = {"guid": code_guid(code), "name": code.name, "isCodable": codable}
        el = _sub(into, ns, "Code", **attrs, color=code_color(code))
        lines = [code.definition.strip()] if code.definition.strip() else []
        if code.id != _default_id(code):
            lines.append(f"watwerkt-id: {code.id}")
        if lines:
            _sub(el, ns, "Description", "\n".join(lines))
        for child in children.get(code.id, []):
            add(el, child)

    codes = _sub(parent, ns, "Codes")
    for root in children.get(None, []):
        add(codes, root)
    if len(written) != len(codebook.codes):
        raise CodingError("codebook has a cycle of parents; fix the parent fields")


def _serialise(root: Any, schema: str) -> bytes:
    body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
    errors = validate(data, schema)
    if errors:  # a bug in this module, not in the user's input
        raise CodingError(f"internal error: the {schema} export does not validate: {errors[0]}")
    return data


def _write(path: Path, data: bytes) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CodingError(f"cannot write {path} ({exc.strerror}); check the folder") from exc
    return path


# -- export --------------------------------------------------------------------------------------
def _codes_for(cs: CodedSegment, accepted: Mapping[str, Sequence[str]] | None) -> list[str]:
    if accepted is not None:
        chosen = list(accepted.get(cs.segment.id, ()))
    else:
        chosen = [cs.cimo] if cs.cimo else []
        chosen += [t.code for t in cs.themes if t.score >= THEME_THRESHOLD]
    return list(dict.fromkeys(chosen))


def _check_text(coded: CodedTranscript) -> bytes:
    text = coded.transcript.text
    if "\r" in text or text.startswith("\ufeff") or unicodedata.normalize("NFC", text) != text:
        raise CodingError(
            f"transcript {coded.transcript.name}: text is not LF-only NFC without BOM; "
            "read it again with the ingest step, which normalises it"
        )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CodingError(f"transcript {coded.transcript.name}: text is not valid Unicode") from exc


def _short(text: str, limit: int = 60) -> str:
    """A selection's name: its text, cut at a word boundary (never "mo…" of "moet", nor half a
    placeholder) when longer than ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(" ,;:") + "…"


def write_qdpx(
    coded: CodedTranscript,
    codebook: Codebook,
    path: Path,
    *,
    accepted: Mapping[str, Sequence[str]] | None = None,
    user_name: str = "watwerkt-assistent",
    coder: str | None = None,
    model: str | None = None,
    created: datetime | None = None,
    cimo_map: str | Mapping[str, str] | None = None,
) -> Path:
    """Write a REFI-QDA project with the transcript and one coded selection per segment.

    Exported per segment: ``accepted[segment id]`` if ``accepted`` is given (segments missing
    from it get nothing; the codings are ``coder``'s, default ``HUMAN_CODER``), else the
    assistant's CIMO code and themes scoring >= THEME_THRESHOLD, as codings of ``user_name``.
    Each selection carries one ``Coding`` per code (spec 1.5 §3.12). A CIMO letter becomes the
    code ``cimo_map`` names for it (see ``resolve_cimo_map``); a letter the codebook has no code
    for, like a suggested code the codebook lacks, is left out (its score stays in the
    selection's Description), so a codebook without C/I/M/O always exports; an accepted code
    the codebook lacks is an error. ``created`` (default: now) dates the project and every coding.
    """
    transcript = coded.transcript
    raw = _check_text(coded)
    model = model or coded.model
    moment = _utc(created or datetime.now(UTC).replace(microsecond=0))
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    letters = resolve_cimo_map(codebook, cimo_map)
    who = (coder or HUMAN_CODER) if accepted is not None else user_name
    user = _guid(f"user:{who}")
    source = _guid(f"source:{transcript.name}:{hashlib.sha256(raw).hexdigest()}")
    known = {cs.segment.id for cs in coded.segments}
    unknown = sorted(set(accepted or {}) - known)
    if unknown:
        raise CodingError(f"accepted codes name unknown segments {unknown}; use segment ids")

    ns, dated = PROJECT_NS, {"creatingUser": user, "creationDateTime": stamp}
    root = _sub(None, ns, "Project", name=transcript.name, origin="watwerkt")
    root.set("creatingUserGUID", user)
    root.set("creationDateTime", stamp)
    _sub(_sub(root, ns, "Users"), ns, "User", guid=user, name=who)
    if codebook.codes:
        _code_tree(ns, _sub(root, ns, "CodeBook"), codebook)
    sources = _sub(root, ns, "Sources")
    text_source = _sub(sources, ns, "TextSource", guid=source, name=transcript.name, **dated)
    text_source.set("plainTextPath", f"internal://{source}.txt")
    for cs in coded.segments:
        seg = cs.segment
        codes = []
        for code_id in _codes_for(cs, accepted):
            if code_id in CIMO and codebook.get(code_id) is None:
                if code_id in letters:
                    codes.append(letters[code_id])
                elif accepted is not None:
                    raise CodingError(
                        f"segment {seg.id}: code {code_id} is not in the codebook; "
                        "say which code plays that role with --cimo-map"
                    )
                continue
            if codebook.get(code_id) is None:
                if accepted is None:  # a suggestion for another codebook: its score stays shown
                    continue
                raise CodingError(f"segment {seg.id}: code {code_id} is not in the codebook")
            codes.append(code_id)
        codes = list(dict.fromkeys(codes))
        if not codes:
            continue
        if transcript.text[seg.start : seg.end] != seg.text:
            raise CodingError(
                f"segment {seg.id}: text[{seg.start}:{seg.end}] differs from the segment text; "
                "segment the transcript again"
            )
        guid = _guid(f"selection:{source}:{seg.id}:{who}")
        el = _sub(text_source, ns, "PlainTextSelection", guid=guid, name=_short(seg.text))
        el.set("startPosition", str(seg.start))
        el.set("endPosition", str(seg.end))
        for key, value in dated.items():
            el.set(key, value)
        shown = [f"{c} {s:.2f}" for c, s in cs.cimo_scores.items()]
        shown += [f"{t.code} {t.score:.2f}" for t in cs.themes]
        _sub(el, ns, "Description", f"model {model}: {', '.join(shown) or 'geen score'}")
        for code_id in codes:
            code = codebook.get(code_id)
            assert code is not None
            coding = _sub(el, ns, "Coding", guid=_guid(f"coding:{guid}:{code_id}"), **dated)
            _sub(coding, ns, "CodeRef", targetGUID=code_guid(code))
    privacy = (
        " De tekst is gepseudonimiseerd."
        if transcript.pseudonymised
        else " Namen behouden (--keep-names): de tekst is niet gepseudonimiseerd."
    )
    _sub(root, ns, "Description", f"CIMO-suggesties van watwerkt (model {model}).{privacy}")
    qde = _serialise(root, "Project.xsd")
    return _write(path, _zip({"project.qde": qde, f"sources/{source}.txt": raw}, moment))


def _zip(files: dict[str, bytes], moment: datetime) -> bytes:
    """A zip whose bytes depend only on ``files`` and ``moment`` (not on platform or clock)."""
    date_time = max(moment.timetuple()[:6], (1980, 1, 1, 0, 0, 0))  # ZIP cannot go earlier
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, data)
    return buffer.getvalue()


def write_qdc(codebook: Codebook, path: Path) -> Path:
    """Write a REFI-QDA Codebook Exchange file (valid against Codebook.xsd)."""
    if not codebook.codes:
        raise CodingError("codebook has no codes; a .qdc needs at least one")
    root = _sub(None, CODEBOOK_NS, "CodeBook", origin="watwerkt")
    _code_tree(CODEBOOK_NS, root, codebook)
    return _write(path, _serialise(root, "Codebook.xsd"))


# -- import --------------------------------------------------------------------------------------
def _load_xml(path: Path) -> tuple[Any, str]:
    """The root element of a .qdc, or of the project.qde inside a .qdpx; and a default name.

    Parsed with defusedxml; a .qdpx is opened through ``refi_safe.Archive``, which refuses
    members outside the archive and members too large to unpack."""
    path = Path(path)
    not_refi = f"{path.name} is not a REFI-QDA file; export the codebook as .qdc or .qdpx"
    try:
        is_zip = zipfile.is_zipfile(path)
        if not is_zip:
            data = path.read_bytes()
    except OSError as exc:
        raise CodingError(f"cannot read {path} ({exc.strerror}); check the path") from exc
    if is_zip:
        with Archive(path) as archive:
            root = archive.project()
    else:
        if data.startswith(b"PK"):
            raise CodingError(f"{not_refi} (broken zip)")
        root = parse_xml(data, path.name)
    refi = namespace(root).startswith("urn:QDA-XML:")
    if not refi or local(root.tag) not in ("Project", "CodeBook"):
        raise CodingError(f"{not_refi} (root element is {local(root.tag)})")
    return root, root.get("name") or "REFI-QDA"


def _code_elements(root: Any) -> Iterator[tuple[Any, Any | None]]:
    """(Code element, parent Code element or None), depth first in document order."""
    tag = f"{{{namespace(root)}}}"
    book = root if local(root.tag) == "CodeBook" else root.find(f"{tag}CodeBook")
    codes = book.find(f"{tag}Codes") if book is not None else None

    def walk(el: Any, parent: Any | None) -> Iterator[tuple[Any, Any | None]]:
        for child in el.findall(f"{tag}Code"):
            yield child, parent
            yield from walk(child, child)

    return walk(codes, None) if codes is not None else iter(())


def _color(value: str | None) -> str | None:
    """#RRGGBB from a REFI-QDA colour (#RGB or #RRGGBB), else None."""
    value = (value or "").strip()
    if re.fullmatch(r"#[0-9A-Fa-f]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value if re.fullmatch(r"#[0-9A-Fa-f]{6}", value) else None


def _own_color(code_id: str, color: str | None) -> str | None:
    """None for the colour ``code_color`` gives a code without one (lossless: writing
    the code again gives it the same colour), so that write -> read keeps the codebook equal."""
    if color is None:
        return None
    plain = Code(id=code_id, name=code_id, dimension="theme")
    return None if color.upper() == code_color(plain).upper() else color


def read_codebook(path: Path) -> Codebook:
    """A watwerkt Codebook from a REFI-QDA .qdc or the CodeBook of a .qdpx.

    Codes named Context/Interventie/Mechanisme/Uitkomst (also C/I/M/O and English) become the
    CIMO codes C/I/M/O; codes nested under them CIMO sub-codes (``M-<slug>``); all others themes
    ``T-<slug>`` with their parent kept. A ``watwerkt-id:`` line in a Description wins.
    """
    root, _ = _load_xml(path)
    return codebook_from_root(root, Path(path).name)


def codebook_from_root(root: Any, label: str) -> Codebook:
    """The Codebook of a parsed REFI-QDA CodeBook or Project (see ``read_codebook``).

    Its name and description come from the file's content (its name and origin), never from
    the file's name, so the suggester's model fingerprint does not change when the file is
    renamed. Foreign GUIDs, colours and categories (``isCodable="false"``) are kept."""
    ns = namespace(root)
    name = root.get("name") or "REFI-QDA"
    origin = root.get("origin") or "REFI-QDA"
    elements = list(_code_elements(root))
    if not elements:
        raise CodingError(f"{label} has no codes; export a codebook with codes")
    marked: dict[Any, str] = {}
    for el, _ in elements:
        match = _ID_LINE.search(el.findtext(f"{{{ns}}}Description") or "")
        if match:
            marked[el] = match.group(1)
    reserved = set(marked.values())
    ids: dict[Any, str] = {}
    dims: dict[Any, str] = {}
    codes: list[Code] = []
    for el, parent_el in elements:
        code_name = (el.get("name") or "").strip()
        definition = _ID_LINE.sub("", el.findtext(f"{{{ns}}}Description") or "").strip()
        parent = ids.get(parent_el) if parent_el is not None else None
        mark = marked.get(el)
        letter = (mark if mark in CIMO else None) if mark else _cimo_letter(code_name)
        taken = set(ids.values())
        if letter and letter not in taken and (mark or letter not in reserved):
            code_id, dimension, parent = letter, "cimo", None
        else:
            dimension = "cimo" if parent_el is not None and dims[parent_el] == "cimo" else "theme"
            slug = _slug(code_name)
            candidates = [f"{parent if dimension == 'cimo' else 'T'}-{slug}"]
            if parent is not None and dimension == "theme":
                candidates.append(f"{parent}-{slug}")
            code_id = _unique([mark], taken) if mark else _unique(candidates, taken | reserved)
        ids[el], dims[el] = code_id, dimension
        codes.append(
            Code(
                id=code_id,
                name=code_name or code_id,
                dimension=dimension,
                parent=parent,
                definition=definition,
                color=_own_color(code_id, _color(el.get("color"))),
                codable=(el.get("isCodable") or "true").strip().lower() != "false",
                guid=None
                if el.get("guid") in (None, "", _guid(f"code:{code_id}"))
                else el.get("guid"),
            )
        )
    try:
        return Codebook(name=name, description=f"Geïmporteerd uit {origin}", codes=codes)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"]
        raise CodingError(f"{label}: codebook is not usable ({why})") from exc


# -- validation ----------------------------------------------------------------------------------
@functools.cache
def _schema(name: str) -> Any:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def validate(xml_bytes: bytes, schema: str) -> list[str]:
    """Schema errors of ``xml_bytes`` against Project.xsd or Codebook.xsd; empty means valid."""
    key = schema.removesuffix(".xsd").lower()
    names = {"project": "Project.xsd", "codebook": "Codebook.xsd"}
    if key not in names:
        raise ValueError(f"schema is Project.xsd or Codebook.xsd, not {schema!r}")
    xsd = _schema(names[key])
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        doc = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    if xsd.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]
