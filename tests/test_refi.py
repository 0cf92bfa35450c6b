"""REFI-QDA export and import (coding/refi.py): schema validity, zip layout, code-point positions,
byte-identical re-exports, and reading codebooks made by other tools (a real NVivo export)."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from coding.codebook import Code, Codebook, load_codebook
from coding.errors import CodingError
from coding.models import CodedSegment, CodedTranscript, CodeSuggestion, Segment, Transcript, Turn
from coding.refi import read_codebook, validate, write_qdc, write_qdpx

NS = {"q": "urn:QDA-XML:project:1.0"}
NVIVO = Path(__file__).resolve().parent / "data" / "nvivo15-mac-codebook-export.qdpx"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# The transcript: emoji before the coded segments (code points != UTF-16 units), an accent typed
# decomposed and normalised to NFC as ingest does, Dutch text.
TEXT = unicodedata.normalize(
    "NFC",
    "Interviewer: Hoe ging het met de begeleiding? 👍\n"
    "Respondent: Mijn coach belde me elke week, ook in de vakantie. "
    "Doordat ze me serieus namen, ging ik er ook echt voor.\n"
    "Interviewer: En thuis?\n"
    "Respondent: In het cafe\u0301 👍 zei mijn moeder dat ze trots op me was. Ja.\n",
)
SEGMENTS = {
    "s1": "Mijn coach belde me elke week, ook in de vakantie.",
    "s2": "Doordat ze me serieus namen, ging ik er ook echt voor.",
    "s3": "In het café 👍 zei mijn moeder dat ze trots op me was.",
    "s4": "Ja.",
}
EXPECTED = {
    ("s1", "I"),
    ("s1", "T-coaching"),
    ("s2", "M"),
    ("s2", "T-motivatie"),
    ("s3", "O"),
    ("s3", "T-ouders"),
}


def _segment(seg_id: str, turn: int) -> Segment:
    start = TEXT.index(SEGMENTS[seg_id])
    end = start + len(SEGMENTS[seg_id])
    return Segment(seg_id, "R", start, end, SEGMENTS[seg_id], turn)


@pytest.fixture
def coded() -> CodedTranscript:
    lines = TEXT.split("\n")[:4]
    turns, pos = [], 0
    for line in lines:
        role = "interviewer" if line.startswith("Interviewer") else "respondent"
        turns.append(Turn(line.split(":")[0], role, pos, pos + len(line)))
        pos += len(line) + 1
    transcript = Transcript("interview-07", TEXT, tuple(turns))
    segments = (
        CodedSegment(
            _segment("s1", 1),
            "I",
            {"C": 0.02, "I": 0.91, "M": 0.05, "O": 0.02},
            (CodeSuggestion("T-coaching", 0.8), CodeSuggestion("T-nazorg", 0.3)),
        ),
        CodedSegment(_segment("s2", 1), "M", {"M": 0.87}, (CodeSuggestion("T-motivatie", 0.66),)),
        CodedSegment(_segment("s3", 3), "O", {"O": 0.6}, (CodeSuggestion("T-ouders", 0.5),)),
        CodedSegment(_segment("s4", 3), None, {}, (CodeSuggestion("T-ouders", 0.2),)),
    )
    return CodedTranscript(transcript, segments, model="cimo-test 1.0")


@pytest.fixture
def codebook() -> Codebook:
    return load_codebook()


def _unzip(path: Path) -> tuple[list[str], bytes, bytes]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        qde = zf.read("project.qde")
        txt = zf.read(names[1]) if len(names) > 1 else b""
    return names, qde, txt


def _exported(qde: bytes) -> set[tuple[str, str]]:
    """(segment text, code id) per PlainTextSelection, via CodeRef -> Code guid."""
    root = etree.fromstring(qde)
    by_guid = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", NS)}
    names = {code.name: code.id for code in load_codebook().codes}
    pairs = set()
    for sel in root.iterfind(".//q:PlainTextSelection", NS):
        text = TEXT[int(sel.get("startPosition")) : int(sel.get("endPosition"))]
        seg_id = next(k for k, v in SEGMENTS.items() if v == text)
        for ref in sel.iterfind("q:Coding/q:CodeRef", NS):
            pairs.add((seg_id, names[by_guid[ref.get("targetGUID")]]))
    return pairs


# -- export --------------------------------------------------------------------------------------
def test_project_validates_against_the_schema(coded, codebook, tmp_path):
    _, qde, _ = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    assert validate(qde, "Project.xsd") == []
    assert qde.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_zip_layout_and_stored_text(coded, codebook, tmp_path):
    names, qde, txt = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    source = etree.fromstring(qde).find(".//q:TextSource", NS)
    guid = source.get("guid")
    assert names == ["project.qde", f"sources/{guid}.txt"]
    assert source.get("plainTextPath") == f"internal://{guid}.txt"
    assert source.get("richTextPath") is None
    assert txt == TEXT.encode("utf-8") and txt.decode("utf-8") == coded.transcript.text
    assert not txt.startswith(b"\xef\xbb\xbf") and b"\r" not in txt
    assert "café" in txt.decode("utf-8") and "cafe\u0301" not in txt.decode("utf-8")


def test_selections_are_code_points_over_the_stored_text(coded, codebook, tmp_path):
    _, qde, txt = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    stored = txt.decode("utf-8")
    selections = etree.fromstring(qde).findall(".//q:PlainTextSelection", NS)
    assert len(selections) == len({seg for seg, _ in EXPECTED})  # one per coded segment
    for sel in selections:
        start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        assert stored[start:end] in SEGMENTS.values()
    # the emoji before s1 makes UTF-16 offsets differ: the test would catch such an exporter
    start = TEXT.index(SEGMENTS["s1"])
    assert len(TEXT[:start].encode("utf-16-le")) // 2 != start
    assert any(int(s.get("startPosition")) == start for s in selections)


def test_exports_cimo_and_themes_above_half_with_scores(coded, codebook, tmp_path):
    _, qde, _ = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    assert _exported(qde) == EXPECTED  # s4 (no CIMO, theme 0.2) and T-nazorg (0.3) left out
    root = etree.fromstring(qde)
    notes = [d.text for d in root.iterfind(".//q:PlainTextSelection/q:Description", NS)]
    assert notes[0] == (
        "model cimo-test 1.0: C 0.02, I 0.91, M 0.05, O 0.02, T-coaching 0.80, T-nazorg 0.30"
    )
    assert notes[1] == "model cimo-test 1.0: M 0.87, T-motivatie 0.66"
    for sel in root.iterfind(".//q:PlainTextSelection", NS):
        assert len(sel.findall("q:Coding", NS)) == 2  # one selection, a Coding per code (§3.12)


def test_accepted_codes_are_exactly_what_is_exported(coded, codebook, tmp_path):
    accepted = {"s1": ["M", "T-nazorg"], "s4": ["T-ouders"]}
    out = write_qdpx(coded, codebook, tmp_path / "a.qdpx", accepted=accepted, model="handmatig")
    _, qde, _ = _unzip(out)
    assert _exported(qde) == {("s1", "M"), ("s1", "T-nazorg"), ("s4", "T-ouders")}
    assert validate(qde, "Project.xsd") == []
    with pytest.raises(CodingError, match="unknown segments"):
        write_qdpx(coded, codebook, tmp_path / "b.qdpx", accepted={"s9": ["C"]})
    with pytest.raises(CodingError, match="not in the codebook"):
        write_qdpx(coded, codebook, tmp_path / "c.qdpx", accepted={"s1": ["T-bestaat-niet"]})


def test_reexport_is_byte_identical(coded, codebook, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    a = write_qdpx(coded, codebook, tmp_path / "a" / "x.qdpx", created=first).read_bytes()
    b = write_qdpx(coded, codebook, tmp_path / "b" / "y.qdpx", created=first).read_bytes()
    assert a == b
    when = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    c = write_qdpx(coded, codebook, tmp_path / "c.qdpx", created=when).read_bytes()
    d = write_qdpx(coded, codebook, tmp_path / "d.qdpx", created=when).read_bytes()
    assert c == d != a
    assert b'creationDateTime="2025-03-04T10:30:00Z"' in _unzip(tmp_path / "c.qdpx")[1]


def test_guids_users_order_and_no_local_paths(coded, codebook, tmp_path):
    _, qde, _ = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    text = qde.decode("utf-8")
    assert "basePath" not in text and "/tmp" not in text and str(tmp_path) not in text
    assert not re.search(r"(absolute|relative|file)://|[A-Za-z]:\\|\"/(home|Users|root)/", text)
    root = etree.fromstring(qde)
    for el in root.iter():
        for attr in ("guid", "targetGUID", "creatingUser", "creatingUserGUID"):
            if el.get(attr) is not None:
                assert GUID.match(el.get(attr)), (el.tag, attr, el.get(attr))
    assert [etree.QName(c).localname for c in root] == [
        "Users",
        "CodeBook",
        "Sources",
        "Description",
    ]
    users = root.findall("q:Users/q:User", NS)
    assert [u.get("name") for u in users] == ["watwerkt-assistent"]
    for sel in root.iterfind(".//q:PlainTextSelection", NS):
        assert sel.get("creatingUser") == users[0].get("guid")
    containers = {"Users", "Codes", "Sources", "Variables", "Cases", "Notes", "Links", "Sets"}
    for el in root.iter():
        if etree.QName(el).localname in containers:
            assert len(el) > 0, f"empty <{etree.QName(el).localname}/>"


def test_codebook_in_the_project_is_nested_with_definitions(coded, codebook, tmp_path):
    _, qde, _ = _unzip(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    root = etree.fromstring(qde)
    mech = root.find(".//q:Codes/q:Code[@name='Mechanisme']", NS)
    assert {c.get("name") for c in mech.findall("q:Code", NS)} == {
        "Mechanisme – resource",
        "Mechanisme – reasoning",
    }
    context = root.find(".//q:Codes/q:Code[@name='Context']", NS)
    assert context.get("color") == "#4C78A8" and context.get("isCodable") == "true"
    assert context.findtext("q:Description", namespaces=NS).startswith("Omstandigheden")
    assert len(root.findall(".//q:Code", NS)) == len(codebook.codes)


def test_bad_transcripts_are_refused(coded, codebook, tmp_path):
    crlf = Transcript("x", TEXT.replace("\n", "\r\n"), ())
    with pytest.raises(CodingError, match="LF-only"):
        write_qdpx(CodedTranscript(crlf, (), "m"), codebook, tmp_path / "x.qdpx")
    shifted = Segment("s1", "R", 0, len(SEGMENTS["s1"]), SEGMENTS["s1"], 1)
    bad = CodedTranscript(coded.transcript, (CodedSegment(shifted, "I"),), "m")
    with pytest.raises(CodingError, match="segment s1"):
        write_qdpx(bad, codebook, tmp_path / "y.qdpx")
    assert not (tmp_path / "x.qdpx").exists() and not (tmp_path / "y.qdpx").exists()


# -- codebook exchange ---------------------------------------------------------------------------
def _nested() -> Codebook:
    return Codebook(
        name="genest",
        codes=[
            Code(id="C", name="Context", dimension="cimo", definition="Omstandigheden."),
            Code(id="T-werk", name="werk", dimension="theme", color="#112233"),
            Code(id="T-werk-stage", name="stage", dimension="theme", parent="T-werk"),
            Code(id="T-snuffel", name="snuffelstage", dimension="theme", parent="T-werk-stage"),
            Code(id="T-motivatie", name="motivatie & zelfvertrouwen", dimension="theme"),
        ],
    )


def _key(cb: Codebook) -> list[tuple[str, str, str | None, str, str, str | None]]:
    return [(c.id, c.name, c.parent, c.dimension, c.definition, c.color) for c in cb.codes]


@pytest.mark.parametrize("make", [load_codebook, _nested], ids=["default", "nested"])
def test_qdc_validates_and_round_trips(make, tmp_path):
    book = make()
    path = write_qdc(book, tmp_path / "book.qdc")
    assert validate(path.read_bytes(), "Codebook.xsd") == []
    assert validate(path.read_bytes(), "Project.xsd") != []
    back = read_codebook(path)
    assert _key(back) == _key(book)
    assert load_codebook(path).codes == back.codes  # load_codebook dispatches on .qdc
    assert write_qdc(back, tmp_path / "again.qdc").read_bytes() == path.read_bytes()


def test_own_project_codebook_reads_back(coded, codebook, tmp_path):
    back = read_codebook(write_qdpx(coded, codebook, tmp_path / "out.qdpx"))
    assert _key(back) == _key(codebook)
    assert back.name == "interview-07"


def test_reads_the_nvivo_export_with_its_nesting():
    root = etree.fromstring(zipfile.ZipFile(NVIVO).read("project.qde"))
    assert validate(etree.tostring(root), "Project.xsd") == []
    book = read_codebook(NVIVO)
    assert len(book.codes) == len(root.findall(".//q:Code", NS)) == 262
    assert all(c.dimension == "theme" and c.id.startswith("T-") for c in book.codes)
    by_id = {c.id: c for c in book.codes}
    programming = by_id["T-programming"]
    assert (programming.name, programming.parent) == ("programming", "T-competencies")
    assert by_id["T-competencies"].parent == "T-rq1-definition"
    assert by_id["T-rq1-definition"].parent is None
    # the same name elsewhere in the tree gets its own id under its own parent
    twin = by_id["T-cs-as-programming-programming"]
    assert (twin.name, twin.parent) == ("programming", "T-cs-as-programming")
    for el in root.iter("{urn:QDA-XML:project:1.0}Code"):
        parent = el.getparent()
        if etree.QName(parent).localname == "Code":
            assert any(
                c.name == el.get("name") and c.parent and by_id[c.parent].name == parent.get("name")
                for c in book.codes
            )


def test_cimo_names_become_cimo_codes(tmp_path):
    qdc = tmp_path / "english.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
        '<Code guid="00000000-0000-0000-0000-000000000001" name="Context" isCodable="true"/>'
        '<Code guid="00000000-0000-0000-0000-000000000002" name="Intervention" isCodable="true"/>'
        '<Code guid="00000000-0000-0000-0000-000000000003" name="Mechanism" isCodable="false">'
        '<Code guid="00000000-0000-0000-0000-000000000004" name="Reasoning" isCodable="true">'
        "<Description>Hoe mensen redeneren.</Description></Code></Code>"
        '<Code guid="00000000-0000-0000-0000-000000000005" name="uitkomst" isCodable="true"/>'
        '<Code guid="00000000-0000-0000-0000-000000000006" name="Jobcoaching" isCodable="true"'
        ' color="#abc"/>'
        "</Codes></CodeBook>",
        encoding="utf-8",
    )
    assert validate(qdc.read_bytes(), "Codebook.xsd") == []
    book = read_codebook(qdc)
    assert [(c.id, c.dimension, c.parent) for c in book.codes] == [
        ("C", "cimo", None),
        ("I", "cimo", None),
        ("M", "cimo", None),
        ("M-reasoning", "cimo", "M"),
        ("O", "cimo", None),
        ("T-jobcoaching", "theme", None),
    ]
    assert [c.id for c in book.cimo] == ["C", "I", "M", "O"]
    reasoning, jobcoaching = book.get("M-reasoning"), book.get("T-jobcoaching")
    assert reasoning is not None and reasoning.definition == "Hoe mensen redeneren."
    assert jobcoaching is not None and jobcoaching.color == "#aabbcc"  # #abc expanded


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.qdc", b"gewoon tekst, geen XML", "not a REFI-QDA file"),
        ("other.qdc", b"<?xml version='1.0'?><html><body/></html>", "not a REFI-QDA file"),
        ("empty.qdc", b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>', "has no codes"),
        ("broken.qdpx", b"PK\x03\x04 kapot", "not a REFI-QDA file"),
    ],
)
def test_non_refi_files_are_refused_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CodingError, match=message):
        read_codebook(path)


def test_zip_without_project_and_missing_file_are_refused(tmp_path):
    path = tmp_path / "x.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sources/a.txt", "tekst")
    with pytest.raises(CodingError, match=r"no project\.qde"):
        read_codebook(path)
    with pytest.raises(CodingError, match="cannot read"):
        read_codebook(tmp_path / "bestaat-niet.qdc")


# -- codebooks the coder brings ------------------------------------------------------------------
def test_a_codebook_without_cimo_codes_exports_and_maps_the_roles(coded, tmp_path):
    from coding.refi import resolve_cimo_map

    nvivo = read_codebook(NVIVO)
    assert nvivo.get("I") is None
    # the suggester's CIMO letters have no code here: left out, never an error
    out = write_qdpx(coded, nvivo, tmp_path / "plain.qdpx")
    _, qde, _ = _unzip(out)
    assert validate(qde, "Project.xsd") == [] and b"<Coding" not in qde
    roles = resolve_cimo_map(nvivo, "I=programming, o=T-competencies")
    assert roles == {"I": "T-programming", "O": "T-competencies"}
    mapped = write_qdpx(coded, nvivo, tmp_path / "mapped.qdpx", cimo_map=roles)
    root = etree.fromstring(_unzip(mapped)[1])
    refs = [r.get("targetGUID") for r in root.iterfind(".//q:CodeRef", NS)]
    guid = {c.id: c.guid for c in nvivo.codes}
    assert refs == [guid["T-programming"], guid["T-competencies"]]  # s1 is I, s3 is O
    assert all(el.get("color") for el in root.iterfind(".//q:Code", NS))
    nvivo_guids = {
        el.get("guid") for el in etree.fromstring(zipfile.ZipFile(NVIVO).read("project.qde")).iter()
    }
    assert {el.get("guid") for el in root.iterfind(".//q:Code", NS)} <= nvivo_guids
    with pytest.raises(CodingError, match="no code 'bestaat niet' for M"):
        resolve_cimo_map(nvivo, "M=bestaat niet")
    with pytest.raises(CodingError, match="is not LETTER=CODE"):
        resolve_cimo_map(nvivo, "Interventie")


def test_the_codebook_and_its_fingerprint_do_not_depend_on_the_file_name(tmp_path):
    import shutil

    copy = tmp_path / "een heel andere naam.qdpx"
    shutil.copy(NVIVO, copy)
    a, b = read_codebook(NVIVO), read_codebook(copy)
    assert a.model_dump() == b.model_dump()  # what Suggester.fingerprint hashes
    assert "nvivo15" not in a.model_dump_json() and "andere naam" not in b.model_dump_json()
    # codes without a GUID or colour of their own dump as before those fields existed
    assert "codable" not in load_codebook().model_dump()["codes"][0]
    assert "guid" not in load_codebook().model_dump()["codes"][0]


def test_categories_and_foreign_guids_survive_a_codebook_round_trip(tmp_path):
    qdc = tmp_path / "taguette.qdc"
    qdc.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette 1.4"><Codes>'
        '<Code guid="11111111-2222-4333-8444-555555555555" name="Thema" isCodable="false">'
        '<Code guid="11111111-2222-4333-8444-666666666666" name="Wonen" isCodable="true"/>'
        "</Code></Codes></CodeBook>",
        encoding="utf-8",
    )
    book = read_codebook(qdc)
    assert [(c.id, c.codable, c.guid) for c in book.codes] == [
        ("T-thema", False, "11111111-2222-4333-8444-555555555555"),
        ("T-wonen", True, "11111111-2222-4333-8444-666666666666"),
    ]
    again = write_qdc(book, tmp_path / "again.qdc").read_bytes()
    assert validate(again, "Codebook.xsd") == []
    root = etree.fromstring(again)
    codes = root.findall(".//{urn:QDA-XML:codebook:1.0}Code")
    assert [(c.get("guid"), c.get("isCodable")) for c in codes] == [
        ("11111111-2222-4333-8444-555555555555", "false"),
        ("11111111-2222-4333-8444-666666666666", "true"),
    ]
    assert all(re.fullmatch(r"#[0-9A-F]{6}", c.get("color")) for c in codes)
    assert read_codebook(tmp_path / "again.qdc").codes == book.codes


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kort.", "Kort."),
        (
            "Als een jongere verhuist van [PLAATS-1] naar [PLAATS-2], moet de school dat melden.",
            "Als een jongere verhuist van [PLAATS-1] naar [PLAATS-2]…",
        ),
        ("x" * 80, "x" * 59 + "…"),
    ],
)
def test_a_selection_name_is_cut_at_a_word_boundary(text: str, name: str) -> None:
    from coding.refi import _short

    assert _short(text) == name
