"""`watwerkt code` on a 10,000-word transcript: wall time and peak RSS of the real command.

The transcript is the synthetic test interview repeated (with its speaker turns) to about
10,000 words. Measured twice in a fresh WATWERKT_HOME: the first run includes building the
index, the coding model and loading deduce's cached name lists; the second is steady state.

Run: .venv/bin/python benchmarks/coding_perf.py [--json] [--words N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from measure import run_measured

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "tests" / "data" / "interview_pseudo.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--words", type=int, default=10_000)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="watwerkt-coding-"))
    base = SOURCE.read_text(encoding="utf-8")
    copies = max(1, round(args.words / len(base.split())))
    transcript = home / "lang-interview.txt"
    transcript.write_text("\n".join([base] * copies), encoding="utf-8")
    env = {**os.environ, "WATWERKT_HOME": str(home)}
    cli = [sys.executable, "-m", "ui.cli", "code", str(transcript), "--json", "-q"]
    results: dict[str, object] = {"words": len(transcript.read_text("utf-8").split())}
    first_s, first_rss, _ = run_measured(cli, env)
    second_s, second_rss, out = run_measured(cli, env)
    data = json.loads(out)
    results.update(
        first_run_s=round(first_s, 1),
        first_run_peak_rss_mb=first_rss,
        steady_s=round(second_s, 1),
        steady_peak_rss_mb=second_rss,
        segments=len(data["segments"]),
        coded=sum(1 for s in data["segments"] if s["cimo"]),
    )
    shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
