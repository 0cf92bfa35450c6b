"""Typesetting for benchmarks/retypeset.py: the bundled report laid out anew with reportlab.

:func:`typeset` writes one :class:`Variant` as a PDF and returns its :class:`Truth`: the body
text the clean-up should produce, every word broken at a line end (soft or real hyphen), every
header and footer drawn, and the headings. Line breaking is greedy; a word that does not fit
is broken after a real hyphen where one fits, else at a Dutch hyphenation point (pyphen), and a
real hyphen is also taken as a break, by chance, once the line is ``real_break_fill`` full, so
that many real hyphens fall at a line end.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from retypeset_text import REAL_HYPHEN_WORDS, hyphen_appendix, tables  # noqa: E402

REPORT_PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
SHORT_TITLE = "Reflectie Platform Jongeren en Werk"
# The bundled report's own chapter title is only known for chapter 3; the others are named here.
CHAPTERS = {
    "1": "Inleiding",
    "2": "Vraagstukken en rode draden",
    "3": "Geleerde lessen en de toekomst",
    "4": "Projecten in de regio",
}
BOLD = {"Helvetica": "Helvetica-Bold", "Times-Roman": "Times-Bold", "Courier": "Courier-Bold"}
_CATEGORY = {w: c for c, words in REAL_HYPHEN_WORDS.items() for w in words}


@dataclass(frozen=True, slots=True)
class Variant:
    """One layout: page, font, columns, hyphenation, running lines."""

    name: str
    font: str = "Helvetica"  # a reportlab standard font: Helvetica, Times-Roman, Courier
    size: float = 10.0
    page: tuple[float, float] = (595.0, 842.0)  # A4 in points
    margin: float = 64.0
    columns: int = 1
    gutter: float = 20.0
    hyphenate: bool = True
    # Break after a real hyphen (``MBO-|studenten``) when the line is already this full, so that
    # many real hyphens fall at a line end (1.0: only where the word does not fit).
    real_break_fill: float = 0.6
    header: str = "{title} | Hoofdstuk {n}: {chapter}"  # per chapter; "" for none
    alternate_header: bool = False  # even pages: the title only, odd pages: the chapter
    footer: str = "Pagina {page} van {pages}"
    header_last: bool = False  # draw the header after the body (it then ends the page text)
    by_rows: bool = False  # draw two columns row by row (left line, right line), as some tools do
    tables: bool = True
    appendix: int = 14  # paragraphs of the real-hyphen appendix
    max_blocks: int | None = None  # only the first N blocks of the report (quick tests)
    seed: int = 1


VARIANTS = (
    Variant("times-narrow", font="Times-Roman", size=10.5, page=(420.0, 595.0), margin=50),
    Variant(
        "helvetica-two-columns",
        size=9,
        columns=2,
        footer="- {page} -",
        alternate_header=True,
        seed=2,
    ),
    Variant(
        "courier-wide",
        font="Courier",
        size=8.5,
        page=(842.0, 595.0),
        margin=48,
        header="Hoofdstuk {n} - {chapter}",
        footer="{title} · pagina {page}",
        header_last=True,
        seed=3,
    ),
    Variant(
        "times-two-columns-small",
        font="Times-Roman",
        size=8,
        columns=2,
        page=(595.0, 842.0),
        margin=40,
        footer="{page}/{pages}",
        seed=4,
    ),
    Variant(
        "helvetica-two-columns-by-rows",
        size=9.5,
        columns=2,
        by_rows=True,
        footer="Pagina {page} van {pages}",
        seed=5,
    ),
    # Held out: added after the clean-up rules were written, and not tuned on.
    Variant(
        "helvetica-a5-large",
        size=11,
        page=(420.0, 595.0),
        margin=40,
        header="Hoofdstuk {n} · {chapter}",
        seed=11,
    ),
    Variant(
        "times-two-columns-wide-gutter",
        font="Times-Roman",
        size=9.5,
        columns=2,
        gutter=28,
        footer="{title} | {page}",
        alternate_header=True,
        header_last=True,
        seed=12,
    ),
)


@dataclass(slots=True)
class Block:
    kind: str  # chapter | heading | subheading | paragraph | item | caption | row
    text: str
    chapter: str = ""
    cells: tuple[str, ...] = ()
    bold: bool = False  # a table's header row


@dataclass(slots=True)
class LineBreak:
    """A word broken at a line end: ``soft`` (to rejoin) or ``real`` (a hyphen to keep)."""

    kind: str
    word: str
    category: str
    before: str  # up to three words before it, to find it in the cleaned text


@dataclass(slots=True)
class Truth:
    variant: str
    pages: int
    text: str  # the body as it should come out of the clean-up, blocks joined by spaces
    breaks: list[LineBreak] = field(default_factory=list)
    running: list[str] = field(default_factory=list)  # every header and footer drawn
    headings: set[str] = field(default_factory=set)


# --- the source ---------------------------------------------------------------------------


def source_blocks(pdf: Path = REPORT_PDF) -> list[Block]:
    """The bundled report's blocks as the clean-up reads them (chapter titles regrouped)."""
    from ingest.clean import normalise_chars, strip_running_lines
    from ingest.readers import read_file
    from ingest.structure import build_blocks, render

    raw = read_file(pdf)
    lines = strip_running_lines([normalise_chars(p).split("\n") for p in raw.pages])
    blocks = [b for b in build_blocks(lines) if b.kind != "chapter"]
    layout = render(blocks, len(raw.pages))
    out: list[Block] = []
    for block, (start, end) in zip(blocks, layout.blocks, strict=True):
        text = layout.text[start:end]
        if block.kind == "heading":
            number = text.split()[0].split(".")[0]
            if number in CHAPTERS and not any(
                b.kind == "chapter" and b.chapter == number for b in out
            ):
                out.append(Block("chapter", f"{number} {CHAPTERS[number]}", number))
        out.append(Block(block.kind, text, out[-1].chapter if out else "1"))
    return out


