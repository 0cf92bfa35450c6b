"""Learning from review: macro-F1 on a transcript never seen, as a study's coder reviews 0, 25, 50,
100 segments of the study's other transcripts (what `watwerkt project retrain` learns from).

Leave one transcript out over the labelled transcripts of coding/data/
transcript_sentences.yaml. Each batch of transcripts (one author, one set of interviews; see
coding_cv_common.BATCHES) plays a study. For a held-out transcript T, the built-in training
data is the development set, the report's statements, the codebook's examples and the other
batches (other studies); the "reviewed" segments are the gold labels of the first N sentences
of the other transcripts of T's batch, taken transcript by transcript in order from the one
after T, as a coder reviews whole interviews. They enter as `project` examples, as
coding.retrain.project_examples makes them (context and transcript as group), with the weight
under test.

Why the other transcripts of the study and not T's own other sentences: a coder retrains before
coding a new interview, so what the model has learned from is the study's earlier interviews;
T's own sentences would also leak its speaker and topic into its test (and a transcript holds
only about 45 sentences, fewer than 100).

Run: nice -n 10 .venv/bin/python benchmarks/coding_learning_curve.py [--weights 2 1]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import coding_cv_common as common

SIZES = (0, 25, 50, 100)


def main() -> int:
    from coding.classify import NULL_THRESHOLD, PROJECT_WEIGHT, Suggester

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-cache", type=Path, default=common.DEFAULT_CACHE)
    parser.add_argument("--weights", type=float, nargs="+", default=[PROJECT_WEIGHT])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    codebook, base, sentences = common.data()
    embedder = common.embedder(args.embed_cache)
    for weight in args.weights:
        suggester = Suggester(codebook, embedder, project_weight=weight)
        gold: dict[int, list[str]] = {n: [] for n in args.sizes}
        probs: dict[int, list] = {n: [] for n in args.sizes}
        for names in common.BATCHES.values():
            other = [e for e in sentences if e.group not in names]
            for k, held in enumerate(names):
                order = names[k + 1 :] + names[:k]
                study = [e for name in order for e in sentences if e.group == name]
                test = [e for e in sentences if e.group == held]
                for n in args.sizes:
                    reviewed = [replace(e, source="project") for e in study[:n]]
                    if n or k == 0:
                        suggester.fit([*base, *other, *reviewed], themes=False)
                        if not n:
                            unreviewed = suggester.model
                    else:  # with nothing reviewed, one model serves the whole batch
                        suggester.model = unreviewed
                    texts, contexts = [e.text for e in test], [e.context for e in test]
                    probs[n].extend(suggester.predict_proba(texts, contexts)[0])
                    gold[n].extend(e.label for e in test)
        for n in args.sizes:
            f1, acc = common.score(gold[n], common.predictions(probs[n], NULL_THRESHOLD))
            print(
                f"weight {weight:g}, {n:3d} reviewed segments of the study: "
                f"macro-F1 {f1:.3f} (accuracy {acc:.3f})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
