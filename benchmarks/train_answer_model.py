"""Train the reader of `watwerkt ask` (rag/answer_model.py): which sentence answers, and
whether any does.

Training data: every training question set (tests/data/gold_retrieval.yaml,
tests/data/gold_ask_train.yaml and the blind-written reader sets tests/data/reader/w*.yaml,
through rag.reader.data.training_sets): answerable questions with the sentences that answer
(a sentence is a positive when it is, or holds, an expected one) and unanswerable ones of every
kind (hard, off-topic, wrong premise). The held-out set and the blind batch are never read here
(the loader refuses them, and drops training questions that nearly copy one of theirs).

- **Sentence ranker** (`MLPRanker`): a linear model over the sentence features plus a network
  with one hidden layer over those features and the e5 match vectors of the sentence and its
  neighbours; trained listwise (softmax over all sentences of the question's candidate
  passages, `CANDIDATE_PASSAGES` below, the answering ones as targets) with torch,
  seeded; it runs in numpy.
- **Answerability** (`MLPAnswerability`): a network with one hidden layer over the question
  features (over the ranker's best sentences) and the e5 match vectors of the best sentence and
  the best three. It is fitted on out-of-fold ranker scores (5-fold cross-validation over
  questions), as it will meet them on new questions, and its logit is calibrated by Platt
  scaling fitted on its own out-of-fold logits.
- **Operating points**, chosen on the out-of-fold predictions: `keep_ratio` (cite further
  sentences with at least this share of the best one's score) and `threshold` (refuse below
  this answerability): the highest that still answers 90 % of the answerable questions (the
  issue's target for answers; refusing more costs answers, see the table it prints).
- **The rules** of rag/answerability.py, in two families: the answer type ("hoeveel" needs a
  quantity, "wanneer" a date, ...) and never mentioned (a name, number or group the reports
  never use). They are one of the model's inputs, and a family's rules may also refuse before
  the model is asked (a veto). Never-mentioned rules always veto: no evidence can answer
  about what the reports never name. The answer-type family is fitted both ways and keeps
  its veto only where that refuses measurably more (`VETO_MARGIN`) at the same share
  answered: on the dev questions beside the cross-check, else out of fold.
- **The cross-check** (default; `--no-cross-check` leaves it out): the cross-encoder of
  rag/data/reader/ reads the ranker's best sentences, and its best margin is combined with the
  model's answerability (`fit_cross_check`), fitted on the dev questions neither model trained
  on.

The script reports every figure out of fold, then fits on all questions and writes
rag/data/answer_model.json and .npz.

Run: OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/train_answer_model.py [--home DIR]
     [--dry-run] [--cache FILE] [--no-cross-check]
     (needs torch: `make install-test` installs the CPU build)
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shutil
import sys
import tempfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rag.answerability import ANSWER_TYPE, NEVER_MENTIONED, rule_family

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning OpenMP waits starve 2 cores

FOLDS = 5
SEED = 11
HIDDEN = 64
DROPOUT = 0.2
EPOCHS = 20
LR = 2e-3
WEIGHT_DECAY = 1e-4
ANSWER_HIDDEN = 32
ANSWER_EPOCHS = 200
# Who reads the e5 match vectors: the ranker ("ranker"), both models ("both") or "none". Not
# the answerability model: on two reports it never saw (tests/data/reader/foreign/) it then
# refused 28 % of the answerable questions; it had learnt which topics of the training report
# are answerable, not whether a sentence answers (benchmarks/README.md).
MATCHES = "ranker"
MAX_CITED = 4
MAX_MEAN_CITED = 3.5  # statements per answer, on average
# The cross-check reads the ranker's best 4 candidates (what the answer would cite), not the
# cross-encoder's 12 by the cheap score: on the 491 dev questions with the layers 6-11 weights
# (2026-12-02) the best margin's AUC answerable vs not is 0.949 for the ranker's first 4 (3:
# 0.948, 6: 0.950, 8: 0.950) and 0.948 for the cheap first 6, and out of fold both refuse 86.6 %
# at 90 % answered: 4 reads the fewest pairs. The cross-check prints these figures each run.
CHECK_CANDIDATES = 4
CHECK_ORDER = "ranker"  # or "cheap": the best by the cheap score, as collected
MIN_ANSWERED = 0.90  # share of answerable questions the refusal threshold must still answer
# The answer-type rules keep their veto only where it refuses at least this much more of the
# unanswerable dev questions at MIN_ANSWERED than giving them to the model as an input (one of
# their ~270 is 0.4 points; a rule must measurably help, issue 9). The never-mentioned rules
# always veto: 2026-12-02, with every rule an input only, the model and its check answered
# "Wat werkt voor jongeren met autisme?", a topic the reports never name (benchmarks/README.md,
# the cross-encoder, step 11).
VETO_MARGIN = 0.02
ALL_VETO = (ANSWER_TYPE, NEVER_MENTIONED)
NAMES_VETO = (NEVER_MENTIONED,)
VETO_MODES = {ALL_VETO: "every rule a veto", NAMES_VETO: "answer-type rules an input only"}
# Hybrid passages whose sentences the reader weighs (an answer shows the first 8). 8 / 14 / 20
# passages hold an answering sentence for 88.0 / 90.6 / 92.9 % of the answerable training
# questions, and out of fold 14 cites the expected sentence for 0.712 of them against 0.699; but
# on data it never saw a model trained on 14 refused fewer unanswerable questions (blind batch
# 62 -> 57 %, held-out 83.8 -> 81.1 %, foreign reports 40 / 33 -> 27 / 27 %) and cited less
# beyond the blind batch (held-out 85.5 -> 83.9 %, foreign a 63.3 -> 60.0 %): 8 stays
# (benchmarks/README.md, the trained reader, step 7).
CANDIDATE_PASSAGES = 8


def vetoes_kept(refused: dict) -> tuple[str, ...]:
    """The vetoing families: every rule only where that refuses ``VETO_MARGIN`` more of the
    unanswerable questions (``refused``: per ``VETO_MODES`` key) than the answer-type rules as
    an input only."""
    return ALL_VETO if refused[ALL_VETO] >= refused[NAMES_VETO] + VETO_MARGIN else NAMES_VETO


@dataclass
class Item:
    qid: str
    question: str
    answerable: bool
    kind: str
    x: np.ndarray  # sentence features
    match: np.ndarray  # e5 match vectors (own, neighbours')
    y: np.ndarray  # 1 where the sentence is (or holds) an expected one
    evidence: list  # rag.answer.Evidence, as collected (heuristic order)
    type_problem: bool  # a rule objects (a model input)
    off_topic: bool = False  # the reports use none of its words: refused whatever the model says
    rules: tuple[str, ...] = ()  # the rules' reasons (set by ``collected``)

    def vetoed(self, vetoes: tuple[str, ...]) -> bool:
        """Whether a rule of the families ``vetoes`` refuses it before the model."""
        return any(rule_family(r) in vetoes for r in self.rules)

    @property
    def fold(self) -> int:
        return zlib.crc32(self.qid.encode()) % FOLDS


def collect(app, questions) -> list[Item]:
    from tqdm import tqdm

    from rag.answer import AnswerSettings, candidate_evidence
    from rag.answer_features import match_matrix, sentence_matrix
    from rag.evaluate import is_relevant
    from rag.reader.data import answers
    from rag.refusal import rule_problems

    stats = app.index.term_stats()
    settings = AnswerSettings()
    items = []
    for q in tqdm(questions, desc="questions", unit="q", file=sys.stderr):
        evidence = candidate_evidence(q.question, app.retriever, settings, CANDIDATE_PASSAGES)[1]
        if not evidence:
            continue
        y = [
            int(
                q.answerable
                and (is_relevant(ev.quote, q.evidence) or answers(ev.quote, q.evidence))
            )
            for ev in evidence
        ]
        match = match_matrix(evidence).astype(np.float32)
        items.append(
            Item(
                f"{q.source}:{q.id}",
                q.question,
                q.answerable,
                q.kind or ("answerable" if q.answerable else "gold"),
                sentence_matrix(q.question, evidence, stats).astype(np.float32),
                match,
                np.asarray(y),
                [replace(ev, match=None) for ev in evidence],  # the vectors are in `match`
                bool(rule_problems(q.question, evidence, stats)),
            )
        )
    return items


def collected(app, questions, cache: Path | None) -> list[Item]:
    """``collect`` for ``questions``, read from the ``cache`` pickle where it exists (keeping
    only the questions the sets still hold) or written to it; the rule flags as the rules stand
    now (the cache may predate a change of them)."""
    from rag.refusal import rule_problems, unknown_topic

    if cache and cache.exists():
        keep = {f"{q.source}:{q.id}" for q in questions}
        items = [it for it in pickle.loads(cache.read_bytes()) if it.qid in keep]
    else:
        items = collect(app, questions)
        if cache:
            cache.write_bytes(pickle.dumps(items))
    stats = app.index.term_stats()
    for it in items:
        it.rules = tuple(rule_problems(it.question, it.evidence, stats))
        it.type_problem = bool(it.rules)
        it.off_topic = unknown_topic(it.question, stats) is not None
    return items


def fit_ranker(items: list[Item], seed: int = SEED, ranker_matches: bool = True):
    """The listwise sentence ranker on the answerable questions whose answer is among the
    sentences."""
    import torch

    from rag.answer_features import MATCH_SCALE
    from rag.answer_model import MLPRanker

    torch.manual_seed(seed)
    rng = random.Random(seed)
    train = [it for it in items if it.answerable and it.y.any()]
    allx = np.vstack([it.x for it in train]).astype(np.float64)
    mean, scale = allx.mean(axis=0), allx.std(axis=0) + 1e-6
    n_feat = train[0].x.shape[1]
    n_match = train[0].match.shape[1] if ranker_matches else 0
    linear = torch.nn.Linear(n_feat, 1)
    net = torch.nn.Sequential(
        torch.nn.Dropout(DROPOUT),
        torch.nn.Linear(n_feat + n_match, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Dropout(DROPOUT),
        torch.nn.Linear(HIDDEN, 1, bias=False),
    )
    params = [*linear.parameters(), *net.parameters()]
    optimiser = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)
    mu, sd = torch.from_numpy(mean).float(), torch.from_numpy(scale).float()
    tensors = [
        (
            (torch.from_numpy(it.x) - mu) / sd,
            MATCH_SCALE * torch.from_numpy(it.match[:, :n_match]),
            torch.from_numpy(it.y).bool(),
        )
        for it in train
    ]
    net.train()
    for _ in range(EPOCHS):
        order = list(range(len(tensors)))
        rng.shuffle(order)
        for at in range(0, len(order), 16):
            loss = torch.zeros(())
            for i in order[at : at + 16]:
                z, m, y = tensors[i]
                logits = linear(z).squeeze(-1) + net(torch.cat([z, m], -1)).squeeze(-1)
                loss = loss + torch.logsumexp(logits, 0) - torch.logsumexp(logits[y], 0)
            optimiser.zero_grad()
            (loss / len(order[at : at + 16])).backward()
            optimiser.step()
    net.eval()
    first, last = net[1], net[4]
    return MLPRanker(
        mean,
        scale,
        linear.weight.detach().double().numpy()[0],
        first.weight.detach().double().numpy().T,
        first.bias.detach().double().numpy(),
        last.weight.detach().double().numpy()[0],
        float(linear.bias.detach()[0]),
    )


def rank_logits(ranker, it: Item) -> np.ndarray:
    match = it.match.astype(np.float64) if ranker.reads_matches else None
    return ranker.logits(it.x.astype(np.float64), match)


def question_rows(items: list[Item], logits: list[np.ndarray], stats) -> np.ndarray:
    """What the answerability model reads, per question: the question features over the
    sentences as the ranker orders them, then the match vectors of the best ones (as
    rag.answer_features.best_matches gives them)."""
    from rag.answer_features import MATCH_SCALE, question_vector

    rows = []
    for it, lg in zip(items, logits, strict=True):
        order = np.argsort(-lg, kind="stable")
        ranked = [it.evidence[i] for i in order]
        own = it.match[order[:3], : it.match.shape[1] // 2].astype(np.float64)
        rows.append(
            np.r_[
                question_vector(it.question, ranked, lg[order], stats, it.type_problem),
                MATCH_SCALE * own[0],
                MATCH_SCALE * own.mean(axis=0),
            ]
        )
    return np.vstack(rows)


def fit_answerable(
    rows: np.ndarray, items: list[Item], vetoes: tuple[str, ...] = ALL_VETO, seed: int = SEED
):
    """The answerability network on the questions the rules of the families ``vetoes`` let
    through (they refuse the others before the model is asked), full batch,
    seeded; uncalibrated (Platt scaling is fitted out of fold, in ``main``)."""
    import torch

    from rag.answer_model import MLPAnswerability

    passed = np.asarray([not it.vetoed(vetoes) for it in items])
    x = rows[passed]
    y = torch.tensor([float(it.answerable) for it, ok in zip(items, passed, strict=True) if ok])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = torch.tensor((x - mean) / scale, dtype=torch.float32)
    torch.manual_seed(seed)
    hidden = torch.nn.Linear(x.shape[1], ANSWER_HIDDEN)
    out = torch.nn.Linear(ANSWER_HIDDEN, 1)
    net = torch.nn.Sequential(torch.nn.Dropout(DROPOUT), hidden, torch.nn.ReLU(), out)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-3)
    net.train()
    for _ in range(ANSWER_EPOCHS):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(z).squeeze(-1), y)
        loss.backward()
        optimiser.step()
    return MLPAnswerability(
        mean,
        scale,
        hidden.weight.detach().double().numpy().T,
        hidden.bias.detach().double().numpy(),
        out.weight.detach().double().numpy()[0],
        float(out.bias.detach()[0]),
    )


def selected(scores: np.ndarray, ratio: float) -> np.ndarray:
    """Indices cited: the best sentence, then those at >= ratio of its score."""
    order = np.argsort(-scores, kind="stable")
    keep = [i for i in order[:MAX_CITED] if scores[i] >= ratio * scores[order[0]]]
    return np.asarray(keep, dtype=int)


def cross_validate(items: list[Item], stats, ranker_matches: bool = True):
    """Out-of-fold ranker logits and the question rows made from them."""
    oof: list[np.ndarray] = [np.zeros(0)] * len(items)
    for f in range(FOLDS):
        ranker = fit_ranker([it for it in items if it.fold != f], ranker_matches=ranker_matches)
        for i, it in enumerate(items):
            if it.fold == f:
                oof[i] = rank_logits(ranker, it)
        print(f"  fold {f + 1}/{FOLDS} ranked", file=sys.stderr)
    return oof, question_rows(items, oof, stats)


def refused_confidence(refused: list[Item]) -> float:
    """The probability to report for questions a rule refuses before the model: the share of
    them that the reports do answer (so the confidence stays calibrated), at most 0.5."""
    if not refused:
        return 0.0
    return min(float(np.mean([it.answerable for it in refused])), 0.5)


def answerable_p(
    rows: np.ndarray, items: list[Item], vetoes: tuple[str, ...] = ALL_VETO
) -> tuple[np.ndarray, tuple[float, float]]:
    """Out-of-fold answerability, calibrated by Platt scaling fitted on the out-of-fold
    logits (the rules of the families ``vetoes`` refuse first; the others are an input only),
    and that calibration."""
    from rag.answer_model import sigmoid
    from rag.train_reader import platt

    logits = np.zeros(len(items))
    folds = np.asarray([it.fold for it in items])
    for f in range(FOLDS):
        model = fit_answerable(rows[folds != f], [it for it in items if it.fold != f], vetoes)
        logits[folds == f] = model.logits(rows[folds == f])
    passed = np.asarray([not it.vetoed(vetoes) for it in items])
    y = np.asarray([float(it.answerable) for it in items])
    a, b = platt(logits[passed, None], y[passed])
    answer_p = sigmoid(a * logits + b)
    if not passed.all():
        answer_p[~passed] = refused_confidence(
            [it for it, ok in zip(items, passed, strict=True) if not ok]
        )
    off = [i for i, it in enumerate(items) if it.off_topic]
    answer_p[off] = refused_confidence([items[i] for i in off])
    return answer_p, (float(a), float(b))


def model_p(model, items: list[Item], stats) -> np.ndarray:
    """The fitted model's answerability for questions it never trained on (``items``), as
    ``ask`` computes it before a cross-check (the rules' veto and the off-topic check aside:
    ``fit_cross_check`` leaves those questions to them)."""
    logits = [rank_logits(model.ranker, it) for it in items]
    rows = question_rows(items, logits, stats)
    if not model.answerable.reads_matches:
        rows = rows[:, : len(model.question_features)]
    return model.answerable.proba(rows)


def dev_margins(items: list[Item], rank: list[np.ndarray]):
    """The shipped cross-encoder's margins over "no answer" on the dev questions, read once:
    its fingerprint and ``best(order, k)``, the best margin among each question's first ``k``
    candidates by the cheap score ("cheap") or by the ranker logits ``rank`` ("ranker");
    None (said why) where the cross-encoder cannot run. Prints each order's AUC."""
    from rag.reader.candidates import KEEP, from_evidence
    from rag.reader.reader import E5Reader, reader_available, weights_fingerprint
    from rag.train_reader import auc

    if problem := reader_available():
        print(f"no cross-check: {problem}")
        return None
    cross_encoder = E5Reader()
    # every item has evidence (collect skips the rest, and it is sorted by the cheap score):
    # the cross-encoder reads the best KEEP by the cheap score and the ranker's best 8, once
    cheap_of: list[list[int]] = []
    ranker_of: list[list[int]] = []
    margin_of: list[dict[int, float]] = []
    for it, lg in zip(items, rank, strict=True):
        cheap_of.append(list(range(min(KEEP, len(it.evidence)))))
        ranker_of.append([int(i) for i in np.argsort(-lg, kind="stable")[:8]])
        read = sorted(set(cheap_of[-1]) | set(ranker_of[-1]))
        candidates = from_evidence([it.evidence[i] for i in read], len(read))
        margins_read = cross_encoder.logits(it.question, candidates)
        by_start = {
            (c.passage.chunk_id, c.start): float(m)
            for c, m in zip(candidates, margins_read, strict=True)
        }
        margin_of.append(
            {i: by_start[(it.evidence[i].passage.chunk_id, it.evidence[i].start)] for i in read}
        )

    def best(order: str, k: int) -> np.ndarray:
        chosen = cheap_of if order == "cheap" else ranker_of
        return np.asarray(
            [max(m[i] for i in c[:k]) for m, c in zip(margin_of, chosen, strict=True)]
        )

    y = np.asarray([float(it.answerable) for it in items])
    for order in ("cheap", "ranker"):  # what the check reads: CHECK_ORDER, CHECK_CANDIDATES
        for k in (3, 4, 6, 8):
            print(f"  best margin of the {order} first {k}: AUC {auc(best(order, k), y):.4f}")
    return weights_fingerprint(), best


