"""Leave-one-transcript-out CV of the suggester on coding/data/transcript_sentences.yaml.

Each of the twelve labelled training transcripts is held out in turn; the suggester trains on
the development set, the report's statements, the codebook's examples and the other
transcripts, and codes the held-out transcript's sentences. Reported per batch of transcripts
(two authors' batches), with and without the other batch in the training data, so that the
value of each batch is measured on transcripts it does not contain. Then, over all twelve, the
macro-F1 at each confidence floor below which no code is suggested.

Run: .venv/bin/python benchmarks/coding_transcripts_cv.py [--home DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

BATCHES = {
    "batch 1": [f"train_{i}.txt" for i in range(1, 7)],
    "batch 2": [f"train_{i}.txt" for i in range(7, 13)],
}


def main() -> int:
    from coding_transcripts import LABELS, macro_f1

    from coding.classify import NULL_THRESHOLD, Suggester
    from coding.codebook import load_codebook
    from coding.training import (
        TRANSCRIPT_SET,
        Example,
        codebook_examples,
        load_dev_set,
        report_examples,
    )
    from ui.settings import get_settings
    from ui.wiring import App

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="an existing WATWERKT_HOME (default: fresh)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="watwerkt-coding-cv-"))
    app = App(get_settings(home=home), show_progress=False)
    codebook = load_codebook(None)
    rows = yaml.safe_load(TRANSCRIPT_SET.read_text(encoding="utf-8"))["sentences"]
    labelled = [
        (r["file"], Example(r["text"], r["label"] or "none", (), "transcripts")) for r in rows
    ]
    base = [*load_dev_set(), *report_examples(), *codebook_examples(codebook)]
    suggester = Suggester(codebook, app.index.embedder)

    def held_out(files: list[str], allowed: set[str]) -> tuple[list[str], list[np.ndarray]]:
        """Gold labels and predicted probabilities, each file coded by a model without it."""
        gold, probs = [], []
        for name in files:
            suggester.fit(base + [e for f, e in labelled if f != name and f in allowed])
            test = [e for f, e in labelled if f == name]
            probs.extend(suggester.predict_proba([e.text for e in test])[0])
            gold.extend(e.label for e in test)
        return gold, probs

    def scores(gold: list[str], probs: list[np.ndarray], floor: float) -> tuple[float, float]:
        pred = [LABELS[int(np.argmax(p))] if p.max() >= floor else "none" for p in probs]
        pairs = list(zip(gold, pred, strict=True))
        return macro_f1(pairs)[0], float(np.mean([g == q for g, q in pairs]))

    everything = {f for f, _ in labelled}
    gold_all: list[str] = []
    probs_all: list[np.ndarray] = []
    for name, files in BATCHES.items():
        alone = scores(*held_out(files, set(files)), NULL_THRESHOLD)
        gold, probs = held_out(files, everything)
        both = scores(gold, probs, NULL_THRESHOLD)
        gold_all += gold
        probs_all += probs
        print(
            f"{name} held out one transcript at a time: macro-F1 {alone[0]:.3f} "
            f"(accuracy {alone[1]:.3f}) without the other batch, {both[0]:.3f} "
            f"({both[1]:.3f}) with it"
        )
    # the confidence floor below which no code is suggested (coding.classify.NULL_THRESHOLD),
    # over the "with it" runs: every transcript coded by a model trained on all the others
    for floor in (0.0, 0.3, 0.35, 0.4, 0.45, 0.5):
        f1, _ = scores(gold_all, probs_all, floor)
        print(f"all {len(everything)} transcripts, confidence floor {floor:.2f}: macro-F1 {f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
