"""From cleaned page lines to one document text with paragraphs, list items and sections.

Lines are grouped into blocks (paragraph, list item, heading, caption); lines inside a block
are joined with a space, or without one where a line-break hyphen is rejoined. Blocks are
separated by a blank line. The offsets of the first character of every page and every
block are kept, so every character of the result can be traced to its PDF page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import quantiles

from .clean import BULLET, Vocabulary, is_suspension, keep_hyphen
from .models import Section

NUMBERED_HEADING_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(\S.{1,150})$")
CHAPTER_RE = re.compile(r"^(\d{1,2})\s+([A-ZÀ-Ý][^.;:!?]{2,70})$")
# "Tabel 2.1 Deelnemers", not "figuur 1.1) beschrijft ..." (a reference inside a sentence).
CAPTION_RE = re.compile(
    r"^(Figuur|Tabel|Grafiek|Box|Kader|Bijlage|Figure|Table)\s+\d+(?:\.\d+)*[.:]?(?:\s|$)"
)
TABLE_CAPTION_RE = re.compile(r"^(?:Tabel|Table)\s")
# Lines of a table (its header row, its cells) are short; the first line at least this share of
# a full line ends the table.
TABLE_LINE_SHARE = 0.6
LIST_START_RE = re.compile(
    rf"^(?:[{BULLET}\-–*]\s+|o\s+(?=\S)|\d{{1,2}}[.)]\s+(?=\S)|[a-z][.)]\s+(?=\S))"
)
_TERMINAL = ".!?:;"
# "Hypothese 5: ...", "Stap 2. ...": a labelled statement opens a paragraph of its own.
LABELLED_START_RE = re.compile(r"^[A-ZÀ-Ý][a-zà-ÿ]+(?: [a-zà-ÿ]+)? \d{1,2}[a-z]?[:.] \S")


@dataclass(slots=True)
class Block:
    kind: str  # "paragraph" | "item" | "heading" | "subheading" | "chapter" | "caption" | "table"
    lines: list[tuple[int, str]] = field(default_factory=list)  # (page number, text)
    level: int = 0
    number: str = ""

    @property
    def text(self) -> str:
        return " ".join(t for _, t in self.lines)


@dataclass(frozen=True, slots=True)
class Layout:
    text: str
    page_starts: tuple[int, ...]
    blocks: tuple[tuple[int, int], ...]
    sections: tuple[Section, ...]


def _classify(line: str) -> str:
    if NUMBERED_HEADING_RE.match(line) and not line.rstrip().endswith((".", ",", ";")):
        return "heading"
    if CHAPTER_RE.match(line) and len(line.split()) <= 10:
        return "chapter"
    if CAPTION_RE.match(line):
        return "caption"
    if LIST_START_RE.match(line):
        return "item"
    return "text"


def _typical_width(pages: list[list[str]]) -> float:
    lengths = [len(ln.strip()) for lines in pages for ln in lines if len(ln.strip()) > 20]
    if len(lengths) < 10:
        return max(lengths, default=80) * 1.0
    return quantiles(lengths, n=10)[7]  # the 80th percentile: a full line


def build_blocks(pages: list[list[str]]) -> list[Block]:
    """Group the lines of all pages into blocks, in reading order."""
    width = _typical_width(pages)
    flat: list[tuple[int, str]] = []
    for number, lines in enumerate(pages, start=1):
        texts = [ln.strip() for ln in lines]
        while texts and not texts[-1]:
            texts.pop()  # a page that ends in a line break does not end the paragraph
        while texts and not texts[0]:
            texts.pop(0)
        flat.extend((number, t) for t in texts)

    blocks: list[Block] = []
    current: Block | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current.lines:
            blocks.append(current)
        current = None

    in_table = False  # after a "Tabel ..." caption, until a full line of text
    titled = False  # the line before was a numbered heading or a chapter title
    skip = -1  # the second line of a two-line sub-heading, already placed
    for i, (page, line) in enumerate(flat):
        if i == skip:
            continue
        if not line:
            close()
            in_table = False
            continue
        kind = _classify(line)
        prev_text = current.lines[-1][1] if current and current.lines else ""
        nxt = next((t for _, t in flat[i + 1 :] if t), "")
        if in_table:
            if kind != "heading" and (len(line) < TABLE_LINE_SHARE * width or _is_row(line)):
                if current is None or current.kind != "table":
                    close()
                    current = Block(kind="table")
                current.lines.append((page, line))  # a header cell is no heading
                continue
            in_table = False
            close()
        if titled and _continues_heading(blocks[-1].lines[-1][1], line, width):
            blocks[-1].lines.append((page, line))  # a heading wrapped onto a second line
            titled = False
            continue
        titled = False
        if kind == "chapter":
            # A chapter title in the margin can interrupt a sentence: keep it out of the flow.
            close_needed = not prev_text or prev_text.endswith(tuple(_TERMINAL))
            if close_needed:
                close()
            blocks.append(Block(kind="chapter", lines=[(page, line)], number=line.split()[0]))
            titled = True
            continue
        if kind in ("heading", "caption"):
            close()
            label = line.split()[0].rstrip(".") if kind == "heading" else ""
            level = label.count(".") + 1 if label else 0
            blocks.append(Block(kind=kind, lines=[(page, line)], level=level, number=label))
            in_table = kind == "caption" and TABLE_CAPTION_RE.match(line) is not None
            titled = kind == "heading"
            continue
        if (
            kind == "item"
            and line[0] in "-–*o"
            and prev_text
            and not prev_text.endswith((*_TERMINAL, ")"))
        ):
            kind = "text"  # "– juni 2020 op ..." continues a sentence; it is no list item
        if kind == "item":
            close()
            current = Block(kind="item", lines=[(page, line)])
            continue
        starts_block = not prev_text or prev_text.endswith(tuple(_TERMINAL))
        after = [(j, t) for j, (_, t) in enumerate(flat[i + 1 : i + 3], start=i + 1)]
        if (
            starts_block
            and len(after) == 2
            and after[0][1]
            and _is_two_line_subheading(line, after[0][1], after[1][1], width)
            and not (blocks and blocks[-1].kind in ("subheading", "table") and not prev_text)
        ):
            close()
            second = flat[after[0][0]]
            blocks.append(Block(kind="subheading", lines=[(page, line), second]))
            skip = after[0][0]
            continue
        if _is_subheading(line, nxt, width) and starts_block:
            close()
            if blocks and blocks[-1].kind in ("subheading", "table") and not prev_text:
                # Title-like lines one after another are the rows of a table, not headings.
                blocks[-1].kind = "table"
                blocks[-1].lines.append((page, line))
                continue
            blocks.append(Block(kind="subheading", lines=[(page, line)]))
            continue
        if current is None:
            current = Block(kind="paragraph", lines=[(page, line)])
        elif _ends_paragraph(prev_text, line, width) or (
            LABELLED_START_RE.match(line) and prev_text.endswith(tuple(_TERMINAL))
        ):
            close()
            current = Block(kind="paragraph", lines=[(page, line)])
        else:
            current.lines.append((page, line))
    close()
    return blocks


def _is_row(line: str) -> bool:
    """A table row written on one line: mostly capitalised words and numbers, no sentence."""
    words = line.split()
    heads = sum(1 for w in words if w[0].isupper() or w[0].isdigit())
    return len(words) >= 2 and heads >= 0.6 * len(words) and not line.endswith(".")


def _continues_heading(heading: str, line: str, width: float) -> bool:
    """Whether ``line`` is the second line of a numbered heading that did not fit on one."""
    words = line.split()
    return (
        (heading.endswith("-") or line[0].islower())
        and len(line) < 0.8 * width
        and 1 <= len(words) <= 8
        and not line.endswith((*_TERMINAL, ","))
        and _classify(line) == "text"
    )


def _ends_paragraph(prev: str, line: str, width: float) -> bool:
    """Whether ``prev`` closed a paragraph before ``line`` starts."""
    if not prev:
        return True
    short = len(prev) < 0.8 * width
    return short and prev.endswith((*_TERMINAL, ")", '"', "'"))


def _is_two_line_subheading(line: str, second: str, nxt: str, width: float) -> bool:
    """A title that wrapped in a narrow column: two title-like lines, then a capitalised one."""
    return (
        len(line) >= 0.5 * width
        and len((line + " " + second).split()) <= 12
        and line[0].isupper()
        and not line.endswith((*_TERMINAL, ",", "-"))
        and second[0].islower()  # "CMO-configuratie Betere en ontsnipperde" / "initiatieven"
        and len(second) < 0.7 * width
        and not second.endswith((*_TERMINAL, ",", "-"))
        and bool(nxt)
        and (nxt[0].isupper() or nxt[0] in BULLET)
    )


def _is_subheading(line: str, nxt: str, width: float) -> bool:
    """A short title line on its own: no closing punctuation, followed by a capitalised line."""
    words = line.split()
    return (
        len(line) < 0.7 * width
        and 1 <= len(words) <= 12
        and line[0].isupper()
        and not line.endswith((*_TERMINAL, ",", "-"))
        and bool(nxt)
        and (nxt[0].isupper() or nxt[0] in BULLET)
    )


def render(blocks: list[Block], n_pages: int) -> Layout:
    """Join blocks into one text; record page starts, block spans and the section path."""
    vocab = Vocabulary(t for b in blocks for _, t in b.lines)
    parts: list[str] = []
    length = 0
    page_starts: dict[int, int] = {}
    spans: list[tuple[int, int]] = []
    chapter_titles = {b.number: _block_text(b, vocab) for b in blocks if b.kind == "chapter"}
    section_marks: list[tuple[int, tuple[str, ...], bool]] = []
    heading: str | None = None
    sub: str | None = None

    for block in blocks:
        if block.kind == "chapter":
            continue  # recorded in chapter_titles; its text stays out of the flow
        if parts:
            parts.append("\n\n")
            length += 2
        start = length
        first_part = len(parts)
        lines = block.lines
        for j, (page, text) in enumerate(lines):
            if j > 0:
                drop, joiner = _join(lines[j - 1][1], text, vocab)
                if drop:
                    parts[-1] = parts[-1][:-1]
                    length -= 1
                parts.append(joiner)
                length += len(joiner)
            page_starts.setdefault(page, length)
            parts.append(text)
            length += len(text)
        spans.append((start, length))
        if block.kind == "heading":  # its text as rendered: a wrapped heading is rejoined
            heading, sub = "".join(parts[first_part:]), None
        elif block.kind == "subheading" and heading is not None:
            sub = block.text
        if block.kind in ("heading", "subheading"):
            path = _path(heading, sub, chapter_titles)
            if path:
                section_marks.append((start, path, block.kind == "subheading"))

    text = "".join(parts)
    starts: list[int] = []
    for number in range(n_pages, 0, -1):  # an empty page starts where the next one does
        starts.append(page_starts.get(number, starts[-1] if starts else len(text)))
    starts.reverse()
    for i in range(1, len(starts)):
        starts[i] = max(starts[i], starts[i - 1])
    return Layout(
        text=text,
        page_starts=tuple(starts),
        blocks=tuple(spans),
        sections=_sections(_drop_short_subsections(section_marks, len(text)), len(text)),
    )


def _join(prev: str, line: str, vocab: Vocabulary) -> tuple[bool, str]:
    """How ``line`` follows ``prev`` in one block: (drop the hyphen ending ``prev``, joiner)."""
    if prev.endswith("-") and len(prev) > 1 and prev[-2].isalnum():
        if is_suspension(line, prev):
            return False, " "  # wet- en regelgeving
        if keep_hyphen(prev, line, vocab):
            return False, ""  # MBO-studenten
        return True, ""  # aan-pakken -> aanpakken
    return False, " "


def _block_text(block: Block, vocab: Vocabulary) -> str:
    """A block's lines joined as :func:`render` joins them."""
    text = ""
    for j, (_, line) in enumerate(block.lines):
        if j:
            drop, joiner = _join(block.lines[j - 1][1], line, vocab)
            text = (text[:-1] if drop else text) + joiner
        text += line
    return text


