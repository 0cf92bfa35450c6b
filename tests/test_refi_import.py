"""Whole REFI-QDA projects both ways (coding/refi_import.py, coding/project_export.py): import of
QualCoder-, NVivo-, MAXQDA- and ATLAS.ti-style .qdpx files, import -> export -> import equal,
hostile archives refused, and our exports read as QualCoder's importer reads them (a replica of
what src/qualcoder/refi.py requires, written from its source; none of its code is copied)."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from coding.codebook import load_codebook
from coding.errors import CodingError
from coding.project import create_project, open_project
from coding.project_export import write_project_qdpx
from coding.refi import read_codebook, validate
from coding.refi_import import import_qdpx

NVIVO = Path(__file__).resolve().parent / "data" / "nvivo15-mac-codebook-export.qdpx"
P = "urn:QDA-XML:project:1.0"

U_ANNA, U_BERT = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
TEXT_1 = (
    "\ufeffInterviewer: Hoe ging het?\r\nRespondent: De coach belde elke week.\r\nDat hielp.\r\n"
)
TEXT_2 = "R: Mijn moeder was trots. 👍 Ik kreeg een contract.\n"


def _g(n: int) -> str:
    return f"b0000000-0000-4000-8000-{n:012d}"


def _qde(origin: str = "QualCoder 3.6") -> str:
    """A QualCoder-like project: a category, nested codes, two coders on one span, a selection
    with two Codings, notes referenced by a source and a selection, a project note and a Set."""
    start = TEXT_1.index("De coach")  # positions over the raw text: BOM and CR count
    end = TEXT_1.index("\r\nDat")
    s2 = TEXT_2.index("Ik kreeg")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="{P}" name="studie" origin="{origin}" creatingUserGUID="{U_ANNA}">
 <Users><User guid="{U_ANNA}" name="anna"/><User guid="{U_BERT}" name="bert"/></Users>
 <CodeBook><Codes>
  <Code guid="{_g(1)}" name="Begeleiding" isCodable="false">
   <Description>Alles over begeleiding.</Description>
   <Code guid="{_g(2)}" name="Coach" isCodable="true" color="#AA3300">
    <Description>De coach doet iets.</Description>
    <Code guid="{_g(3)}" name="Bellen" isCodable="true" color="#00AA33"/>
   </Code>
  </Code>
  <Code guid="{_g(4)}" name="Werk" isCodable="true" color="#3300AA"/>
 </Codes></CodeBook>
 <Sources>
  <TextSource guid="{_g(10)}" name="gesprek 1" plainTextPath="internal://{_g(10)}.txt"
    creatingUser="{U_ANNA}" creationDateTime="2024-05-01T10:00:00Z">
   <PlainTextSelection guid="{_g(11)}" name="coach" startPosition="{start}" endPosition="{end}"
     creatingUser="{U_ANNA}" creationDateTime="2024-05-02T09:00:00Z">
    <Coding guid="{_g(12)}" creatingUser="{U_ANNA}" creationDateTime="2024-05-02T09:00:00Z">
     <CodeRef targetGUID="{_g(2)}"/></Coding>
    <Coding guid="{_g(13)}" creatingUser="{U_ANNA}" creationDateTime="2024-05-02T09:01:00Z">
     <CodeRef targetGUID="{_g(3)}"/></Coding>
    <NoteRef targetGUID="{_g(31)}"/>
   </PlainTextSelection>
   <PlainTextSelection guid="{_g(14)}" name="coach" startPosition="{start}" endPosition="{end}"
     creatingUser="{U_BERT}" creationDateTime="2024-06-01T12:00:00Z">
    <Coding guid="{_g(15)}" creatingUser="{U_BERT}" creationDateTime="2024-06-01T12:00:00Z">
     <CodeRef targetGUID="{_g(3)}"/></Coding>
   </PlainTextSelection>
   <NoteRef targetGUID="{_g(30)}"/>
  </TextSource>
  <TextSource guid="{_g(20)}" name="gesprek 2" plainTextPath="internal://{_g(20)}.txt"
    creatingUser="{U_BERT}" creationDateTime="2024-05-03T10:00:00Z">
   <PlainTextSelection guid="{_g(21)}" name="werk" startPosition="{s2}"
     endPosition="{s2 + len("Ik kreeg een contract.")}" creatingUser="{U_BERT}"
     creationDateTime="2024-06-02T12:00:00Z">
    <Coding guid="{_g(22)}" creatingUser="{U_BERT}" creationDateTime="2024-06-02T12:00:00Z">
     <CodeRef targetGUID="{_g(4)}"/></Coding>
   </PlainTextSelection>
  </TextSource>
 </Sources>
 <Notes>
  <Note guid="{_g(30)}" name="over gesprek 1" creatingUser="{U_ANNA}"
    creationDateTime="2024-05-04T08:00:00Z">
   <PlainTextContent>Rustig gesprek.</PlainTextContent></Note>
  <Note guid="{_g(31)}" name="bij de coach" creatingUser="{U_ANNA}"
    creationDateTime="2024-05-04T08:05:00Z">
   <PlainTextContent>Wekelijks!</PlainTextContent></Note>
  <Note guid="{_g(32)}" name="dagboek" creatingUser="{U_BERT}"
    creationDateTime="2024-05-05T08:00:00Z">
   <PlainTextContent>Project gestart.</PlainTextContent></Note>
 </Notes>
 <Sets><Set guid="{_g(40)}" name="Jongeren"><Description>Gesprekken met jongeren</Description>
  <MemberSource targetGUID="{_g(10)}"/><MemberSource targetGUID="{_g(20)}"/></Set></Sets>
</Project>
"""


