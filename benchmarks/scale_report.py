"""Tables and plot of benchmarks/scale.py runs: scale.json (every run by label), .md and .png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HEADER = (
    "| passages | reports | sentences | ingest p/s | search p50 | p95 | filtered p95 "
    "| dense p50 | BM25 p50 | open s | peak RSS MB | disk MB | server p50 | server p95 "
    "| server RSS MB | before p50 | before p95 | before open s |"
)


def _cell(value: Any) -> str:
    return "—" if value is None else str(value)


def _search(result: dict[str, Any], key: str, field: str = "p95_ms") -> Any:
    """A figure of one search child, or "fails" when it broke."""
    if not result:
        return None
    if "error" in result:
        return "fails"
    return result[key][field] if field else result[key]


def table(run: dict[str, Any]) -> str:
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for row in run["rows"]:
        emb, srv, b = row["embedded"], row.get("server") or {}, row.get("build") or {}
        old = row.get("before") or {}
        rate = b.get("ingest_real", {}).get("per_s") if b else None
        cells = [
            b.get("passages", row["target"]),
            b.get("reports"),
            b.get("sentences"),
            rate,
            _search(emb, "search", "p50_ms"),
            _search(emb, "search"),
            _search(emb, "filtered"),
            _search(emb, "dense", "p50_ms"),
            _search(emb, "sparse", "p50_ms"),
            _search(emb, "open_s", ""),
            _search(emb, "child_peak_rss_mb", ""),
            row["disk_mb"],
            _search(srv, "search", "p50_ms"),
            _search(srv, "search"),
            _search(srv, "server_rss_mb", ""),
            _search(old, "search", "p50_ms"),
            _search(old, "search"),
            _search(old, "open_s", ""),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def write_results(result: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scale.json"
    try:
        runs: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["runs"]
    except (OSError, ValueError, KeyError):
        runs = {}
    runs[result["label"] or "latest"] = result
    path.write_text(json.dumps({"runs": runs}, indent=1) + "\n", encoding="utf-8")
    parts = ["# Scale benchmark (benchmarks/scale.py)", ""]
    for label, run in runs.items():
        load = ", ".join(f"{x:.2f}" for x in run["load"])
        parts += [f"## {label}: {run['when']}, {run['cpus']} CPUs, load {load}", ""]
        parts += [table(run), ""]
    (folder / "scale.md").write_text("\n".join(parts), encoding="utf-8")
    plot(runs, folder / "scale.png")


def _series(
    rows: list[dict[str, Any]], key: str, field: str, what: str = "search"
) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in rows:
        result = r.get(key)
        if result and "error" not in result:
            xs.append(r.get("build", {}).get("passages", r["target"]))
            ys.append(result[what][field])
    return xs, ys


def plot(runs: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, run in runs.items():
        rows = run["rows"]
        prefix = f"{label}: " if len(runs) > 1 else ""
        before = f"rag/ at {run.get('compare')}"
        series = (
            ("embedded", "search", "-", "embedded"),
            ("server", "search", "--", "server"),
            ("before", "search", ":", f"{before}, embedded"),
            ("embedded", "filtered", "-.", "embedded, filtered to 1 report"),
            ("before", "filtered", ":", f"{before}, filtered to 1 report"),
        )
        for key, what, style, name in series:
            for field, marker in (("p95_ms", "o"), ("p50_ms", "."))[: 2 if what == "search" else 1]:
                xs, ys = _series(rows, key, field, what)
                if xs:
                    ax.plot(xs, ys, style, marker=marker, label=f"{prefix}{name} {field[:3]}")
        failed = [
            r.get("build", {}).get("passages", r["target"])
            for r in rows
            if "error" in (r.get("before") or {})
        ]
        if failed:
            ax.plot(failed, [0] * len(failed), "rX", markersize=10, label=f"{before} fails")
        xs = [r.get("build", {}).get("passages", r["target"]) for r in rows]
        rss = [r["embedded"].get("child_peak_rss_mb") for r in rows]
        bx.plot(xs, rss, "-o", label=f"{prefix}search process peak RSS")
        bx.plot(xs, [r["disk_mb"] for r in rows], "--s", label=f"{prefix}disk")
    ax.axhline(200, color="grey", linewidth=0.8, linestyle=":", label="target p95 200 ms")
    for a, title, unit in (
        (ax, "Retriever.search(q, 5), warm", "ms"),
        (bx, "memory and disk", "MB"),
    ):
        a.set_xscale("log")
        a.set_xlabel("passages")
        a.set_ylabel(unit)
        a.set_title(title)
        a.grid(True, alpha=0.3)
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
