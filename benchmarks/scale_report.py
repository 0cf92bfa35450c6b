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
            emb["search"]["p50_ms"],
            emb["search"]["p95_ms"],
            emb["filtered"]["p95_ms"],
            emb["dense"]["p50_ms"],
            emb["sparse"]["p50_ms"],
            emb["open_s"],
            emb["child_peak_rss_mb"],
            row["disk_mb"],
            srv.get("search", {}).get("p50_ms"),
            srv.get("search", {}).get("p95_ms"),
            srv.get("server_rss_mb"),
            old.get("search", {}).get("p50_ms"),
            old.get("search", {}).get("p95_ms"),
            old.get("open_s"),
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


def plot(runs: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, run in runs.items():
        rows = run["rows"]
        xs = [r.get("build", {}).get("passages", r["target"]) for r in rows]
        for key, style in (("embedded", "-"), ("server", "--")):
            if all(key in r for r in rows):
                p95 = [r[key]["search"]["p95_ms"] for r in rows]
                p50 = [r[key]["search"]["p50_ms"] for r in rows]
                ax.plot(xs, p95, style, marker="o", label=f"{label} {key} p95")
                ax.plot(xs, p50, style, marker=".", alpha=0.6, label=f"{label} {key} p50")
        if all("before" in r for r in rows):
            before = f"{label} rag/ at {run.get('compare')}"
            ax.plot(
                xs,
                [r["before"]["search"]["p95_ms"] for r in rows],
                ":",
                marker="x",
                label=f"{before} p95",
            )
        bx.plot(xs, [r["embedded"]["child_peak_rss_mb"] for r in rows], "-o", label=f"{label} RSS")
        bx.plot(xs, [r["disk_mb"] for r in rows], "--s", label=f"{label} disk")
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
