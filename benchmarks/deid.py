"""De-identification benchmark: recall of identifying strings and over-replacement of public
terms, for deduce alone and for watwerkt's pseudonymiser, in one run.

    .venv/bin/python benchmarks/deid.py                          # dev transcripts, a table
    .venv/bin/python benchmarks/deid.py --json                   # one JSON object on stdout
    .venv/bin/python benchmarks/deid.py --missed                 # also list what was missed
    .venv/bin/python benchmarks/deid.py --data benchmarks/data/deid_blind   # the blind set

Scoring is `coding.deid_eval` (whole word, case-sensitive, per occurrence). The transcripts and
their annotations are in benchmarks/data/deid/ (README there); everything in them is fictional.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from coding import deid_eval  # noqa: E402
from coding import pseudonymise as ps  # noqa: E402


def deduce_alone(text: str) -> list[tuple[int, int]]:
    """deduce 3 with its defaults, every tag counted as a replacement."""
    assert ps._ENGINE is not None
    doc = ps._ENGINE.deduce.deidentify(text)
    return [(a.start_char, a.end_char) for a in doc.annotations]


def watwerkt(text: str) -> list[tuple[int, int]]:
    _, replacements, _ = ps.pseudonymise(text)
    return [(r.start, r.end) for r in replacements]


def run(folder: Path) -> dict:
    ps.warm_up()
    items = deid_eval.load(folder)
    result: dict = {
        "data": str(folder.relative_to(REPO) if folder.is_relative_to(REPO) else folder),
        "transcripts": len(items),
        "words": sum(len(i.text.split()) for i in items),
        "identifiers": sum(len(i.identifiers) for i in items),
        "public_occurrences": sum(len(i.public) for i in items),
    }
    for name, detector in (("deduce", deduce_alone), ("watwerkt", watwerkt)):
        start = time.perf_counter()
        s = deid_eval.score(items, detector)
        result[name] = {
            "recall": round(s.recall, 4),
            "found": s.found,
            "over_replacement": round(s.over_rate, 4),
            "over_replaced": s.over,
            "by_kind": {
                k: {"recall": round(f / t, 3), "n": t} for k, (f, t) in sorted(s.by_kind.items())
            },
            "seconds": round(time.perf_counter() - start, 2),
            "missed": s.missed,
            "over_terms": s.over_terms,
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks" / "data" / "deid")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--missed", action="store_true", help="list missed and over-replaced")
    args = parser.parse_args()
    result = run(args.data.resolve())
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    print(
        f"{result['data']}: {result['transcripts']} transcripts, {result['words']} words, "
        f"{result['identifiers']} identifying occurrences, "
        f"{result['public_occurrences']} public-term occurrences"
    )
    kinds = sorted({k for name in ("deduce", "watwerkt") for k in result[name]["by_kind"]})
    print(f"{'':10}{'recall':>8}{'over':>8}{'s':>7}  " + "  ".join(f"{k[:8]:>8}" for k in kinds))
    for name in ("deduce", "watwerkt"):
        r = result[name]
        per = "  ".join(
            f"{r['by_kind'][k]['recall']:>8.3f}" if k in r["by_kind"] else f"{'-':>8}"
            for k in kinds
        )
        print(
            f"{name:10}{r['recall']:>8.3f}{r['over_replacement']:>8.3f}{r['seconds']:>7.1f}  {per}"
        )
    ns = result["watwerkt"]["by_kind"]
    print(f"{'n':10}{'':>23}  " + "  ".join(f"{ns[k]['n']:>8}" for k in kinds))
    if args.missed:
        for name in ("deduce", "watwerkt"):
            print(f"\n{name} missed: {result[name]['missed']}")
            print(f"{name} over-replaced: {result[name]['over_terms']}")


if __name__ == "__main__":
    main()