def fit_cross_check(
    items: list[Item],
    answer_p: np.ndarray,
    vetoes: tuple[str, ...],
    threshold: float,
    margins: np.ndarray,
    reader: str,
    order: str = CHECK_ORDER,
    keep: int = CHECK_CANDIDATES,
):
    """The cross-check with the shipped cross-encoder (fingerprint ``reader``; ``margins``: its
    best margin per question, read by ``dev_margins`` over the ``keep`` first candidates in
    ``order``), fitted on questions the cross-encoder never trained on (the reader sets' dev
    split with the model's out-of-fold answerability, and ``check_dev_sets`` with the fitted
    model's): Platt scaling of [the model's log-odds, the cross-encoder's best margin] over
    the questions the model decides (a rule or the off-topic check refuses the others first),
    and the highest threshold that still answers ``MIN_ANSWERED`` of the answerable ones, out
    of fold. Returns the check and the share of unanswerable dev questions refused out of
    fold at that threshold (a rule's refusal counted)."""
    from rag.answer_model import CrossCheck
    from rag.evaluate import calibration_error
    from rag.train_reader import auc, platt

    y = np.asarray([float(it.answerable) for it in items])
    decided = np.asarray([not (it.vetoed(vetoes) or it.off_topic) for it in items])
    q = np.clip(answer_p, 1e-6, 1 - 1e-6)
    x = np.c_[np.log(q / (1 - q)), np.asarray(margins, dtype=float)]

    def combined(weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
        a, b, c = (float(v) for v in weights)
        return CrossCheck((a, b, c), 0.5, reader, keep, order).combine_rows(rows)

    folds = np.asarray([it.fold for it in items])  # out of fold on dev, then fitted on all
    cv = answer_p.copy()
    for f in range(FOLDS):
        train = decided & (folds != f)
        w = platt(x[train], y[train])
        cv[(folds == f) & decided] = combined(w, x[(folds == f) & decided])
    weights = platt(x[decided], y[decided])
    answerable = y == 1

    def answered(p: np.ndarray, t: float, rules_decide: np.ndarray) -> np.ndarray:
        return rules_decide & (p >= t)  # a question a rule refuses is refused at any threshold

    cut = 0.05  # the highest threshold that still answers MIN_ANSWERED (as ``report``)
    for t in np.linspace(0.05, 0.95, 91):
        if np.mean(answered(cv, t, decided)[answerable]) >= MIN_ANSWERED:
            cut = float(t)
    print(
        f"== cross-check with the cross-encoder ({reader}), {len(items)} dev questions, "
        f"its {keep} best candidates by the {order} order"
    )
    ruled = np.where(decided, 1.0, 0.0)  # what a rule refuses first counts as refused
    print(
        f"  AUC answerable vs not (a rule's refusal as 0): model "
        f"{auc(answer_p * ruled, y):.3f}"
        f", margin {auc(x[:, 1] * ruled - 99 * (1 - ruled), y):.3f}, combined out of fold "
        f"{auc(cv * ruled, y):.3f}"
    )
    for label, p, t in (("model alone", answer_p, threshold), ("combined", cv, cut)):
        said = answered(p, t, decided)
        print(
            f"  {label} at {t:.2f}: answerable answered {np.mean(said[answerable]):.3f}, "
            f"unanswerable refused {np.mean(~said[~answerable]):.3f}, "
            f"ECE {calibration_error(p, y):.3f}"
        )
    print(f"  weights (log-odds, margin, bias) {np.round(weights, 3).tolist()}")
    a, b, c = (float(v) for v in weights)
    check = CrossCheck((round(a, 6), round(b, 6), round(c, 6)), round(cut, 3), reader, keep, order)
    return check, float(np.mean(~answered(cv, cut, decided)[~answerable]))


def check_on_dev(app, items: list[Item], oof: list[np.ndarray], modes: dict, args):
    """The cross-check fitted on every question neither reader trained on: the reader sets'
    dev split (out-of-fold answerability and ranker logits) and the check-dev sets (the fitted
    model's); both candidate orders are measured, ``CHECK_ORDER`` is fitted. ``modes``: per
    ``VETO_MODES`` key (the rule families that veto), (model, out-of-fold answerability); the
    check is fitted for each, and the answer-type rules keep their veto only where that
    refuses ``VETO_MARGIN`` more of the unanswerable dev questions at the same share answered.
    Returns (the vetoing families, the model with its check), or None where the cross-encoder
    cannot run."""
    from rag.reader.data import check_dev_sets, load_questions, split_of

    stats = app.index.term_stats()
    dev = [i for i, it in enumerate(items) if split_of(*it.qid.split(":", 1)) == "dev"]
    questions, _ = load_questions(check_dev_sets())
    extra = collected(app, questions, args.cache.with_suffix(".dev.pkl") if args.cache else None)
    print(f"cross-check dev: {len(dev)} reader-set dev questions, {len(extra)} check-dev ones")
    dev_items = [items[i] for i in dev] + extra
    ranker = modes[ALL_VETO][0].ranker  # the ranker does not depend on the rules' role
    dev_rank = [oof[i] for i in dev] + [rank_logits(ranker, it) for it in extra]
    read = dev_margins(dev_items, dev_rank)
    if read is None:
        return None
    reader, best = read
    fitted = {}
    for vetoes, (model, answer_p) in modes.items():
        print(f"-- {VETO_MODES[vetoes]}")
        dev_p = np.r_[answer_p[dev], model_p(model, extra, stats)]
        for order, keep in (("cheap", 6), ("ranker", 4)):  # measured side by side
            if (order, keep) != (CHECK_ORDER, CHECK_CANDIDATES):
                margins = best(order, keep)
                fit_cross_check(
                    dev_items, dev_p, vetoes, model.threshold, margins, reader, order, keep
                )
        margins = best(CHECK_ORDER, CHECK_CANDIDATES)
        fitted[vetoes] = fit_cross_check(dev_items, dev_p, vetoes, model.threshold, margins, reader)
    vetoes = vetoes_kept({v: refused for v, (_, refused) in fitted.items()})
    print(
        f"beside the cross-check: {VETO_MODES[vetoes]} (dev refused "
        + ", ".join(f"{fitted[v][1]:.3f} with {VETO_MODES[v]}" for v in fitted)
        + ")"
    )
    return vetoes, replace(modes[vetoes][0], cross_check=fitted[vetoes][0])


def report(items, logits, scores_of, answer_p, label: str):
    """Figures out of fold; returns the keep_ratio table and the chosen threshold."""
    from rag.evaluate import calibration_error

    answerable = [i for i, it in enumerate(items) if it.answerable]
    negatives = [i for i, it in enumerate(items) if not it.answerable]
    top1 = np.mean([items[i].y[int(np.argmax(logits[i]))] == 1 for i in answerable])
    print(f"== {label}")
    print(f"  expected sentence ranked first: {top1:.3f} of {len(answerable)} answerable")
    ratios = {}
    for ratio in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        chosen = [selected(scores_of(logits[i]), ratio) for i in answerable]
        hit = np.mean([items[i].y[c].any() for i, c in zip(answerable, chosen, strict=True)])
        size = np.mean([len(c) for c in chosen])
        ratios[ratio] = (hit, size)
        print(f"  keep_ratio {ratio:.1f}: expected among cited {hit:.3f}, cited {size:.2f}")
    if answer_p is None:
        return ratios, None
    y = np.asarray([float(it.answerable) for it in items])
    print(f"  answerability ECE {calibration_error(answer_p, y):.3f}")
    best_t = 0.05  # the highest threshold that still answers MIN_ANSWERED
    for t in np.linspace(0.05, 0.95, 91):
        if np.mean(answer_p[answerable] >= t) >= MIN_ANSWERED:
            best_t = float(t)
    kinds = sorted({items[i].kind for i in negatives})
    for t in sorted({0.3, 0.4, 0.5, 0.6, 0.7, round(best_t, 2)}):
        answered = np.mean(answer_p[answerable] >= t)
        refused = {
            k: np.mean([answer_p[i] < t for i in negatives if items[i].kind == k]) for k in kinds
        }
        print(
            f"  threshold {t:.2f}: answerable answered {answered:.3f}, unanswerable refused "
            f"{np.mean(answer_p[negatives] < t):.3f} ("
            + ", ".join(f"{k} {v:.2f}" for k, v in refused.items())
            + ")"
        )
    return ratios, best_t


def main() -> int:
    from rag.answer_features import QUESTION_FEATURES, softmax
    from rag.answer_model import MODEL_PATH, AnswerModel
    from rag.reader.data import held_out_sets, load_questions, training_sets
    from ui.settings import get_settings
    from ui.wiring import App

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    parser.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    parser.add_argument(
        "--cross-check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fit the cross-check with the cross-encoder of rag/data/reader/ into the model "
        "(shipped since 2026-12-02; benchmarks/README.md, the cross-encoder, step 11; "
        "default: %(default)s)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="a pickle of the collected questions: read if it exists, else written",
    )
    parser.add_argument(
        "--matches",
        choices=("both", "ranker", "none"),
        default=MATCHES,
        help="which model reads the e5 match vectors besides the features (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="default: %(default)s")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-train-"))
    app = App(get_settings(home=home), show_progress=False)
    app.ensure_index()
    stats = app.index.term_stats()
    questions, dropped = load_questions(training_sets(), held_out_sets())
    print(f"{len(questions)} training questions ({dropped} near-copies of held-out ones left out)")
    items = collected(app, questions, args.cache)
    by_rules = [it for it in items if it.type_problem]
    print(
        f"{sum(it.answerable for it in items)} answerable, "
        f"{sum(not it.answerable for it in items)} unanswerable; the answer-type rules refuse "
        f"{sum(it.answerable for it in by_rules)} answerable and "
        f"{sum(not it.answerable for it in by_rules)} unanswerable ones; the off-topic check "
        f"{sum(it.answerable and it.off_topic for it in items)} answerable and "
        f"{sum(not it.answerable and it.off_topic for it in items)} unanswerable ones"
    )
    heuristic = [np.asarray([ev.score for ev in it.evidence]) * 10 for it in items]
    report(items, heuristic, softmax, None, "heuristic sentence score (before)")
    ranker_matches = args.matches != "none"
    oof, rows = cross_validate(items, stats, ranker_matches)
    if args.matches != "both":  # the answerability model reads the question features only
        rows = rows[:, : len(QUESTION_FEATURES)]
    modes = {}
    for vetoes, label in VETO_MODES.items():
        answer_p, calibration = answerable_p(rows, items, vetoes)
        ratios, threshold = report(items, oof, softmax, answer_p, f"reader, 5-fold CV, {label}")
        negatives = [i for i, it in enumerate(items) if not it.answerable]
        refused = float(np.mean(answer_p[negatives] < threshold))
        modes[vetoes] = (refused, calibration, threshold, answer_p)
    # the answer-type rules keep their veto only where that refuses measurably more at the
    # same share answered (beside the cross-check, where there is one: check_on_dev decides
    # on the dev questions)
    vetoes = vetoes_kept({v: mode[0] for v, mode in modes.items()})
    print(f"without a cross-check: {VETO_MODES[vetoes]}")
    best_hit = max(hit for hit, size in ratios.values() if size <= MAX_MEAN_CITED)
    keep_ratio = max(
        r for r, (hit, size) in ratios.items() if size <= MAX_MEAN_CITED and hit >= best_hit - 0.01
    )
    print(f"chosen keep_ratio {keep_ratio}, threshold {modes[vetoes][2]:.2f} (without a check)")
    n_ans = sum(it.answerable for it in items)
    ranker = fit_ranker(items, ranker_matches=ranker_matches)

    def fitted(vetoes: tuple[str, ...]) -> AnswerModel:
        _, calibration, threshold, _ = modes[vetoes]
        return AnswerModel(
            app.index.embedder.name,
            ranker,
            replace(fit_answerable(rows, items, vetoes), platt=calibration),
            round(threshold, 3),
            keep_ratio,
            f"{len(training_sets())} training sets (rag.reader.data.training_sets): {n_ans} "
            f"answerable, {len(items) - n_ans} unanswerable questions; seed {SEED}",
            vetoes=vetoes,
            vetoed_confidence=round(
                refused_confidence([it for it in items if it.vetoed(vetoes)]), 4
            ),
            off_topic_confidence=round(refused_confidence([it for it in items if it.off_topic]), 4),
            candidate_passages=CANDIDATE_PASSAGES,
        )

    model = fitted(vetoes)
    if args.cross_check:
        each = {v: (fitted(v) if v != vetoes else model, modes[v][3]) for v in VETO_MODES}
        checked = check_on_dev(app, items, oof, each, args)
        if checked is not None:
            vetoes, model = checked
    if not args.dry_run:
        model.save(args.out)
        print(f"written {args.out} and its .npz")
    if args.home is None:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
