"""An outside probe of a running `watwerkt ui`, over plain HTTP on loopback (issue 13).

Calls every event function in the app's config (by its index, as the page does) with files
the probe never uploaded for each file input (a transcript, a .md, a .docx and a PDF holding a
secret marker, /etc/passwd) and a report id for each text input; then sends a foreign Host
header, a cross-site upload and an oversized question. Reports what leaked or changed. Works
against any version of the app (it only speaks HTTP), so it shows the before/after of the
security work in one run when pointed at two servers.

Run (a server must be up, e.g. `watwerkt ui --port 7999 --home DIR`):
    .venv/bin/python benchmarks/security_probe.py --url http://127.0.0.1:7999/ [--json]
Bounded: one call per function and file, 60 s per call, loopback only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.gradio_http import GradioHttp, file_data  # noqa: E402
from tests.pdf_factory import pages_of  # noqa: E402

CORPUS_PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"


def _secrets(folder: Path, marker: str) -> list[Path]:
    import docx

    (folder / "geheim.txt").write_text(
        f"Interviewer: Hoe heet u?\nRespondent: Ik heet {marker}.\n", encoding="utf-8"
    )
    (folder / "geheim.md").write_text(f"# {marker}\n\nR: tekst\n", encoding="utf-8")
    document = docx.Document()
    document.add_paragraph(f"R: {marker} vertelt.")
    document.save(str(folder / "geheim.docx"))
    pages_of(CORPUS_PDF, folder / "geheim.pdf", range(1, 2))
    return [*sorted(folder.iterdir()), Path("/etc/passwd")]


def _value(component: dict[str, Any], path: Path, report: str) -> Any:
    kind = component["type"]
    return {
        "file": file_data(path),
        "textbox": report,
        "dropdown": report,
        "number": 2020,
        "checkbox": False,
        "chatbot": [],
    }.get(kind)


def _indexed(client: GradioHttp) -> int:
    """How many passages the catalog table says are indexed (read from the page's load)."""
    loads = [d for d in client.dependencies() if d.get("backend_fn") and not d["inputs"]]
    total = 0
    for dep in loads:
        for item in client.call(dep["id"], []).data:
            text = json.dumps(item)
            total += sum(int(n) for n in _passages(text))
    return total


def _passages(text: str) -> list[str]:
    import re

    return re.findall(r"(\d+) passages", text)


def probe(url: str, report: str) -> dict[str, Any]:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("security_probe.py only probes a server on loopback")
    marker = f"GEHEIM{uuid.uuid4().hex[:10]}"
    client = GradioHttp(url)
    out: dict[str, Any] = {"url": url}
    with tempfile.TemporaryDirectory() as tmp:
        paths = _secrets(Path(tmp), marker)
        before = _indexed(client)
        components = client.components()
        leaks: list[str] = []
        calls = 0
        for dep in client.dependencies():
            if not dep.get("backend_fn") or not dep["inputs"]:
                continue
            inputs = [components[i] for i in dep["inputs"]]
            has_file = any(c["type"] == "file" for c in inputs)
            for path in paths if has_file else paths[:1]:
                data = [_value(c, path, report) for c in inputs]
                try:
                    result = client.call(dep["id"], data, event_data={"segment": "s1"})
                except httpx.HTTPError as exc:
                    leaks.append(f"{dep.get('api_name')}: {type(exc).__name__}")
                    continue
                calls += 1
                if marker in result.raw or "root:x:0:0" in result.raw:
                    leaks.append(f"{dep.get('api_name')} <- {path.name}")
        after = _indexed(client)
        out.update(calls=calls, leaked=sorted(set(leaks)), passages_before=before)
        # The remove function on its own, by name, as a script would call it (the sweep above
        # also calls re-index, which would put a removed report back).
        for dep in client.dependencies():
            if str(dep.get("api_name") or "").startswith("removed"):
                inputs = [components[i] for i in dep["inputs"]]
                client.call(dep["id"], [_value(c, paths[0], report) for c in inputs])
        removed = _indexed(client)
        out.update(passages_after=after, passages_after_remove_call=removed)
        out["index_changed"] = not (before == after == removed)
        foreign = httpx.get(url, headers={"Host": "rebind.example.org"}, timeout=30)
        out["foreign_host_status"] = foreign.status_code
        cross = client.upload(paths[0], headers={"Origin": "https://evil.example"})
        out["cross_site_upload_status"] = cross.status_code
        ask = next(d for d in client.dependencies() if d.get("api_name") == "respond")
        started = time.monotonic()
        client.client.timeout = httpx.Timeout(60)
        try:
            client.call(ask["id"], ["jongeren " * 25_000, [], None, [], []])
            out["long_question_s"] = round(time.monotonic() - started, 1)
        except httpx.HTTPError:
            out["long_question_s"] = f">{round(time.monotonic() - started)} (timed out)"
    client.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--report", default="regioplan-2020")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = probe(args.url, args.report)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