def _archive(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def qualcoder_file(tmp_path: Path) -> Path:
    assert validate(_qde().encode(), "Project.xsd") == []
    return _archive(
        tmp_path / "qualcoder.qdpx",
        {
            "project.qde": _qde(),
            f"sources/{_g(10)}.txt": TEXT_1.encode("utf-8"),
            f"sources/{_g(20)}.txt": TEXT_2.encode("utf-8"),
        },
    )


def snapshot(home: Path, name: str) -> dict[str, Any]:
    """Everything an import keeps, by names and text (not by row ids)."""
    with open_project(home, name) as store:
        transcripts = {t.id: t for t in store.transcripts()}
        segments = {s.id: s for s in store.segments()}
        where = {
            sid: (transcripts[s.transcript_id].name, s.start, s.end) for sid, s in segments.items()
        }
        book = store.codebook()
        refi = store.meta("refi") or "{}"
        import json

        return {
            "codes": [
                (c.id, c.name, c.parent, c.color, c.codable, c.guid, c.definition)
                for c in book.codes
            ],
            "transcripts": sorted(
                (t.name, t.text, t.alliance, t.role, t.date, t.added) for t in transcripts.values()
            ),
            "codings": sorted(
                (where[c.segment_id], c.coder, c.code, c.status, c.created) for c in store.codings()
            ),
            "memos": sorted(
                (
                    (
                        transcripts[m.transcript_id].name if m.transcript_id else None,
                        where[m.segment_id] if m.segment_id else None,
                        m.coder,
                        m.text,
                        m.created,
                    )
                    for m in store.memos()
                ),
                key=repr,
            ),
            "sets": json.loads(refi).get("sets", []),
            "guids": {  # selections: one foreign selection may become one per decision (date)
                k: v
                for k, v in json.loads(refi).get("guids", {}).items()
                if not k.startswith(("memo:", "selection:"))
            },
        }


# -- import --------------------------------------------------------------------------------------
def test_imports_a_qualcoder_project_with_coders_hierarchy_notes_and_sets(qualcoder_file, tmp_path):
    report = import_qdpx(tmp_path / "home", qualcoder_file, "studie")
    assert (report.transcripts, report.codes, report.codings, report.memos, report.sets) == (
        2,
        4,
        4,
        3,
        1,
    )
    assert report.coders == ["anna", "bert"] and report.skipped == {}
    snap = snapshot(tmp_path / "home", "studie")
    by_id = {c[0]: c for c in snap["codes"]}
    assert by_id["T-begeleiding"][4] is False  # the category stays a category
    assert by_id["T-coach"][2] == "T-begeleiding" and by_id["T-bellen"][2] == "T-coach"
    assert by_id["T-coach"][3] == "#AA3300" and by_id["T-coach"][5] == _g(2)  # colour, GUID
    text1 = next(t[1] for t in snap["transcripts"] if t[0] == "gesprek 1")
    assert "\r" not in text1 and not text1.startswith("\ufeff")  # LF only, positions moved
    span = ("gesprek 1", text1.index("De coach"), text1.index("\nDat"))
    assert text1[span[1] : span[2]] == "Respondent: De coach belde elke week."[12:]
    assert [c for c in snap["codings"] if c[0] == span] == [
        (span, "anna", "T-bellen", "added", "2024-05-02T09:01:00.000000Z"),
        (span, "anna", "T-coach", "added", "2024-05-02T09:00:00.000000Z"),
        (span, "bert", "T-bellen", "added", "2024-06-01T12:00:00.000000Z"),
    ]
    memos = {m[3]: m for m in snap["memos"]}
    assert memos["Rustig gesprek."][:3] == ("gesprek 1", None, "anna")
    assert memos["Wekelijks!"][:2] == ("gesprek 1", span)
    assert memos["Project gestart."][:3] == (None, None, "bert")
    assert snap["sets"] == [
        {
            "guid": _g(40),
            "name": "Jongeren",
            "description": "Gesprekken met jongeren",
            "sources": ["gesprek 1", "gesprek 2"],
        }
    ]


def test_atlas_positions_count_crlf_as_one_character(tmp_path):
    text = "Vraag?\r\nDe coach belde.\r\n"
    start = "Vraag?\nDe coach belde.\n".index("De coach")  # ATLAS.ti counts CRLF as one
    qde = _qde("ATLAS.ti 23").replace(f"internal://{_g(20)}.txt", f"internal://{_g(20)}.txt")
    root = ET.fromstring(qde)
    src = root.find(f"{{{P}}}Sources/{{{P}}}TextSource")
    assert src is not None
    for sel in src.findall(f"{{{P}}}PlainTextSelection"):
        sel.set("startPosition", str(start))
        sel.set("endPosition", str(start + len("De coach belde.")))
    path = _archive(
        tmp_path / "atlas.qdpx",
        {
            "project.qde": ET.tostring(root, encoding="unicode"),
            f"Sources/{_g(10)}.txt": text,  # NVivo and ATLAS.ti write Sources/
            f"Sources/{_g(20)}.txt": TEXT_2,
        },
    )
    import_qdpx(tmp_path / "home", path, "atlas")
    snap = snapshot(tmp_path / "home", "atlas")
    stored = next(t[1] for t in snap["transcripts"] if t[0] == "gesprek 1")
    (where, *_), *_ = snap["codings"]
    assert stored[where[1] : where[2]] == "De coach belde."


def test_round_trip_import_export_import_is_equal(qualcoder_file, tmp_path):
    home = tmp_path / "home"
    import_qdpx(home, qualcoder_file, "een")
    with open_project(home, "een") as store:
        out = write_project_qdpx(store, tmp_path / "een.qdpx")
    qde = zipfile.ZipFile(out).read("project.qde")
    assert validate(qde, "Project.xsd") == []
    for guid in (_g(2), _g(10), _g(11), _g(14), _g(30), _g(40), U_ANNA):
        assert guid.encode() in qde  # foreign GUIDs kept
    import_qdpx(home, out, "twee")
    first, second = snapshot(home, "een"), snapshot(home, "twee")
    assert first == second
    with open_project(home, "twee") as store:
        again = write_project_qdpx(store, tmp_path / "twee.qdpx")
    assert zipfile.ZipFile(again).read("project.qde").replace(b"twee", b"een") == qde


def test_nvivo_sample_imports_exports_valid_and_round_trips(tmp_path):
    home = tmp_path / "home"
    report = import_qdpx(home, NVIVO, "nvivo")
    assert (report.codes, report.transcripts, report.origin) == (262, 2, "NVivo for Mac 15.0.0")
    with open_project(home, "nvivo") as store:
        out = write_project_qdpx(store, tmp_path / "nvivo.qdpx")
    qde = zipfile.ZipFile(out).read("project.qde")
    assert validate(qde, "Project.xsd") == []
    nvivo_guids = {
        el.get("guid")
        for el in ET.fromstring(zipfile.ZipFile(NVIVO).read("project.qde")).iter(f"{{{P}}}Code")
    }
    ours = {el.get("guid") for el in ET.fromstring(qde).iter(f"{{{P}}}Code")}
    assert ours == nvivo_guids
    assert all(el.get("color") for el in ET.fromstring(qde).iter(f"{{{P}}}Code"))
    import_qdpx(home, out, "nvivo2")
    assert snapshot(home, "nvivo") == snapshot(home, "nvivo2")


# -- hostile archives ----------------------------------------------------------------------------
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n'
    f'<Project xmlns="{P}" name="&lol2;"/>'
)
EXTERNAL = (
    '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    f'<Project xmlns="{P}" name="&x;"/>'
)


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"project.qde": _qde(), "../buiten.txt": "x"}, "outside the archive"),
        ({"project.qde": _qde(), "/etc/cron.d/x": "x"}, "outside the archive"),
        ({"project.qde": _qde(), "C:/Windows/x.txt": "x"}, "outside the archive"),
        ({"project.qde": LAUGHS}, "DTD or entities"),
        ({"project.qde": EXTERNAL}, "DTD or entities"),
        ({"sources/a.txt": "x"}, "no project.qde"),
    ],
    ids=["dotdot", "absolute", "drive", "billion-laughs", "external-entity", "no-project"],
)
def test_hostile_archives_are_refused_with_a_reason(tmp_path, members, reason):
    path = _archive(tmp_path / "boos.qdpx", members)
    for read in (lambda: import_qdpx(tmp_path / "home", path, "boos"), lambda: read_codebook(path)):
        with pytest.raises(CodingError, match=reason) as caught:
            read()
        assert "\n" not in str(caught.value)
    assert not (tmp_path / "home" / "projects" / "boos").exists()


