"""Speed and memory of the main jobs, measured as a user meets them (real `watwerkt` processes).

- ingest of the bundled report into a fresh WATWERKT_HOME (wall time, peak RSS);
- the same ingest again (nothing changes; target < 2 s);
- `watwerkt search` from a cold process (target <= 3 s);
- `watwerkt ask` from a cold process, with the trained reader (target <= 4 s, peak RSS 1.5 GB);
- warm `Retriever.search` latency p50/p95 over the gold questions (target p95 <= 100 ms);
- `watwerkt ask` warm latency when the answerer exists (target p95 <= 500 ms).

Run: .venv/bin/python benchmarks/perf.py [--json] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from measure import run_measured

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--repeats", type=int, default=3, help="cold-search repetitions")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="watwerkt-perf-"))
    env = {**os.environ, "WATWERKT_HOME": str(home), "ANONYMIZED_TELEMETRY": "False"}
    env["WATWERKT_EMBED_CACHE"] = "off"  # a first ingest: no vectors from earlier runs
    cli = [sys.executable, "-m", "ui.cli"]
    results: dict[str, Any] = {"home": str(home)}

    print("ingest (fresh home) ...", file=sys.stderr)
    secs, rss, _ = run_measured([*cli, "ingest", "--json", "-q"], env)
    results["ingest_s"], results["ingest_peak_rss_mb"] = round(secs, 2), rss
    secs, rss, out = run_measured([*cli, "ingest", "--json", "-q"], env)
    statuses = [f["status"] for f in json.loads(out)["files"]]
    results["reingest_s"], results["reingest_statuses"] = round(secs, 2), statuses

    print("cold search ...", file=sys.stderr)
    cold = []
    for _ in range(args.repeats):
        secs, rss, _ = run_measured(
            [*cli, "search", "Wat werkt voor mbo-2 jongeren?", "--json"], env
        )
        cold.append(secs)
    results["cold_search_s_median"] = round(statistics.median(cold), 2)
    results["cold_search_s_max"] = round(max(cold), 2)
    results["search_peak_rss_mb"] = rss

    print("cold ask ...", file=sys.stderr)
    cold, peak = [], 0
    for _ in range(args.repeats):
        secs, rss, _ = run_measured(
            [*cli, "ask", "Hoeveel MBO-studenten deden mee aan de pilots?", "--json"], env
        )
        cold.append(secs)
        peak = max(peak, rss)
    results["cold_ask_s_median"] = round(statistics.median(cold), 2)
    results["cold_ask_s_max"] = round(max(cold), 2)
    results["ask_peak_rss_mb"] = peak

    print("warm search ...", file=sys.stderr)
    from rag.evaluate import load_gold
    from ui.settings import get_settings
    from ui.wiring import App

    app = App(get_settings(home=home), show_progress=False)
    questions = [q.question for q in load_gold(REPO / "tests/data/gold_retrieval.yaml").questions]
    app.retriever.warm_up()
    times = []
    for q in questions:
        t = time.perf_counter()
        app.retriever.search(q, k=5)
        times.append((time.perf_counter() - t) * 1000)
    results["warm_search_ms_p50"] = round(_pct(times, 0.5), 1)
    results["warm_search_ms_p95"] = round(_pct(times, 0.95), 1)

    answer = getattr(app, "ask", None)
    if answer is not None:
        answer(questions[0])
        times = []
        for q in questions:
            t = time.perf_counter()
            answer(q)
            times.append((time.perf_counter() - t) * 1000)
        results["warm_ask_ms_p50"] = round(_pct(times, 0.5), 1)
        results["warm_ask_ms_p95"] = round(_pct(times, 0.95), 1)

    import resource

    results["bench_process_peak_rss_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    )
    results["cpu_count"] = os.cpu_count()
    if not args.keep:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
        results.pop("home")
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