def variant_blocks(variant: Variant) -> list[Block]:
    """The source blocks for one variant: the report, tables and the hyphen appendix."""
    blocks = source_blocks()
    if variant.max_blocks is not None:
        blocks = blocks[: variant.max_blocks]
    result: list[Block] = []
    table_list = tables(variant.seed) if variant.tables else []
    # A table after the first paragraph that follows each of these headings (where present).
    anchors = ["1.2", "2.2", "3.2"]
    pending: str | None = None
    for block in blocks:
        result.append(block)
        if block.kind == "heading" and block.text.split()[0] in anchors:
            pending = block.text.split()[0]
        elif block.kind == "paragraph" and pending and table_list:
            caption, rows = table_list.pop(0)
            result.extend(_table_blocks(f"Tabel {pending}", caption, rows, block.chapter))
            pending = None
    if variant.appendix:
        result.append(Block("chapter", f"4 {CHAPTERS['4']}", "4"))
        result.append(
            Block("heading", "4.1 Voorbeelden uit de allianties (gegenereerde tekst)", "4")
        )
        for para in hyphen_appendix(variant.seed, variant.appendix):
            result.append(Block("paragraph", para, "4"))
        for caption, rows in table_list:
            result.extend(_table_blocks("Tabel 4.1", caption, rows, "4"))
    return result


def _table_blocks(label: str, caption: str, rows: list[list[str]], chapter: str) -> list[Block]:
    out = [Block("caption", f"{label} {caption}", chapter)]
    out += [
        Block("row", " ".join(r), chapter, cells=tuple(r), bold=i == 0) for i, r in enumerate(rows)
    ]
    return out


# --- typesetting ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Op:
    x: float
    y: float
    font: str
    size: float
    text: str


