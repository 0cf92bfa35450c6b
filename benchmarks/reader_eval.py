"""Plain e5 similarity, the logistic model shipped before and the trained reader (and the
experimental cross-encoder), side by side in one run.

Per question set: passage recall@5 and MRR@10 (the passages each system ranks: the hybrid
search's best 20 reranked by the system's sentence ranker (rag/rerank.py), by the best
sentence's e5 similarity, or by the cross-encoder; beside them the hybrid order), answerable
questions answered with an expected sentence in a cited quote, unanswerable ones refused,
answerability ECE (the system's probability against answerable or not; plain e5 has none), and
warm `ask` latency p50/p95 per system.

Systems: `e5` (heuristic scores, no trained model), `logistic` (the model shipped until the
trained reader, benchmarks/data/answer_model_logistic.json), `trained` (the shipped reader,
rag/data/answer_model.*), `trained-whole` (the same, a multi-part question read whole),
`cross-encoder` (rag/reader/, deciding alone), `trained@PATH` (another answer model file, e.g.
one written with a cross-check by train_answer_model.py --cross-check).

Sets: the held-out gold set (never trained or tuned on), the dev split of the reader sets
(tests/data/reader/w*.yaml; the trained reader saw it in training: a sanity check only), or any
file by --gold (e.g. the blind batch tests/data/reader/blind/blind.yaml).

Run: OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/reader_eval.py [--gold FILE ...]
     [--systems e5,logistic,trained] [--home DIR] [--limit N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP waits starve 2 cores

HOLDOUT = REPO / "tests/data/gold_ask_holdout.yaml"
# the logistic ranker and answerability model shipped until the trained reader replaced them
# (commit a780be0), kept as the baseline
BASELINE = REPO / "benchmarks/data/answer_model_logistic.json"


def load_sets(golds: list[Path]) -> dict[str, list]:
    from rag.reader.data import read_set

    if golds:
        return {p.stem: read_set(p, training=False) for p in golds}
    dev = [
        q
        for p in sorted((REPO / "tests/data/reader").glob("w*.yaml"))
        for q in read_set(p)
        if q.split == "dev"
    ]
    return {"held-out": read_set(HOLDOUT, training=False), "reader-dev": dev}


def expected_in(text: str, evidence) -> bool:
    from rag.evaluate import cites_expected

    return cites_expected(text, evidence)


def ranked_passages(system: str, app, question: str, answer, settings) -> list:
    """The top 10 passages as the system ranks them: the cross-encoder's those of its answer,
    a trained model's the best 20 hybrid ones reranked by its ranker (rag/rerank.py, as
    `search` and `ask` show them), plain e5's reranked by the best sentence's similarity, and
    "hybrid" the hybrid search's own order."""
    from rag.answer import collect_evidence
    from rag.answer_model import load_model
    from rag.reader.candidates import PASSAGES
    from rag.rerank import by_best_sentence, reranked_search

    if system == "cross-encoder":
        return list(answer.passages[:10])
    if system == "hybrid":
        return app.retriever.search(question, k=10)
    if system == "e5":
        passages = app.retriever.search(question, k=PASSAGES)
        evidence = collect_evidence(question, passages, app.retriever, settings)
        scored = [replace(ev, score=ev.similarity) for ev in evidence]
        return by_best_sentence(passages, scored)[:10]
    embedder = app.index.embedder.name
    model = (
        load_model(embedder, Path(settings.model_file))
        if settings.model_file
        else load_model(embedder)
    )
    if model is None:  # no trained model for this embedder: the hybrid order
        return app.retriever.search(question, k=10)
    return reranked_search(question, app.retriever, k=10, model=model)


def run_system(system: str, app, questions) -> dict:
    from rag.answer import AnswerSettings

    if "@" in system:  # trained@PATH: another trained model than the shipped one
        return run_with(system, app, questions, AnswerSettings(model_file=system.split("@", 1)[1]))
    settings = {
        "e5": AnswerSettings(use_model=False),
        "logistic": AnswerSettings(model_file=str(BASELINE)),
        "trained": AnswerSettings(),
        "trained-whole": AnswerSettings(parts=False),  # a multi-part question read as one
        "cross-encoder": AnswerSettings(reader="cross-encoder", passages=10),  # reranked: MRR@10
    }[system]
    return run_with(system, app, questions, settings)


