"""Shared by the benchmark scripts: run a real command and measure it."""

from __future__ import annotations

import os
import subprocess
import time


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in MB of the child (from wait4) and its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(args)}")
    return time.perf_counter() - started, usage.ru_maxrss // 1024, out