class _Setter:
    """Greedy line breaking into columns and pages, recording every broken word."""

    def __init__(self, variant: Variant) -> None:
        import pyphen
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.v = variant
        self.width = stringWidth
        self.hyph = pyphen.Pyphen(lang="nl_NL")
        self.rng = random.Random(variant.seed)
        w, h = variant.page
        usable = w - 2 * variant.margin
        self.col_w = (usable - (variant.columns - 1) * variant.gutter) / variant.columns
        self.top = h - variant.margin
        self.bottom = variant.margin
        self.pages: list[list[_Op]] = []
        self.chapters: list[str] = []
        self.breaks: list[LineBreak] = []
        self._new_page("1")

    def _new_page(self, chapter: str) -> None:
        self.pages.append([])
        self.chapters.append(chapter)
        self.col = 0
        self.y = self.top

    def _advance(self, height: float, chapter: str) -> None:
        if self.y - height < self.bottom:
            if self.col + 1 < self.v.columns:
                self.col += 1
                self.y = self.top
            else:
                self._new_page(chapter)
        self.y -= height

    def _x(self, indent: float = 0.0) -> float:
        return self.v.margin + self.col * (self.col_w + self.v.gutter) + indent

    def place(self, block: Block) -> None:
        v = self.v
        if block.kind == "chapter":
            if self.pages[-1]:
                self._new_page(block.chapter)
            self.chapters[-1] = block.chapter
            self._lines(block, BOLD[v.font], v.size * 1.5, gap=v.size * 1.2)
        elif block.kind in ("heading", "subheading"):
            size = v.size * (1.2 if block.kind == "heading" else 1.0)
            self._lines(block, BOLD[v.font], size, gap=v.size * 0.9)
        elif block.kind == "row":
            self._row(block)
        elif block.kind == "item":
            self._lines(block, v.font, v.size, gap=v.size * 0.3)
        else:
            gap = v.size * (0.8 if block.kind == "caption" else 0.6)
            self._lines(block, v.font, v.size, gap=gap)

    def _row(self, block: Block) -> None:
        size = self.v.size * 0.9
        font = BOLD[self.v.font] if block.bold else self.v.font
        widths = [self.width(c, font, size) for c in block.cells]
        spare = max(4.0, (self.col_w - sum(widths)) / max(1, len(widths) - 1))
        self._advance(size * 1.4, block.chapter)
        x = self._x()
        for cell, w in zip(block.cells, widths, strict=True):
            self.pages[-1].append(_Op(x, self.y, font, size, cell))
            x += w + spare

    def _lines(self, block: Block, font: str, size: float, gap: float) -> None:
        words = block.text.split(" ")
        bullet = block.kind == "item"
        indent = size * 1.2 if bullet else 0.0
        lines = self._break(words, font, size, self.col_w - indent)
        self.y -= gap
        for i, line in enumerate(lines):
            self._advance(size * 1.25, block.chapter)
            x = self._x(indent if bullet and i > 0 else 0.0)
            self.pages[-1].append(_Op(x, self.y, font, size, line))

    def _break(self, words: list[str], font: str, size: float, width: float) -> list[str]:
        """Greedy line breaking; a word that does not fit is broken at a real or soft hyphen."""
        lines: list[str] = []
        cur = ""
        i = 0
        carry: str | None = None  # the rest of a word broken at the previous line end
        while i < len(words):
            word = carry if carry is not None else words[i]
            trial = f"{cur} {word}" if cur else word
            fill = self.width(trial, font, size) / width
            split = None
            if fill <= 1.0:
                if cur and fill >= self.v.real_break_fill and self.rng.random() < 0.5:
                    split = self._real_split(cur, word, font, size, width)
                if split is None:
                    cur, carry, i = trial, None, i + 1
                    continue
            else:
                split = self._real_split(cur, word, font, size, width)
                if split is None and self.v.hyphenate:
                    split = self._soft_split(cur, word, font, size, width)
            if split is not None:
                head, tail, kind = split
                whole = words[i]
                category = "soft" if kind == "soft" else _CATEGORY.get(_core(whole), "report")
                before = " ".join(words[max(0, i - 3) : i])
                self.breaks.append(LineBreak(kind, _core(whole), category, before))
                lines.append(f"{cur} {head}" if cur else head)
                cur, carry = "", tail
                continue
            if not cur:  # a word wider than the line: set it alone
                lines.append(word)
                carry, i = None, i + 1
                continue
            lines.append(cur)
            cur = ""
        if cur:
            lines.append(cur)
        return lines

    def _real_split(self, cur: str, word: str, font: str, size: float, width: float):
        core = _core(word)
        best = None
        for m in re.finditer(r"(?<=[^\W_])-(?=[^\W_])", word):
            head = word[: m.end()]
            if self.width(f"{cur} {head}" if cur else head, font, size) <= width:
                best = (head, word[m.end() :], "real")
        return best if core else None

    def _soft_split(self, cur: str, word: str, font: str, size: float, width: float):
        m = re.match(r"^([(\"']?)([^\W\d_]+(?:-[^\W\d_]+)*)(.*)$", word)
        if not m or sum(ch.isupper() for ch in m.group(2)) >= 2:
            return None  # acronyms, numbers and the like are not hyphenated
        lead, core, rest = m.groups()
        best = None
        offset = len(lead)
        start = core.rfind("-") + 1
        for pos in self.hyph.positions(core[start:]):
            cut = offset + start + pos
            if pos < 2 or len(core) - start - pos < 2:
                continue
            head = word[:cut] + "-"
            if self.width(f"{cur} {head}" if cur else head, font, size) <= width:
                best = (head, word[cut:], "soft")
        return best if rest is not None else None