def test_members_over_the_size_bound_are_refused_before_unpacking(tmp_path, monkeypatch):
    import coding.refi_safe as safe

    path = _archive(tmp_path / "bom.qdpx", {"project.qde": _qde(), "sources/x.txt": b"0" * 50_000})
    monkeypatch.setattr(safe, "MAX_MEMBER_BYTES", 20_000)
    with pytest.raises(CodingError, match=r"sources/x.txt' unpacks to 50000 bytes"):
        import_qdpx(tmp_path / "home", path, "bom")


def test_a_dtd_in_a_codebook_file_is_refused(tmp_path):
    qdc = tmp_path / "boek.qdc"
    qdc.write_text(LAUGHS.replace("Project", "CodeBook").replace(P, "urn:QDA-XML:codebook:1.0"))
    with pytest.raises(CodingError, match="DTD or entities"):
        load_codebook(qdc)


# -- QualCoder's importer, as a replica ----------------------------------------------------------
def qualcoder_import(qdpx: Path) -> dict[str, Any]:
    """What QualCoder's ``RefiImport.import_project`` (src/qualcoder/refi.py) makes of a file,
    replicated from its source: it unzips, picks ``sources`` if that folder exists else
    ``Sources``, reads the namespace version from the root's children, takes ``Users`` as
    name/guid pairs, walks ``CodeBook`` -> first child (``Codes``) recursively (a Code is a
    category only when ``isCodable="false"``; only codes get a cid, looked up by guid; a code
    without colour gets a random one), reads each TextSource's text from ``folder + sources +
    plainTextPath.split('internal:/')[1]`` (adding a space after each LF when the first line
    ends in CRLF, unless origin is ATLAS), and for each PlainTextSelection takes its
    ``creatingUser`` (else ``modifyingUser``) as the owner of *every* Coding in it, its
    ``creationDateTime`` as their date, ``list(Coding)[0]`` as the CodeRef, and drops a second
    coding of the same (cid, source, pos0, pos1, owner). The project's coder becomes
    ``users[0]``."""
    folder = Path(tempfile.mkdtemp())
    try:
        with zipfile.ZipFile(qdpx) as zf:
            zf.extractall(folder)
        sources_name = "/sources" if "sources" in os.listdir(folder) else "/Sources"
        root = ET.parse(folder / "project.qde").getroot()
        version = next(iter(root)).tag.split("{urn:QDA-XML:project:")[1].split("}")[0]
        ns = f"{{urn:QDA-XML:project:{version}}}"
        origin = root.get("origin")
        assert origin is not None  # parse_project_tag calls .upper() on it
        users = [{"name": u.get("name"), "guid": u.get("guid")} for u in root.find(f"{ns}Users")]
        codes: dict[str, dict[str, Any]] = {}
        categories: list[str] = []

        def sub_codes(el: Any) -> None:
            if el.get("isCodable") == "false":
                categories.append(el.get("name"))
            else:
                assert el.get("name") is not None
                codes[el.get("guid")] = {"name": el.get("name"), "color": el.get("color")}
            for child in el:
                if child.tag == f"{ns}Code":
                    sub_codes(child)

        for code in list(root.find(f"{ns}CodeBook"))[0]:  # noqa: RUF015 (as QualCoder reads it)
            sub_codes(code)
        texts, codings = {}, []
        seen: set[tuple] = set()
        for source in root.find(f"{ns}Sources"):
            if source.tag != f"{ns}TextSource":
                continue
            path = str(folder) + sources_name + source.get("plainTextPath").split("internal:/")[1]
            raw = Path(path).read_bytes()
            first = raw.split(b"\n", 1)[0]
            fulltext = raw.decode("utf-8", errors="replace")
            if first.endswith(b"\r") and "ATLAS" not in origin:
                fulltext = fulltext.replace("\n", "\n ")
            texts[source.get("name")] = fulltext
            for sel in source:
                if sel.tag != f"{ns}PlainTextSelection":
                    continue
                pos0, pos1 = int(sel.get("startPosition")), int(sel.get("endPosition"))
                owner_guid = sel.get("creatingUser") or sel.get("modifyingUser")
                owner = next((u["name"] for u in users if u["guid"] == owner_guid), "default")
                date = sel.get("creationDateTime") or sel.get("modifiedDateTime") or "now"
                for coding in sel:
                    if coding.tag != f"{ns}Coding":
                        continue
                    ref = list(coding)[0]  # noqa: RUF015 (the first child, as QualCoder)
                    cid = ref.get("targetGUID") if ref.get("targetGUID") in codes else None
                    key = (cid, source.get("name"), pos0, pos1, owner)
                    if key in seen:
                        continue  # IntegrityError: "Only one loaded"
                    seen.add(key)
                    codings.append(
                        {
                            "code": codes[cid]["name"] if cid else None,
                            "source": source.get("name"),
                            "text": fulltext[pos0:pos1],
                            "owner": owner,
                            "date": date.replace("T", " ").replace("Z", ""),
                            "intended": coding.get("creatingUser"),
                            "owner_guid": owner_guid,
                        }
                    )
        return {
            "coder": users[0]["name"] if users else None,
            "codes": codes,
            "categories": categories,
            "texts": texts,
            "codings": codings,
        }
    finally:
        shutil.rmtree(folder)


