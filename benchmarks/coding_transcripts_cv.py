"""Leave-one-transcript-out CV of the suggester on coding/data/transcript_sentences.yaml.

Each of the 28 labelled training transcripts (four batches) is held out in turn; the suggester
trains on the development set, the report's statements, the codebook's examples and the other
transcripts, and codes the held-out transcript's sentences in order. Several feature sets run
in the same folds, one after the other, so the gain of each step is measured in one run:

- before: embedding, cue rules and the nearest example per class (the model until cimo-2);
- own transcript never a neighbour: in training, a sentence's nearest examples never come from
  its own transcript (a transcript never seen has none there either);
- context: also the nearest example per class of what was said just before the sentence, alone
  and weighted by the sentence's brevity (a learned weight: the shorter the sentence, the more
  its context can count). The interviewer's turns of these transcripts are not data (batches 3
  and 4 keep them as YAML comments only), so here the context is the respondent's previous
  sentence; `watwerkt code` also reads the interviewer's question before a turn's first sentence;
- context, own transcript as neighbour: the feature set of cimo-3 (the group exclusion
  measured slightly worse both with and without context, so it is off);
- embedding shrunk harder: the same features, the embedding's dimensions at L2 0.2 and the cue
  and nearest-example features at 0.01 (until cimo-3 all at 0.01): the shipped model (cimo-4).

Then, for the last feature set, per batch of transcripts (one author each), the first twelve
and the first twenty together, and the macro-F1 at each confidence floor below which no code is
suggested. Nothing here reads the held-out interviews of tests/data/coding_holdout/.

Run: nice -n 10 .venv/bin/python benchmarks/coding_transcripts_cv.py [--embed-cache FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import coding_cv_common as common

UNIFORM = {"embedding_l2": 0.01, "feature_l2": 0.01}  # one L2 strength for all, until cimo-3
CONFIGS: dict[str, dict[str, Any]] = {
    "before (cimo-2 features)": {"context": False, "exclude_group": False, **UNIFORM},
    "+ own transcript never a neighbour": {"context": False, "exclude_group": True, **UNIFORM},
    "+ context (previous sentence / question)": {
        "context": True,
        "exclude_group": True,
        **UNIFORM,
    },
    "context, own transcript as neighbour (cimo-3)": {
        "context": True,
        "exclude_group": False,
        **UNIFORM,
    },
    "+ embedding shrunk harder (shipped, cimo-4)": {"context": True, "exclude_group": False},
}


def loto(suggester, base, sentences, files) -> tuple[list[str], list[np.ndarray], list[str]]:
    """Gold labels, probabilities and files, each file coded by a model trained without it."""
    gold: list[str] = []
    probs: list[np.ndarray] = []
    where: list[str] = []
    for name in files:
        suggester.fit(base + [e for e in sentences if e.group != name], themes=False)
        test = [e for e in sentences if e.group == name]
        probs.extend(suggester.predict_proba([e.text for e in test], [e.context for e in test])[0])
        gold.extend(e.label for e in test)
        where.extend(name for _ in test)
    return gold, probs, where


def main() -> int:
    from coding.classify import NULL_THRESHOLD, Suggester

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-cache", type=Path, default=common.DEFAULT_CACHE)
    parser.add_argument(
        "--only", type=int, nargs="+", help="run only these feature sets (0-based, in order)"
    )
    args = parser.parse_args()
    codebook, base, sentences = common.data()
    embedder = common.embedder(args.embed_cache)
    files = list(dict.fromkeys(e.group for e in sentences))
    print(f"{len(files)} transcripts, {len(sentences)} sentences; floor {NULL_THRESHOLD:.2f}")
    last = None
    for i, (label, options) in enumerate(CONFIGS.items()):
        if args.only is not None and i not in args.only:
            continue
        suggester = Suggester(codebook, embedder, **options)
        last = gold, probs, where = loto(suggester, base, sentences, files)
        f1, acc = common.score(gold, common.predictions(probs, NULL_THRESHOLD))
        print(f"{label}: macro-F1 {f1:.3f} (accuracy {acc:.3f})", flush=True)
    assert last is not None
    gold, probs, where = last
    for batch, names in common.BATCHES.items():
        idx = [i for i, w in enumerate(where) if w in names]
        f1, acc = common.score(
            [gold[i] for i in idx], common.predictions([probs[i] for i in idx], NULL_THRESHOLD)
        )
        print(f"  {batch} transcripts (other batches in training): macro-F1 {f1:.3f} ({acc:.3f})")
    for count, batches in (("twelve", 2), ("twenty", 3)):
        names = [n for b in list(common.BATCHES.values())[:batches] for n in b]
        first = [i for i, w in enumerate(where) if w in names]
        f1, acc = common.score(
            [gold[i] for i in first], common.predictions([probs[i] for i in first], NULL_THRESHOLD)
        )
        print(f"  the first {count} transcripts together: macro-F1 {f1:.3f} ({acc:.3f})")
    for floor in (0.0, 0.3, 0.35, 0.4, 0.45, 0.5):
        f1, _ = common.score(gold, common.predictions(probs, floor))
        print(f"  confidence floor {floor:.2f}: macro-F1 {f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
