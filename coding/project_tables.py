"""Tables and a plot of a project's codings, for the report (`watwerkt project export --tables`).

* ``codings_per_transcript.csv|.md``: per code (rows, codebook order) and transcript (columns),
  the number of segments coded with it, and the total;
* ``cooccurrence.csv|.md``: per pair of codes, the number of segments coded with both (the
  diagonal: segments coded with the code);
* ``code_frequencies.png``: the codings per transcript as grouped bars (needs matplotlib, the
  ``report`` extra; without it the PNG is left out and the result says so).

A segment counts once per code however many coders gave it that code: the tables describe the
material, not the coders. Only kept codings count (accepted, changed, added), by the coders
given (default: every coder). The assistant's suggestions are not codings and do not count.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from .errors import CodingError
from .project import ProjectStore


def coded_segments(store: ProjectStore, coders: Sequence[str] | None = None) -> dict[int, set[str]]:
    """Segment id -> the codes kept for it by ``coders`` (all when None)."""
    wanted = set(coders) if coders else None
    out: dict[int, set[str]] = defaultdict(set)
    for c in store.codings():
        if c.kept and (wanted is None or c.coder in wanted):
            out[c.segment_id].add(c.code)
    return out


def frequency_table(
    store: ProjectStore, coders: Sequence[str] | None = None
) -> tuple[list[str], list[str], dict[str, dict[str, int]]]:
    """(code ids, transcript names, code -> transcript -> segments coded)."""
    per_segment = coded_segments(store, coders)
    transcript_of = {s.id: s.transcript_id for s in store.segments()}
    names = {t.id: t.name for t in store.transcripts()}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sid, codes in per_segment.items():
        for code in codes:
            counts[code][names[transcript_of[sid]]] += 1
    order = [c.id for c in store.codebook().codes if c.id in counts]
    order += sorted(set(counts) - set(order))
    return order, [t.name for t in store.transcripts()], counts


def cooccurrence(
    store: ProjectStore, coders: Sequence[str] | None = None
) -> tuple[list[str], dict[tuple[str, str], int]]:
    """(code ids, (a, b) -> segments coded with both; symmetric, diagonal included)."""
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for codes in coded_segments(store, coders).values():
        for a in codes:
            for b in codes:
                pairs[(a, b)] += 1
    order = [c.id for c in store.codebook().codes if (c.id, c.id) in pairs]
    order += sorted({a for a, _ in pairs} - set(order))
    return order, pairs


def render(
    header: Sequence[str], rows: Sequence[Sequence[object]], fmt: str, numeric: bool = True
) -> str:
    """A table as CSV or Markdown (``numeric``: columns after the first right-aligned)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue()
    if fmt != "md":
        raise CodingError(f"table format {fmt!r}: use md or csv")

    def cell(value: object) -> str:
        return " ".join(str(value).split()).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    align = ["---:" if i and numeric else "---" for i in range(len(header))]
    lines.append("|" + "|".join(align) + "|")
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _names(store: ProjectStore) -> dict[str, str]:
    return {c.id: c.name for c in store.codebook().codes}


def frequency_rows(
    store: ProjectStore, coders: Sequence[str] | None = None
) -> tuple[list[str], list[list[object]]]:
    codes, transcripts, counts = frequency_table(store, coders)
    names = _names(store)
    header = ["code", "naam", *transcripts, "totaal"]
    rows: list[list[object]] = []
    for code in codes:
        cells = [counts[code].get(t, 0) for t in transcripts]
        rows.append([code, names.get(code, code), *cells, sum(cells)])
    return header, rows


def cooccurrence_rows(
    store: ProjectStore, coders: Sequence[str] | None = None
) -> tuple[list[str], list[list[object]]]:
    codes, pairs = cooccurrence(store, coders)
    header = ["code", *codes]
    return header, [[a, *(pairs.get((a, b), 0) for b in codes)] for a in codes]


def plot_frequencies(store: ProjectStore, path: Path, coders: Sequence[str] | None = None) -> Path:
    """Grouped bars: per transcript, the segments coded with each code. Needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise CodingError(
            "the plot needs matplotlib; pip install 'watwerkt[report]' (the tables are written)"
        ) from exc
    codes, transcripts, counts = frequency_table(store, coders)
    if not codes:
        raise CodingError("the project has no codings yet; code a transcript first")
    names = _names(store)
    width = 0.8 / max(1, len(codes))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(transcripts) + 3), 4.5), dpi=100)
    try:
        for i, code in enumerate(codes):
            xs = [j + i * width - 0.4 + width / 2 for j in range(len(transcripts))]
            ax.bar(xs, [counts[code].get(t, 0) for t in transcripts], width, label=names[code])
        ax.set_xticks(range(len(transcripts)), transcripts, rotation=30, ha="right")
        ax.set_ylabel("gecodeerde segmenten")
        ax.set_title(f"Codes per transcript: {store.name}")
        ax.legend(fontsize="small", ncols=max(1, len(codes) // 12 + 1), loc="upper left")
        fig.tight_layout()
        fig.savefig(path, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    return Path(path)


def write_tables(
    store: ProjectStore, folder: Path, coders: Sequence[str] | None = None
) -> dict[str, object]:
    """Write the tables (and the plot when matplotlib is there) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    for stem, (header, rows) in (
        ("codings_per_transcript", frequency_rows(store, coders)),
        ("cooccurrence", cooccurrence_rows(store, coders)),
    ):
        for fmt in ("csv", "md"):
            out = folder / f"{stem}.{fmt}"
            out.write_text(render(header, rows, fmt), encoding="utf-8")
            written.append(str(out))
    result: dict[str, object] = {"written": written}
    try:
        written.append(str(plot_frequencies(store, folder / "code_frequencies.png", coders)))
    except CodingError as exc:
        result["plot"] = str(exc)
    return result
