"""Load on the web app: N concurrent users ask the gold questions through `watwerkt ui`.

Starts a real `watwerkt ui` server on 127.0.0.1 (a free port), then every simulated user opens
its own Gradio session (``gradio_client``) and asks questions through the chat endpoint
(``/respond``, the same function as pressing enter in the browser) one after another, until the
time is up or it has asked ``--max-requests``, reading each answer for a while before the
next question (``--think``, mean seconds of an exponential pause, seeded per user). Every third
question searches within a year filter, as a user narrowing the search does. Bounded: 150 s at
most (longer is capped), 20 users and 100 questions per user by default (50 users at most),
loopback only (any other connection from this process is refused). Questions are the answerable
and the unanswerable ones of ``tests/data/gold_retrieval.yaml``, each user starting at a
different place in the list. One warm-up question is asked before the clock starts.

First, in the same run and on the same server, a single user asks ``--single`` questions one
after another (no pause): the single-user time the issue's bound ("p95 within 3x a single
user's") is measured against. Then the load. Reports requests, errors, answers vs refusals,
throughput and latency (p50/p95/max) as each user experiences it, queueing included (the app
answers ``WATWERKT_UI_WORKERS`` questions at a time, by default the number of cores).

Run: .venv/bin/python benchmarks/load_ui.py [--users 20] [--duration 120] [--think 10] [--json]
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
MAX_DURATION_S = 150.0
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


YEARS = ["2020"]  # the bundled report's year: a filtered search that still finds passages


def ask_one(client: Any, question: str, years: list[str] | None = None) -> bool:
    job = client.submit(question, [], [], years or [], api_name=API)
    return _check(job.result(timeout=REQUEST_TIMEOUT_S))


def user(
    client: Any,
    questions: list[str],
    offset: int,
    clock: dict[str, float],
    max_requests: int,
    start: threading.Barrier,
    out: UserResult,
    think: float = 0.0,
) -> None:
    """One simulated user: asks, reads the answer (``think`` s on average), asks again, until
    the deadline or the cap."""
    import random

    rng = random.Random(offset)
    start.wait()  # all users begin together; clock["deadline"] is set before the barrier opens
    deadline = clock["deadline"]
    i = 0
    if think > 0:  # users do not all press enter in the same second
        time.sleep(min(rng.uniform(0, think), max(0.0, deadline - time.perf_counter())))
    while i < max_requests and time.perf_counter() < deadline:
        question = questions[(offset + i) % len(questions)]
        i += 1
        began = time.perf_counter()
        try:
            grounded = ask_one(client, question, YEARS if i % 3 == 0 else None)
        except Exception as exc:
            out.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            continue
        out.latencies.append(time.perf_counter() - began)
        if grounded:
            out.answered += 1
        else:
            out.refused += 1
        if think > 0:
            pause = min(rng.expovariate(1 / think), max(0.0, deadline - time.perf_counter()))
            time.sleep(pause)


def single_user(url: str, questions: list[str], n: int) -> dict[str, Any]:
    """The baseline: one user alone asks ``n`` questions back to back."""
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
    times: list[float] = []
    try:
        for i, question in enumerate(questions[:n], start=1):
            began = time.perf_counter()
            ask_one(client, question, YEARS if i % 3 == 0 else None)
            times.append(time.perf_counter() - began)
    finally:
        with contextlib.suppress(Exception):
            client.close()
    return {
        "requests": len(times),
        "p50": round(_pct(times, 0.50), 3),
        "p95": round(_pct(times, 0.95), 3),
        "mean": round(statistics.fmean(times), 3),
    }


def run_load(
    url: str,
    questions: list[str],
    users: int,
    duration: float,
    max_requests: int,
    think: float = 0.0,
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
            args=(clients[k], questions, k * step, clock, max_requests, start, results[k], think),
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
        "think_s": think,
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
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument(
        "--duration", type=float, default=120, help="seconds of load (default 120, at most 150)"
    )
    parser.add_argument(
        "--think", type=float, default=10.0, help="mean seconds a user reads an answer (10)"
    )
    parser.add_argument(
        "--single", type=int, default=30, help="questions of the single-user baseline (30)"
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
        questions = _questions(args.gold)
        single_user(local.url, questions[-1:], 1)  # the models load: not part of any figure
        print(f"single user, {args.single} questions back to back ...", file=sys.stderr)
        single = single_user(
            local.url, questions[:: max(1, len(questions) // args.single)], args.single
        )
        report = run_load(
            local.url, questions, args.users, duration, args.max_requests, args.think,
        )  # fmt: skip
        report["single_user_s"] = single
        p95 = report["latency_s"]["p95"]
        report["p95_over_single_p95"] = round(p95 / single["p95"], 2) if p95 else None
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
        one = report["single_user_s"]
        print(
            f"single user alone: p50 {one['p50']} s, p95 {one['p95']} s; "
            f"p95 under load / alone = {report['p95_over_single_p95']}"
        )
        for e in report["error_examples"]:
            print(f"  error: {e}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
