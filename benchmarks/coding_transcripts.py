"""CIMO suggestions of `watwerkt code` against gold labels of whole transcripts.

The gold file lists, per transcript, respondent sentences with the code a researcher gave them:

    - file: interview_1.txt
      sentence: "exact sentence from the transcript"
      code: C          # C, I, M, O or none

Each transcript runs through the same path as `watwerkt code FILE` (import, pseudonymisation,
segmentation, suggester). A gold sentence is matched to the segment of its file that shares the
most words with it (names replaced by placeholders are ignored), and the segment's suggested
code (none below the confidence floor) is compared with the gold code.

Run: .venv/bin/python benchmarks/coding_transcripts.py GOLD.yaml [--dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LABELS = ("C", "I", "M", "O", "none")
_PLACEHOLDER = re.compile(r"\[[A-Z]+-\d+\]")


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", _PLACEHOLDER.sub(" ", text).lower()))


def macro_f1(pairs: list[tuple[str, str]]) -> tuple[float, dict[str, float]]:
    per = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in pairs)
        fp = sum(g != label and p == label for g, p in pairs)
        fn = sum(g == label and p != label for g, p in pairs)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        per[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    present = [label for label in LABELS if any(g == label for g, _ in pairs)]
    return sum(per[label] for label in present) / max(len(present), 1), per


def main() -> int:
    from coding.codebook import load_codebook
    from coding.pipeline import code_loaded, make_suggester, pseudonymiser_for
    from coding.pseudonymise import release
    from coding.transcripts import load_transcript
    from ui.settings import get_settings
    from ui.wiring import App

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path)
    parser.add_argument(
        "--dir", type=Path, help="where the transcripts are (default: next to GOLD)"
    )
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.dir or args.gold.parent
    gold = yaml.safe_load(args.gold.read_text(encoding="utf-8"))
    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-coding-"))
    app = App(get_settings(home=home), show_progress=False)
    suggester = make_suggester(load_codebook(None), app.index.embedder, home / "models")
    pairs: list[tuple[str, str]] = []
    confident_wrong = 0
    by_file: dict[str, list[dict]] = {}
    for item in gold:
        by_file.setdefault(item["file"], []).append(item)
    for name, items in by_file.items():
        path = folder / name
        transcript = load_transcript(path, pseudonymiser_for(home / "maps" / f"{name}.json"))
        release()
        coded = code_loaded(transcript, suggester)
        segments = [(_words(s.segment.text), s) for s in coded.segments]
        for item in items:
            target = _words(item["sentence"])
            best = max(
                segments,
                key=lambda ws: len(ws[0] & target) / (len(ws[0] | target) or 1),
            )[1]
            predicted = best.cimo or "none"
            pairs.append((str(item["code"]), predicted))
            top = max(best.cimo_scores.values()) if best.cimo_scores else 0.0
            confident_wrong += int(predicted != str(item["code"]) and top >= 0.7)
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    f1, per = macro_f1(pairs)
    confusion = {g: {p: 0 for p in LABELS} for g in LABELS}
    for g, p in pairs:
        confusion[g][p] += 1
    report = {
        "sentences": len(pairs),
        "gold_counts": dict(Counter(g for g, _ in pairs)),
        "accuracy": round(accuracy, 3),
        "macro_f1": round(f1, 3),
        "f1_per_code": {k: round(v, 3) for k, v in per.items()},
        "wrong_with_confidence_over_0.7": confident_wrong,
        "confusion_gold_by_suggested": confusion,
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for key, value in report.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
