"""CMO configurations as objects of a project.

A configuration links segments that play the roles context (C), intervention (I), mechanism (M,
or its resource / reasoning halves) and outcome (O), from one or more transcripts, with a
statement in the coder's words, an optional verdict on a programme theory (supports / refutes /
refines) and optional links to report passages that state the same configuration (report,
section, page, quote). They live in the project database (tables ``configurations``,
``configuration_segments``, ``configuration_links``) and travel into the ``.qdpx`` export as
REFI-QDA Notes, Links and Sets (see ``coding.project_export``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import CodingError
from .project import VERDICTS, ProjectStore, now

ROLES = ("C", "I", "M", "M-resource", "M-reasoning", "O")


@dataclass(frozen=True, slots=True)
class Member:
    segment_id: int
    role: str
    transcript: str
    segment: str  # the segment key within its transcript (seg-0001)
    text: str


@dataclass(frozen=True, slots=True)
class ReportLink:
    report: str
    section: str = ""
    page: int | None = None
    quote: str = ""

    def label(self) -> str:
        parts = [self.report, self.section, f"p. {self.page}" if self.page else ""]
        return ", ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class Configuration:
    id: int
    name: str
    statement: str
    verdict: str | None
    theory: str
    coder: str
    created: str
    updated: str
    members: tuple[Member, ...] = ()
    links: tuple[ReportLink, ...] = ()

    @property
    def transcripts(self) -> list[str]:
        """The transcripts with a segment in this configuration, in order of first mention."""
        return list(dict.fromkeys(m.transcript for m in self.members))

    def note_text(self) -> str:
        """The configuration as one readable text (the body of its REFI-QDA note)."""
        lines = [self.statement]
        if self.verdict:
            theory = f" {self.theory}" if self.theory else ""
            lines.append(f"Oordeel over de programmatheorie{theory}: {self.verdict}")
        for m in self.members:
            lines.append(f"{m.role}: {m.text} ({m.transcript}, {m.segment})")
        for link in self.links:
            quote = f': "{link.quote}"' if link.quote else ""
            lines.append(f"Rapport: {link.label()}{quote}")
        return "\n".join(lines)


def parse_segment(store: ProjectStore, ref: str) -> int:
    """``TRANSCRIPT:SEGMENT`` (e.g. ``gesprek1.txt:seg-0003``) as a segment id."""
    transcript, colon, key = ref.rpartition(":")
    if not colon:
        raise CodingError(f"segment {ref!r}: write TRANSCRIPT:SEGMENT, e.g. gesprek1.txt:seg-0003")
    stored = store.transcript(transcript)
    if stored is None:
        raise CodingError(f"segment {ref!r}: no transcript {transcript!r} in the project")
    seg = next((s for s in store.segments(stored.id) if s.key == key), None)
    if seg is None:
        raise CodingError(f"segment {ref!r}: {transcript} has no segment {key}")
    return seg.id


def parse_member(store: ProjectStore, ref: str) -> tuple[int, str]:
    """``TRANSCRIPT:SEGMENT=ROLE`` (e.g. ``gesprek1.txt:seg-0003=M``) as (segment id, role)."""
    where, sep, role = ref.rpartition("=")
    if not sep or role not in ROLES:
        raise CodingError(
            f"segment {ref!r}: write TRANSCRIPT:SEGMENT=ROLE with ROLE one of {', '.join(ROLES)}"
        )
    return parse_segment(store, where), role


def parse_link(text: str) -> ReportLink:
    """``REPORT|SECTION|PAGE|QUOTE``; everything after the report is optional."""
    parts = [p.strip() for p in text.split("|", 3)]
    if not parts[0]:
        raise CodingError(f"link {text!r}: start with the report id, e.g. regioplan-2020|4.2|17")
    section = parts[1] if len(parts) > 1 else ""
    page_text = parts[2] if len(parts) > 2 else ""
    if page_text and not page_text.isdigit():
        raise CodingError(f"link {text!r}: the page is a number")
    return ReportLink(parts[0], section, int(page_text) if page_text else None, *parts[3:4])


def _check(statement: str | None, verdict: str | None) -> None:
    if statement is not None and not statement.strip():
        raise CodingError("a configuration needs a statement in your own words")
    if verdict is not None and verdict not in VERDICTS:
        raise CodingError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")


def create_configuration(
    store: ProjectStore,
    name: str,
    statement: str,
    coder: str,
    *,
    verdict: str | None = None,
    theory: str = "",
    members: Iterable[tuple[int, str]] = (),
    links: Iterable[ReportLink] = (),
) -> Configuration:
    if not name.strip():
        raise CodingError("a configuration needs a name")
    if not coder.strip():
        raise CodingError("a configuration needs a coder name; pass --coder NAME")
    _check(statement, verdict)
    stamp = now()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM configurations WHERE name = ?", (name,)).fetchone():
            raise CodingError(f"configuration {name!r} exists; edit it instead")
        cur = con.execute(
            "INSERT INTO configurations (name, statement, verdict, theory, coder, created, "
            "updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, statement.strip(), verdict, theory, coder, stamp, stamp),
        )
        cid = int(cur.lastrowid or 0)
        _add_parts(con, cid, members, links)
    return get_configuration(store, name)


def _add_parts(con, cid: int, members: Iterable[tuple[int, str]], links: Iterable[ReportLink]):
    con.executemany(
        "INSERT OR IGNORE INTO configuration_segments VALUES (?, ?, ?)",
        [(cid, sid, role) for sid, role in members],
    )
    con.executemany(
        "INSERT INTO configuration_links (configuration_id, report, section, page, quote) "
        "VALUES (?, ?, ?, ?, ?)",
        [(cid, x.report, x.section, x.page, x.quote) for x in links],
    )


def edit_configuration(
    store: ProjectStore,
    name: str,
    *,
    statement: str | None = None,
    verdict: str | None = None,
    theory: str | None = None,
    add: Iterable[tuple[int, str]] = (),
    remove: Iterable[int] = (),
    links: Iterable[ReportLink] = (),
    drop_links: bool = False,
) -> Configuration:
    """Change what is given; the rest stays. ``remove`` takes segment ids out (every role)."""
    _check(statement, verdict)
    cid = get_configuration(store, name).id
    with store.transaction() as con:
        for column, value in (("statement", statement), ("verdict", verdict), ("theory", theory)):
            if value is not None:
                con.execute(
                    f"UPDATE configurations SET {column} = ? WHERE id = ?",
                    (value.strip() if column == "statement" else value, cid),
                )
        con.executemany(
            "DELETE FROM configuration_segments WHERE configuration_id = ? AND segment_id = ?",
            [(cid, sid) for sid in remove],
        )
        if drop_links:
            con.execute("DELETE FROM configuration_links WHERE configuration_id = ?", (cid,))
        _add_parts(con, cid, add, links)
        con.execute("UPDATE configurations SET updated = ? WHERE id = ?", (now(), cid))
    return get_configuration(store, name)


def configurations(store: ProjectStore) -> list[Configuration]:
    rows = store.read(
        "SELECT id, name, statement, verdict, theory, coder, created, updated "
        "FROM configurations ORDER BY id"
    )
    members: dict[int, list[Member]] = {}
    for cid, sid, role, tname, key, text in store.read(
        "SELECT m.configuration_id, m.segment_id, m.role, t.name, s.key, s.text "
        "FROM configuration_segments m JOIN segments s ON s.id = m.segment_id "
        "JOIN transcripts t ON t.id = s.transcript_id ORDER BY t.id, s.start, m.role"
    ):
        members.setdefault(cid, []).append(Member(sid, role, tname, key, text))
    links: dict[int, list[ReportLink]] = {}
    for cid, report, section, page, quote in store.read(
        "SELECT configuration_id, report, section, page, quote FROM configuration_links ORDER BY id"
    ):
        links.setdefault(cid, []).append(ReportLink(report, section, page, quote))
    return [
        Configuration(
            cid,
            name,
            statement,
            verdict,
            theory,
            coder,
            created,
            updated,
            tuple(members.get(cid, ())),
            tuple(links.get(cid, ())),
        )
        for cid, name, statement, verdict, theory, coder, created, updated in rows
    ]


def get_configuration(store: ProjectStore, name: str) -> Configuration:
    found = next((c for c in configurations(store) if c.name == name), None)
    if found is None:
        raise CodingError(f"no configuration {name!r}; see `watwerkt cmo list {store.name}`")
    return found


def configuration_table(
    items: Sequence[Configuration], transcripts: Sequence[str], fmt: str
) -> str:
    """Configurations x transcripts (the roles each transcript supplies), as Markdown or CSV."""
    header = ["configuratie", "uitspraak", "oordeel", *transcripts, "rapporten"]
    rows = []
    for c in items:
        cells = []
        for t in transcripts:
            roles = sorted({m.role for m in c.members if m.transcript == t}, key=ROLES.index)
            cells.append(" ".join(roles))
        reports = "; ".join(link.label() for link in c.links)
        rows.append([c.name, c.statement, c.verdict or "", *cells, reports])
    from .project_tables import render

    return render(header, rows, fmt, numeric=False)
