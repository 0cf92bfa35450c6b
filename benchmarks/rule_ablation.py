"""Which answer-type rules earn their veto beside the trained reader (issue 9, point 4).

Per rule of rag/answerability.py: on how many questions it fires, and of those how many the
shipped reader would have answered without the rule: its answerability model alone (at its
threshold) and, where the model carries one, with the cross-encoder's cross-check (at the
check's threshold, as ``ask`` decides): answerable ones the rule loses, unanswerable ones it
refuses that the reader would not. Two question sets: the
check-dev batch (tests/data/reader/dev/, never trained on) and the training questions (where
the rules were written: optimistic). The answerability network is fitted only on questions
the rules let through, so its probability for the questions a rule fires on is out of sample.
The off-topic check is left out (it refuses whatever the model says).

Run: OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/rule_ablation.py [--home DIR]
     [--cache FILE]   (the cache of train_answer_model.py --cache; its .dev.pkl for dev)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# the rule a refusal reason comes from (rag.answerability.problems), first match wins
RULES = (
    ("an amount of money", "amount of money"),
    ("a share or percentage", "share"),
    ("a duration", "how long"),
    ('"hoeveel X" needs a number of X', "asks how many"),
    ("a number at all", "asks for a number"),
    ('"wanneer" needs a date', "asks when"),
    ("a date needs day and month", "asks for a date"),
    ('"asks about X" never mentioned', "asks about"),
)


def rule_of(reason: str) -> str:
    for name, marker in RULES:
        if marker in reason:
            return name
    tail = reason.rsplit(" ", 1)[-1]
    return "a year or number never mentioned" if tail[:1].isdigit() else "a name never mentioned"


def table(items, model, stats) -> dict[str, list[int]]:
    """Per rule: [answerable fired, of which the model answers, of which the model with its
    cross-check answers, unanswerable fired, ... , ...]."""
    import numpy as np
    from train_answer_model import model_p, rank_logits

    from rag.answer_model import checked_answerability
    from rag.refusal import rule_problems, unknown_topic

    fired = [{rule_of(r) for r in rule_problems(it.question, it.evidence, stats)} for it in items]
    for it in items:
        it.type_problem = False  # the model's probability as if no rule had fired
    p = model_p(model, items, stats)
    out: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for it, rules, pi in zip(items, fired, p, strict=True):
        if not rules or unknown_topic(it.question, stats):
            continue
        order = np.argsort(-rank_logits(model.ranker, it), kind="stable")
        ranked = [it.evidence[i] for i in order]
        checked, threshold = checked_answerability(model, it.question, it.evidence, pi, ranked)
        for rule in rules:
            row = out[rule]
            at = 0 if it.answerable else 3
            row[at] += 1
            row[at + 1] += int(pi >= model.threshold)
            row[at + 2] += int(checked >= threshold)
    return out


def main() -> int:
    import train_answer_model as tam

    from rag.answer_model import load_model
    from rag.reader.data import check_dev_sets, held_out_sets, load_questions, training_sets
    from ui.settings import get_settings
    from ui.wiring import App

    sys.modules["__main__"].Item = tam.Item  # type: ignore[attr-defined]  # cached pickles
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    parser.add_argument("--cache", type=Path, help="train_answer_model.py's --cache file")
    args = parser.parse_args()
    app = App(
        get_settings(home=args.home or Path(tempfile.mkdtemp(prefix="watwerkt-rules-"))),
        show_progress=False,
    )
    app.ensure_index()
    stats = app.index.term_stats()
    model = load_model(app.index.embedder.name)
    if model is None:
        parser.error("no trained answer model for this embedder")
    dev, _ = load_questions(check_dev_sets())
    train, _ = load_questions(training_sets(), held_out_sets())
    sets = {
        "check-dev": tam.collected(
            app, dev, args.cache.with_suffix(".dev.pkl") if args.cache else None
        ),
        "training": tam.collected(app, train, args.cache),
    }
    tables = {name: table(items, model, stats) for name, items in sets.items()}
    names = sorted({r for t in tables.values() for r in t})
    print(
        "rule: of the answerable questions it fires on, how many the model alone / with its "
        "cross-check would answer (lost); of the unanswerable ones, how many they would answer "
        "(refused more)"
    )
    for rule in names:
        cells = []
        for name, t in tables.items():
            a, a_ok, a_checked, u, u_ok, u_checked = t.get(rule, [0] * 6)
            cells.append(
                f"{name}: lost {a_ok} / {a_checked} of {a}, refused {u_ok} / {u_checked} of {u}"
                " more"
            )
        print(f"  {rule:36} " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
