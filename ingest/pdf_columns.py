"""Page text in reading order for two-column PDFs whose producer drew the columns row by row.

pypdf returns text in the order of the content stream. Most producers write a two-column page
column by column, and that order is the reading order. Some write it row by row (the left line,
then the right line at the same height), and the text then alternates between the columns
line by line. :func:`page_text` detects that case from the positions of the text fragments and
rebuilds the page: what stands above the columns, the left column, the right column, what stands
below them. Any other page keeps pypdf's own text, unchanged.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import Any

# A page is two columns when at least this many fragments (and this share) start at one left
# edge in the right half, and hardly any left-half fragment runs past that edge (a single
# column's lines do). Widths are estimated from the font size: half an em per character.
MIN_RIGHT_LINES = 5
MIN_RIGHT_SHARE = 0.05
MAX_CROSSING_SHARE = 0.1
_EM_PER_CHAR = 0.45
# The stream must switch columns this often for the order to be row by row; a page drawn
# column by column switches once, and pypdf's order is then the reading order.
MIN_SWITCHES = 6
_ROW_TOLERANCE = 2.0  # points: fragments this close in height are one row


@dataclass(frozen=True, slots=True)
class _Fragment:
    x: float
    y: float
    text: str
    size: float = 10.0

    @property
    def end(self) -> float:
        return self.x + len(self.text.strip()) * self.size * _EM_PER_CHAR


def page_text(page: Any) -> str:
    """The text of a pypdf page, two-column pages drawn row by row read column by column."""
    fragments: list[_Fragment] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            scale = abs(tm[0] * cm[0]) or 1.0
            fragments.append(_Fragment(x, y, text.strip("\n"), float(size or 10.0) * scale))

    plain = page.extract_text(visitor_text=visit) or ""
    try:
        width = float(page.mediabox.width)
    except (AttributeError, TypeError, ValueError):
        return plain
    ordered = column_order(fragments, width)
    return plain if ordered is None else ordered


def column_order(fragments: list[_Fragment], width: float) -> str | None:
    """The text column by column, or None when the page is not two columns drawn row by row."""
    right_starts = Counter(round(f.x) for f in fragments if f.x > 0.45 * width)
    if not right_starts:
        return None
    # The right column's left edge: the leftmost x in the right half that many lines start at
    # (table cells inside the column start further right).
    edges = [x for x, n in right_starts.items() if n >= MIN_RIGHT_LINES]
    if not edges:
        return None
    edge = min(edges)
    if right_starts[edge] < MIN_RIGHT_SHARE * len(fragments):
        return None
    x_right = edge - 1.0
    left = [f for f in fragments if f.x < x_right]
    right = [f for f in fragments if f.x >= x_right]
    crossing = sum(1 for f in left if f.end > x_right + 0.05 * width)
    if not left or crossing > MAX_CROSSING_SHARE * len(left):
        return None
    sides = [f.x >= x_right for f in fragments]
    switches = sum(1 for a, b in itertools.pairwise(sides) if a != b)
    if switches < MIN_SWITCHES:
        return None  # drawn column by column: pypdf's order is the reading order

    top, bottom = max(f.y for f in right), min(f.y for f in right)
    head = [f for f in left if f.y > top + _ROW_TOLERANCE]
    body = [f for f in left if f.y <= top + _ROW_TOLERANCE]
    body, tail = _split_tail(body, bottom)
    return "\n".join(_lines(head) + _lines(body) + _lines(right) + _lines(tail))


def _split_tail(left: list[_Fragment], bottom: float) -> tuple[list[_Fragment], list[_Fragment]]:
    """Left-column lines below the right column: more of the column, then (after a gap) a footer."""
    ys = sorted({f.y for f in left}, reverse=True)
    pitch = median([a - b for a, b in itertools.pairwise(ys)] or [0.0])
    cut = None
    for a, b in itertools.pairwise(ys):
        if b < bottom - _ROW_TOLERANCE and a - b > 2 * pitch:
            cut = a
            break
    if cut is None:
        return left, []
    return [f for f in left if f.y >= cut], [f for f in left if f.y < cut]


def _lines(fragments: list[_Fragment]) -> list[str]:
    """Fragments as lines, top to bottom, each line's fragments left to right."""
    rows: dict[int, list[_Fragment]] = {}
    for f in fragments:
        rows.setdefault(round(f.y / _ROW_TOLERANCE), []).append(f)
    return [
        " ".join(f.text.strip() for f in sorted(rows[key], key=lambda f: f.x)).strip()
        for key in sorted(rows, reverse=True)
    ]