def test_qualcoder_reads_our_project_export_with_every_coder(qualcoder_file, tmp_path):
    home = tmp_path / "home"
    import_qdpx(home, qualcoder_file, "studie")
    with open_project(home, "studie") as store:
        seg = store.segments()[0]
        store.set_coding(seg.id, "watwerkt-suggester cimo-2/x", ["T-werk"], "added")
        out = write_project_qdpx(store, tmp_path / "uit.qdpx")
    seen = qualcoder_import(out)
    assert seen["coder"] in ("anna", "bert")  # a human, never the assistant
    assert seen["categories"] == ["Begeleiding"]
    assert all(c["color"] for c in seen["codes"].values())  # no random colours
    snap = snapshot(home, "studie")
    expected = sorted(
        (where[0], c, coder, created[:19].replace("T", " "))
        for where, coder, c, _, created in snap["codings"]
    )
    names = {c[0]: c[1] for c in snap["codes"]}
    got = sorted((c["source"], c["code"], c["owner"], c["date"]) for c in seen["codings"])
    assert got == sorted((s, names[c], who, d) for s, c, who, d in expected)
    assert all(c["owner_guid"] == c["intended"] for c in seen["codings"])  # filed under its coder
    for c in seen["codings"]:
        assert c["text"] and c["text"] in seen["texts"][c["source"]]