def _path(heading: str | None, sub: str | None, chapters: dict[str, str]) -> tuple[str, ...]:
    path: list[str] = []
    if heading is not None:
        major = heading.split()[0].split(".")[0]
        if major in chapters:
            path.append(chapters[major])
        path.append(heading)
    if sub is not None:
        path.append(sub)
    return tuple(path)


MIN_SUBSECTION_CHARS = 150


def _drop_short_subsections(
    marks: list[tuple[int, tuple[str, ...], bool]], end: int
) -> list[tuple[int, tuple[str, ...]]]:
    """Forget sub-headings that head almost nothing: table cells and labels, not sections."""
    kept: list[tuple[int, tuple[str, ...]]] = []
    carry: int | None = None  # start of a bare heading that its first sub-section absorbs
    for i, (start, path, is_sub) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        if is_sub and stop - start < MIN_SUBSECTION_CHARS:
            continue
        if carry is not None:
            start, carry = carry, None
        nxt = marks[i + 1] if i + 1 < len(marks) else None
        if (
            not is_sub
            and nxt is not None
            and nxt[2]
            and nxt[1][: len(path)] == path
            and stop - start < MIN_SUBSECTION_CHARS
        ):
            carry = start  # "1.2 Ambitie ..." directly followed by its first sub-heading
            continue
        kept.append((start, path))
    return kept


def _sections(marks: list[tuple[int, tuple[str, ...]]], end: int) -> tuple[Section, ...]:
    sections: list[Section] = []
    if not marks or marks[0][0] > 0:
        first = marks[0][0] if marks else end
        if first > 0:
            sections.append(Section(path=(), char_start=0, char_end=first))
    for i, (start, path) in enumerate(marks):
        stop = marks[i + 1][0] if i + 1 < len(marks) else end
        if stop > start:
            sections.append(Section(path=path, char_start=start, char_end=stop))
    return tuple(sections)