def run_with(system: str, app, questions, settings) -> dict:
    from rag.ask import ask
    from rag.evaluate import calibration_error

    ask(questions[0].question, app.retriever, app.index.documents, settings=settings)  # warm
    hits5 = {"": 0.0, "hybrid": 0.0}  # the system's passage order, and the hybrid one
    rr = dict(hits5)
    n_ans = answered = with_ev = n_un = refused = 0
    probs, labels, latencies = [], [], []
    failures = []
    for q in questions:
        started = time.perf_counter()
        answer = ask(q.question, app.retriever, app.index.documents, settings=settings)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.confidence is not None:
            probs.append(answer.confidence)
            labels.append(float(q.answerable))
        if q.answerable:
            n_ans += 1
            for key, ranked in (
                ("", ranked_passages(system, app, q.question, answer, settings)),
                ("hybrid", ranked_passages("hybrid", app, q.question, answer, settings)),
            ):
                first = next(
                    (i + 1 for i, p in enumerate(ranked) if expected_in(p.text, q.evidence)),
                    None,
                )
                hits5[key] += first is not None and first <= 5
                rr[key] += 1.0 / first if first else 0.0
            answered += answer.grounded
            ok = answer.grounded and any(expected_in(c.quote, q.evidence) for c in answer.citations)
            with_ev += ok
            if not ok:
                failures.append(f"{q.id} {'answered' if answer.grounded else 'refused'}")
        else:
            n_un += 1
            refused += not answer.grounded
            if answer.grounded:
                failures.append(f"{q.id} answered ({q.kind})")
    order = sorted(latencies)
    out = {
        "answerable": n_ans,
        "recall@5": round(hits5[""] / max(n_ans, 1), 4),
        "mrr@10": round(rr[""] / max(n_ans, 1), 4),
        "recall@5 hybrid": round(hits5["hybrid"] / max(n_ans, 1), 4),
        "mrr@10 hybrid": round(rr["hybrid"] / max(n_ans, 1), 4),
        "answered": round(answered / max(n_ans, 1), 4),
        "expected_sentence_cited": round(with_ev / max(n_ans, 1), 4),
        "unanswerable": n_un,
        "refused": round(refused / max(n_un, 1), 4),
        "ece": (
            round(calibration_error(np.asarray(probs), np.asarray(labels)), 4) if probs else None
        ),
        "ask_ms_p50": round(order[len(order) // 2], 1),
        "ask_ms_p95": round(order[int(0.95 * (len(order) - 1))], 1),
        "failures": failures,
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, action="append", default=[])
    parser.add_argument("--systems", default="e5,logistic,trained")
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    parser.add_argument("--limit", type=int, default=0, help="first N questions of each set")
    parser.add_argument(
        "--ingest",
        type=Path,
        action="append",
        default=[],
        help="also index these reports (files or folders) before asking, e.g. the reports of "
        "tests/data/reader/foreign/ for their questions",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from ui.settings import get_settings
    from ui.wiring import App

    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-reader-eval-"))
    app = App(get_settings(home=home), show_progress=False)
    app.ensure_index()
    if args.ingest:
        for outcome in app.ingest(args.ingest):
            if outcome.status == "failed":
                parser.error(f"{outcome}")
    systems = args.systems.split(",")
    results: dict[str, dict] = {}
    for name, questions in load_sets(args.gold).items():
        if args.limit:
            questions = questions[: args.limit]
        results[name] = {s: run_system(s, app, questions) for s in systems}
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    keys = [k for k in next(iter(next(iter(results.values())).values())) if k != "failures"]
    for name, by_system in results.items():
        print(f"== {name}")
        print(f"  {'':26}" + "".join(f"{s:>12}" for s in systems))
        for k in keys:
            print(f"  {k:26}" + "".join(f"{by_system[s][k]!s:>12}" for s in systems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
