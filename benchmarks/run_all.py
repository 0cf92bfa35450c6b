"""Run every benchmark in turn (quality against the LangChain baseline, then speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["retrieval_vs_langchain.py", "perf.py", "answer_quality.py", "coding_perf.py"]

if __name__ == "__main__":
    failed = 0
    for script in SCRIPTS:
        print(f"\n== {script} ==", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / script), *sys.argv[1:]])
    sys.exit(1 if failed else 0)
