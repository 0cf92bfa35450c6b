"""`watwerkt ask` on the gold sets, the held-out set and the reader's blind batches, plus warm
latency: the figures tests/test_retrieval_quality.py guards, computed the same way.

Reports, per set: retrieval recall@5 and MRR@10, answerable questions answered with the
expected evidence among the cited quotes, unanswerable questions refused, answerability ECE,
quotes verified (verbatim on the cited page), numbers supported by their quotes; and warm `ask`
latency p50/p95 (extractive answerer). The blind batch's failures are counted, never listed:
looking at them would make it no longer blind.

Run: .venv/bin/python benchmarks/answer_quality.py [--json] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SETS = {
    "calibration": REPO / "tests/data/gold_retrieval.yaml",
    "ask-train": REPO / "tests/data/gold_ask_train.yaml",
    "held-out": REPO / "tests/data/gold_ask_holdout.yaml",
    "blind": REPO / "tests/data/reader/blind/blind.yaml",
    "blind2": REPO / "tests/data/reader/blind2/blind2.yaml",
}


def main() -> int:
    from rag.evaluate import evaluate_answers, evaluate_retrieval, load_gold
    from ui.settings import get_settings
    from ui.wiring import App

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="print the refusal threshold: 5th percentile of the best evidence score over the "
        "answerable calibration questions (rag.answer.MIN_SCORE)",
    )
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-answers-"))
    app = App(get_settings(home=home), show_progress=False)
    app.ensure_index()
    if args.calibrate:
        from rag.answer import AnswerSettings, collect_evidence

        scores = []
        for q in load_gold(SETS["calibration"]).questions:
            passages = app.retriever.search(q.question, k=8)
            evidence = collect_evidence(q.question, passages, app.retriever, AnswerSettings())
            scores.append(evidence[0].score if evidence else 0.0)
        scores.sort()
        print(f"MIN_SCORE = {scores[int(0.05 * (len(scores) - 1))]:.3f}")
        return 0
    results: dict[str, object] = {}
    latencies: list[float] = []

    def timed_ask(question: str):
        started = time.perf_counter()
        answer = app.ask(question)
        latencies.append((time.perf_counter() - started) * 1000)
        return answer

    app.ask("Wat werkt voor mbo-2 jongeren?")  # warm up: models, spaCy, BM25
    texts = [t for t, _ in app.index.records().values()]
    for name, path in SETS.items():
        gold = load_gold(path)
        found = evaluate_retrieval(gold, lambda q, k: app.retriever.search(q, k=k), texts)
        report = evaluate_answers(gold, timed_ask, app.index.documents.load)
        results[name] = {
            "recall@5": round(found.recall[5], 4),
            "mrr@10": round(found.mrr10, 4),
            **report.as_dict(),
        }
    ordered = sorted(latencies)
    results["warm_ask_ms_p50"] = round(ordered[len(ordered) // 2], 1)
    results["warm_ask_ms_p95"] = round(ordered[int(0.95 * (len(ordered) - 1))], 1)
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    for name in SETS:
        data = dict(results[name])  # type: ignore[call-overload]
        failures = data.pop("failures")
        print(f"== {name}")
        for key, value in data.items():
            print(f"  {key:40} {value}")
        print(f"  failures: {len(failures)}")
        for f in failures if name != "blind" else []:
            print(f"    {f['id']:6} {f['why']:20} {f['question']}")
    print(f"warm ask p50 {results['warm_ask_ms_p50']} ms, p95 {results['warm_ask_ms_p95']} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
