"""Load on the web app: N concurrent users ask the gold questions through `watwerkt ui`.

Starts a real `watwerkt ui` server on 127.0.0.1 (a free port), then every simulated user opens
its own Gradio session (``gradio_client``) and asks questions through the chat endpoint
(``/respond``, the same function as pressing enter in the browser) one after another, until the
time is up or it has asked ``--max-requests``. Bounded: 60 s at most (longer is capped), 10
users and 100 questions per user by default (50 users at most), loopback only (any other
connection from this process is refused). Questions are the
answerable and the unanswerable ones of ``tests/data/gold_retrieval.yaml``, each user starting
at a different place in the list. One warm-up question is asked before the clock starts.

Reports requests, errors, answers vs refusals, throughput and latency (p50/p95/max) as each
user experiences it: queueing included (the app answers at most 2 questions at a time).

Run: .venv/bin/python benchmarks/load_ui.py [--users 10] [--duration 60] [--json]
     [--home DIR]   (an existing WATWERKT_HOME with an index; default: a fresh one, indexed)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ui.local_server import HOST, LocalServer, ServerError, server_env  # noqa: E402

GOLD = REPO / "tests" / "data" / "gold_retrieval.yaml"
MAX_DURATION_S = 60.0
API = "/respond"
REQUEST_TIMEOUT_S = 120.0

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family == socket.AF_UNIX or (
        isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1"))
    ):
        return _real_connect(self, address)
    raise OSError(f"load_ui.py only talks to 127.0.0.1 (tried {address!r})")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _questions(path: Path) -> list[str]:
    gold = yaml.safe_load(path.read_text(encoding="utf-8"))
    answerable = [q["question"] for q in gold.get("questions", [])]
    unanswerable = [q["question"] for q in gold.get("answerable_false", [])]
    return answerable + unanswerable


@dataclass
class UserResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answered: int = 0
    refused: int = 0


def _check(result: Any) -> bool:
    """True for an answer, False for a refusal; raises on anything else."""
    history, sources = result[0], result[1]
    if not history or history[-1].get("role") != "assistant":
        raise ValueError("no assistant message in the chat")
    if 'id="refusal"' in sources:
        return False
    if "<mark>" not in sources:
        raise ValueError("an answer without a highlighted quote")
    return True


def ask_one(client: Any, question: str) -> bool:
    job = client.submit(question, [], [], [], api_name=API)
    return _check(job.result(timeout=REQUEST_TIMEOUT_S))


def user(
    client: Any,
    questions: list[str],
    offset: int,
    clock: dict[str, float],
    max_requests: int,
    start: threading.Barrier,
    out: UserResult,
) -> None:
    """One simulated user: asks questions one after another until the deadline or the cap."""
    start.wait()  # all users begin together; clock["deadline"] is set before the barrier opens
    deadline = clock["deadline"]
    i = 0
    while i < max_requests and time.perf_counter() < deadline:
        question = questions[(offset + i) % len(questions)]
        i += 1
        began = time.perf_counter()
        try:
            grounded = ask_one(client, question)
        except Exception as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        out.latencies.append(time.perf_counter() - began)
        if grounded:
            out.answered += 1
        else:
            out.refused += 1


def run_load(
    url: str, questions: list[str], users: int, duration: float, max_requests: int
) -> dict[str, Any]:
    from gradio_client import Client

    clients = [  # one Gradio session per user; no telemetry, no downloads
        Client(url, verbose=False, analytics_enabled=False, download_files=False)
        for _ in range(users)
    ]
    began = time.perf_counter()
    ask_one(clients[0], "Wat werkt voor mbo-2 jongeren?")  # warm-up: the models load
    warmup = time.perf_counter() - began

    results = [UserResult() for _ in range(users)]
    start = threading.Barrier(users + 1)
    clock: dict[str, float] = {}
    step = max(1, len(questions) // users)
    threads = [
        threading.Thread(
            target=user,
            args=(clients[k], questions, k * step, clock, max_requests, start, results[k]),
            daemon=True,
        )
        for k in range(users)
    ]
    for t in threads:
        t.start()
    clock["deadline"] = time.perf_counter() + duration
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(timeout=duration + REQUEST_TIMEOUT_S + 30)
    wall = time.perf_counter() - t0
    for c in clients:
        with contextlib.suppress(Exception):
            c.close()

    latencies = [x for r in results for x in r.latencies]
    errors = [e for r in results for e in r.errors]
    requests = len(latencies) + len(errors)
    return {
        "users": users,
        "duration_s": duration,
        "max_requests_per_user": max_requests,
        "wall_s": round(wall, 2),
        "warmup_s": round(warmup, 3),
        "requests": requests,
        "errors": len(errors),
        "error_examples": errors[:5],
        "answered": sum(r.answered for r in results),
        "refused": sum(r.refused for r in results),
        "per_user": [len(r.latencies) + len(r.errors) for r in results],
        "throughput_rps": round(requests / wall, 3) if wall else 0.0,
        "latency_s": {
            "p50": round(_pct(latencies, 0.50), 3) if latencies else None,
            "p95": round(_pct(latencies, 0.95), 3) if latencies else None,
            "max": round(max(latencies), 3) if latencies else None,
            "mean": round(statistics.fmean(latencies), 3) if latencies else None,
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10, help="concurrent users (default 10)")
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of load (default and maximum 60)"
    )
    parser.add_argument(
        "--max-requests", type=int, default=100, help="questions per user at most (default 100)"
    )
    parser.add_argument("--home", type=Path, help="a WATWERKT_HOME with an index (reused as is)")
    parser.add_argument("--gold", type=Path, default=GOLD, help="questions (gold YAML)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()
    if not 1 <= args.users <= 50:
        parser.error("--users must be between 1 and 50")
    if args.max_requests < 1:
        parser.error("--max-requests must be at least 1")
    duration = min(max(args.duration, 1.0), MAX_DURATION_S)
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

    workdir = Path(tempfile.mkdtemp(prefix="watwerkt-load-"))
    home = args.home.resolve() if args.home else workdir / "home"
    if args.home is None:
        print("indexing the bundled report into a fresh home ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "ui.cli", "ingest", "-q", "--json", "--home", str(home)],
            cwd=REPO,
            env=server_env(home),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    local = LocalServer(home, workdir / "server.log")
    print(f"starting watwerkt ui on {HOST}:{local.port} ...", file=sys.stderr)
    try:
        local.start()
    except ServerError as exc:
        raise SystemExit(str(exc)) from exc
    try:
        print(
            f"{args.users} users, {duration:.0f} s, at most {args.max_requests} questions each",
            file=sys.stderr,
        )
        report = run_load(
            local.url, _questions(args.gold), args.users, duration,
            args.max_requests,
        )  # fmt: skip
    finally:
        local.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report["home"] = str(home) if (args.home or args.keep) else None

    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        lat = report["latency_s"]
        print(
            f"{report['users']} users x {report['duration_s']:.0f} s: {report['requests']} "
            f"requests, {report['errors']} errors ({report['answered']} answers, "
            f"{report['refused']} refusals), {report['throughput_rps']} req/s"
        )
        print(
            f"latency p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s "
            f"(warm-up {report['warmup_s']} s)"
        )
        for e in report["error_examples"]:
            print(f"  error: {e}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