def test_qualcoder_reads_a_single_transcript_export_under_the_human_coder(tmp_path):
    from datetime import UTC, datetime

    from coding.models import CodedSegment, CodedTranscript, Segment, Transcript
    from coding.refi import write_qdpx

    text = "R: De coach belde elke week.\nR: Ik kreeg een contract.\n"
    segs = [
        Segment(f"s{i}", "R", text.index(t), text.index(t) + len(t), t, i)
        for i, t in enumerate(("De coach belde elke week.", "Ik kreeg een contract."))
    ]
    coded = CodedTranscript(
        Transcript("g", text, ()), tuple(CodedSegment(s, "I", {"I": 0.9}) for s in segs), "m"
    )
    when = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
    out = write_qdpx(
        coded,
        load_codebook(),
        tmp_path / "g.qdpx",
        accepted={"s0": ["I", "T-coaching"], "s1": ["O"]},
        coder="anna",
        created=when,
    )
    seen = qualcoder_import(out)
    assert seen["coder"] == "anna"
    assert sorted((c["text"], c["code"], c["owner"], c["date"]) for c in seen["codings"]) == [
        ("De coach belde elke week.", "Interventie", "anna", "2025-02-03 04:05:06"),
        ("De coach belde elke week.", "coaching en mentoring", "anna", "2025-02-03 04:05:06"),
        ("Ik kreeg een contract.", "Uitkomst", "anna", "2025-02-03 04:05:06"),
    ]


