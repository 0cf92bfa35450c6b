"""Everything an index holds, as comparable values: to tell a repaired index from a clean one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from rag.bm25 import BM25Index
from rag.index import Index

from .conftest import REPO


def index_state(index: Index) -> dict[str, Any]:
    """Raw contents of all three collections (leftovers included), BM25 and the documents."""
    chunks = index.collection.get(include=["documents", "metadatas", "embeddings"])
    sentences = index.sentences.get(include=["metadatas", "embeddings"])
    manifest = index.manifest.get(include=["documents", "metadatas"])
    saved = BM25Index.load(index.folder, index._stamp())
    folder = index.documents.folder
    return {
        "chunks": sorted(
            (i, t, sorted(m.items()))
            for i, t, m in zip(chunks["ids"], chunks["documents"], chunks["metadatas"], strict=True)
        ),
        "chunk_vectors": dict(zip(chunks["ids"], chunks["embeddings"], strict=True)),
        "sentences": sorted(
            (i, sorted(m.items()))
            for i, m in zip(sentences["ids"], sentences["metadatas"], strict=True)
        ),
        "sentence_vectors": dict(zip(sentences["ids"], sentences["embeddings"], strict=True)),
        "manifest": sorted(
            (i, d, sorted(m.items()))
            for i, d, m in zip(
                manifest["ids"], manifest["documents"], manifest["metadatas"], strict=True
            )
        ),
        "records": sorted(index.records()),
        "bm25_file": sorted(saved.ids) if saved is not None else None,
        "bm25": sorted(index.bm25().ids),
        "documents": {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*"))}
        if folder.exists()
        else {},
    }


def assert_same_index(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Same ids, texts, metadata, documents and BM25; vectors equal to float precision."""
    for key in ("chunks", "sentences", "manifest", "records", "bm25", "documents"):
        assert got[key] == want[key], f"{key} differs from a clean run"
    assert got["bm25_file"] == want["records"], "the saved BM25 index is stale"
    for key in ("chunk_vectors", "sentence_vectors"):
        assert got[key].keys() == want[key].keys()
        for i, vector in want[key].items():
            assert np.allclose(got[key][i], vector, atol=1e-5), f"{key}[{i}] differs"


def watwerkt(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real command in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def corpus_files(folder: Path, version: int) -> Path:
    """Three small reports; version 2 changes b.md and adds c.txt."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a.txt").write_text(
        "1.1 Aanleiding\n\nMentoring door vrijwilligers helpt jongeren met hun zelfvertrouwen. "
        "De coaches zien de jongeren elke week en bespreken hun doelen.\n\n"
        "1.2 Werkgevers\n\nWerkgevers die ontzorgd worden, bieden vaker een stageplek aan "
        "jongeren met een afstand tot de arbeidsmarkt. Dat bleek in drie regio's.\n",
        encoding="utf-8",
    )
    extra = (
        "\n\nNazorg na de plaatsing houdt jongeren langer aan het werk. De jobcoach belt in "
        "de eerste maanden elke week met de jongere en met de werkgever.\n"
        if version > 1
        else ""
    )
    (folder / "b.md").write_text(
        "Ouders zijn belangrijk voor de loopbaankeuze van hun kinderen. Ouderavonden op school "
        "vergroten de betrokkenheid van ouders bij de keuze voor een vervolgopleiding." + extra,
        encoding="utf-8",
    )
    if version > 1:
        (folder / "c.txt").write_text(
            "Scholen en gemeenten delen gegevens over voortijdig schoolverlaters. Zo kan een "
            "trajectbegeleider een jongere bellen voordat die uit beeld raakt.\n",
            encoding="utf-8",
        )
    return folder