def _core(word: str) -> str:
    """A word without surrounding punctuation: ``(MBO-studenten),`` -> ``MBO-studenten``."""
    m = re.search(r"[^\W_](?:.*[^\W_])?", word)
    return m.group() if m else ""


def _header(variant: Variant, number: int, chapter: str) -> str:
    if not variant.header:
        return ""
    if variant.alternate_header and number % 2 == 0:
        return SHORT_TITLE
    return variant.header.format(title=SHORT_TITLE, n=chapter, chapter=CHAPTERS.get(chapter, ""))


def typeset(variant: Variant, out: Path) -> Truth:
    """Write ``variant`` of the report to the PDF ``out``; return what the clean-up should give."""
    from reportlab.pdfgen.canvas import Canvas

    blocks = variant_blocks(variant)
    setter = _Setter(variant)
    for block in blocks:
        setter.place(block)
    n_pages = len(setter.pages)
    width, height = variant.page
    canvas = Canvas(str(out), pagesize=variant.page, invariant=1)
    running: list[str] = []
    small = variant.size * 0.85
    for number, (ops, chapter) in enumerate(zip(setter.pages, setter.chapters, strict=True), 1):
        header = _header(variant, number, chapter)
        footer = variant.footer.format(page=number, pages=n_pages, title=SHORT_TITLE)

        def draw_header(header: str = header) -> None:
            if header:
                canvas.setFont(variant.font, small)
                canvas.drawString(variant.margin, height - variant.margin * 0.55, header)

        if not variant.header_last:
            draw_header()
        for op in sorted(ops, key=lambda o: (-o.y, o.x)) if variant.by_rows else ops:
            canvas.setFont(op.font, op.size)
            canvas.drawString(op.x, op.y, op.text)
        if footer:
            canvas.setFont(variant.font, small)
            canvas.drawCentredString(width / 2, variant.margin * 0.45, footer)
        if variant.header_last:
            draw_header()
        canvas.showPage()
        running += [s for s in (header, footer) if s]
    canvas.save()
    return Truth(
        variant=variant.name,
        pages=n_pages,
        text=" ".join(b.text for b in blocks if b.kind != "chapter"),
        breaks=setter.breaks,
        running=running,
        headings={b.text for b in blocks if b.kind in ("chapter", "heading", "subheading")},
    )