def test_a_watwerkt_project_round_trips_through_its_own_export(tmp_path):
    from coding.models import Segment, Transcript

    home = tmp_path / "home"
    text = "R: De coach belde elke week.\nR: Ik kreeg een contract.\n"
    with create_project(home, "eigen") as store:
        segs = [
            Segment(f"seg-{i:04d}", "R", text.index(t), text.index(t) + len(t), t, i)
            for i, t in enumerate(("De coach belde elke week.", "Ik kreeg een contract."), 1)
        ]
        t = store.add_transcript(Transcript("g1", text, ()), segs, alliance="Noord", role="coach")
        ids = [s.id for s in store.segments(t.id)]
        store.set_coding(ids[0], "anna", ["I", "T-coaching"], "added")
        store.set_coding(ids[0], "bert", ["M"], "added")
        store.set_coding(ids[1], "anna", ["O"], "accepted")
        store.set_coding(ids[1], "bert", [], "rejected")
        store.add_memo("Goed gesprek.", "anna", transcript_id=t.id)
        store.add_memo("Let op dit.", "bert", transcript_id=t.id, segment_id=ids[1])
        out = write_project_qdpx(store, tmp_path / "eigen.qdpx")
    import_qdpx(home, out, "terug")
    with open_project(home, "terug") as store:
        out2 = write_project_qdpx(store, tmp_path / "terug.qdpx")
    import_qdpx(home, out2, "nogmaals")
    back, again = snapshot(home, "terug"), snapshot(home, "nogmaals")
    assert back == again
    kept = {(w[1], coder, code) for w, coder, code, _, _ in back["codings"]}
    assert kept == {
        (segs[0].start, "anna", "I"),
        (segs[0].start, "anna", "T-coaching"),
        (segs[0].start, "bert", "M"),
        (segs[1].start, "anna", "O"),
    }  # the rejection has no place in a QDA file
    assert back["transcripts"][0][2:4] == ("Noord", "coach")
    assert {m[3]: m[1] is not None for m in back["memos"]} == {
        "Goed gesprek.": False,
        "Let op dit.": True,
    }


@pytest.mark.slow
def test_code_with_the_nvivo_codebook_exports_with_mapped_roles(built_home, tmp_path):
    """`watwerkt code --codebook X --qdpx` with a codebook that has no C/I/M/O codes (it used to
    fail with "code I is not in the codebook")."""
    import contextlib
    import io
    import json

    from ui.cli import main

    out = tmp_path / "nvivo-uit.qdpx"
    interview = Path(__file__).resolve().parent / "data" / "interview_pseudo.txt"
    argv = ["code", str(interview), "--home", str(built_home), "--codebook", str(NVIVO)]
    argv += ["--qdpx", str(out), "--cimo-map", "I=programming,O=competencies"]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main([*argv, "--json", "--no-report-evidence", "--keep-names"]) == 0
    data = json.loads(buffer.getvalue())
    qde = zipfile.ZipFile(out).read("project.qde")
    assert validate(qde, "Project.xsd") == []
    book = read_codebook(NVIVO)
    guids = {c.guid: c.id for c in book.codes}
    root = ET.fromstring(qde)
    coded = [guids[r.get("targetGUID")] for r in root.iter(f"{{{P}}}CodeRef")]
    cimo = [s["cimo"] for s in data["segments"] if s["cimo"] in ("I", "O")]
    assert coded.count("T-programming") == cimo.count("I")
    assert coded.count("T-competencies") >= cimo.count("O")
    assert set(coded) <= set(guids.values())
