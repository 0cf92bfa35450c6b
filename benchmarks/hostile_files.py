"""Hostile and odd files at their real sizes, through the real command: outcome, time, peak RSS.

The cases of issue 12 (item 4), built in a temporary folder: one batch of 27 files for
`watwerkt ingest` (AES PDFs, a .docx whose XML inflates to 180 MB, a 200 MB .txt, a 5 MB
single-line .txt, binary data named .txt, a transcript, captions, a symlink to /etc/passwd and
19 small real reports), `watwerkt code` on a 5 MB single-line transcript, on binary data and on
captions with malformed timestamps, a bad --report-id, and the chunking of the largest report
text allowed (2,000,000 characters on one line) in-process. Each command runs in a fresh
process; peak RSS comes from wait4.

Run: .venv/bin/python benchmarks/hostile_files.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pypdf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pdf_factory import text_pdf  # noqa: E402

WORDS = ["jongeren", "werk", "coaching", "begeleiding", "werkgevers", "alliantie", "school"]
WORDS += ["stage", "gemeente", "uwv", "opleiding", "traject", "resultaat", "aanpak", "regio"]
REPORT = (
    "Evaluatie.\n\n" + "Coaching helpt jongeren om werk te vinden. Werkgevers helpen mee. " * 15
)


def run(args: list[str], env: dict[str, str]) -> dict[str, object]:
    """Exit code, wall seconds, the child's peak RSS (wait4) and its output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=err, cwd=REPO)
        assert proc.stdout is not None
        out_b = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        err_b = err.read()
    return {
        "rc": os.waitstatus_to_exitcode(status),
        "seconds": round(time.perf_counter() - started, 1),
        "peak_mb": usage.ru_maxrss // 1024,
        "stdout": out_b.decode("utf-8", "replace"),
        "stderr": err_b.decode("utf-8", "replace"),
    }


def inflating_docx(path: Path, megabytes: int) -> None:
    """A valid .docx (python-docx's template) whose document.xml is ``megabytes`` of text."""
    import docx

    template = path.with_suffix(".template.docx")
    docx.Document().save(str(template))
    rng = random.Random(3)
    paragraph = " ".join(rng.choice(WORDS) for _ in range(3000))
    block = f"<w:p><w:r><w:t>{paragraph}</w:t></w:r></w:p>".encode() * 40
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                zf.writestr(info, src.read(info))
        with zf.open("word/document.xml", "w") as fh:
            fh.write(b"<?xml version='1.0' encoding='UTF-8'?><w:document " + ns + b"><w:body>")
            for _ in range(megabytes * 1024 * 1024 // len(block)):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    template.unlink()


def aes_pdf(path: Path, algorithm: str, user_password: str) -> None:
    source = text_pdf(path.with_suffix(".src"), ["Coaching helpt jongeren aan werk."] * 4)
    writer = pypdf.PdfWriter(clone_from=str(source))
    writer.encrypt(user_password=user_password, owner_password="eigenaar", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)
    source.unlink()


def build_batch(folder: Path) -> None:
    folder.mkdir()
    aes_pdf(folder / "aes256-wachtwoord.pdf", "AES-256", "geheim")
    aes_pdf(folder / "aes128-eigenaar.pdf", "AES-128", "")
    aes_pdf(folder / "aes256-eigenaar.pdf", "AES-256", "")
    inflating_docx(folder / "opgeblazen.docx", 180)
    with (folder / "enorm.txt").open("w", encoding="utf-8") as fh:
        for _ in range(200 * 1024 * 1024 // len(REPORT)):
            fh.write(REPORT)
    (folder / "een-regel.txt").write_text("woord " * (5 * 1024 * 1024 // 6), encoding="utf-8")
    (folder / "binair.txt").write_bytes(random.Random(1).randbytes(1 << 20).replace(b"\0", b"1"))
    (folder / "interview.txt").write_text(
        "Interviewer: Hoe gaat het?\nR: Goed, ik werk nu.\n" * 20, encoding="utf-8"
    )
    (folder / "ondertitels.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhallo\n", encoding="utf-8"
    )
    (folder / "wachtwoorden.txt").symlink_to("/etc/passwd")
    for i in range(17):
        (folder / f"rapport-{i:02d}.txt").write_text(
            REPORT.replace("Evaluatie", f"Evaluatie {i}"), encoding="utf-8"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="watwerkt-hostile-"))
    env = {**os.environ, "WATWERKT_HOME": str(work / "home")}
    cli = [sys.executable, "-m", "ui.cli"]
    rows: list[dict[str, object]] = []

    batch = work / "batch"
    build_batch(batch)
    r = run([*cli, "ingest", str(batch), "--json", "-q"], env)
    data = json.loads(r["stdout"])
    done = [f for f in data["files"] if f["status"] != "failed"]
    rows.append(
        {
            "case": f"ingest: batch of {len(data['files'])} files",
            "outcome": f"{len(done)} indexed, {len(data['failed'])} refused; one JSON object",
            **{k: r[k] for k in ("rc", "seconds", "peak_mb")},
        }
    )
    for f in data["failed"]:
        rows.append({"case": f"  {Path(f['path']).name}", "outcome": f["reason"]})

    transcript = work / "een-regel-interview.txt"
    transcript.write_text("R: " + "ja dus eh " * (5 * 1024 * 1024 // 10), encoding="utf-8")
    binary = batch / "binair.txt"
    vtt = work / "kapot.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nInterviewer: Hoe ging het op school?\n\n"
        "00:00:0x.000 --> 00:00:07.000\nJan: Niet zo goed.\n\n1:2:3 -> 4:5:6\nIk ben gestopt.\n",
        encoding="utf-8",
    )
    for name, argv in [
        ("code: 5 MB single-line transcript", ["code", str(transcript), "--json", "-q"]),
        ("code: binary data named .txt", ["code", str(binary), "--json", "-q"]),
        ("ingest: --report-id ../../x", ["ingest", str(batch), "--report-id", "../../x"]),
    ]:
        r = run([*cli, *argv], env)
        errors = [x for x in str(r["stderr"]).splitlines() if x.startswith("watwerkt: error:")]
        rows.append(
            {
                "case": name,
                "outcome": errors[-1] if errors else str(r["stderr"])[-200:],
                **{k: r[k] for k in ("rc", "seconds", "peak_mb")},
            }
        )
    code = "from coding.transcripts import load_transcript; import sys; "
    code += "print(sorted({t.speaker for t in load_transcript(sys.argv[1]).turns}))"
    r = run([sys.executable, "-c", code, str(vtt)], env)
    rows.append(
        {
            "case": "code: .vtt with malformed timestamps",
            "outcome": f"speakers {str(r['stdout']).strip()}",
            **{k: r[k] for k in ("rc", "seconds", "peak_mb")},
        }
    )
    near = work / "net-onder-de-grens.docx"
    inflating_docx(near, 24)
    code = "from ingest.readers import read_file; from ingest.errors import IngestError; "
    code += "import sys\ntry: read_file(sys.argv[1])\nexcept IngestError as e: print(e.reason)"
    r = run([sys.executable, "-c", code, str(near)], env)
    rows.append(
        {
            "case": f"read a .docx under the XML bound (24 MB XML, {near.stat().st_size >> 10} kB)",
            "outcome": str(r["stdout"]).strip() or str(r["stderr"])[-200:],
            **{k: r[k] for k in ("rc", "seconds", "peak_mb")},
        }
    )
    longest = work / "langste.txt"
    longest.write_text("woord " * (1_999_000 // 6), encoding="utf-8")
    code = "from ingest.document import load_document; from ingest.chunk import chunk_document; "
    code += "import sys; print(len(chunk_document(load_document(sys.argv[1]))), 'chunks')"
    r = run([sys.executable, "-c", code, str(longest)], env)
    rows.append(
        {
            "case": "chunk the largest report allowed (2,000,000 chars, one line)",
            "outcome": str(r["stdout"]).strip() or str(r["stderr"])[-200:],
            **{k: r[k] for k in ("rc", "seconds", "peak_mb")},
        }
    )
    if args.json:
        print(json.dumps({"rows": rows}, ensure_ascii=False))
    else:
        print("| case | outcome | rc | s | peak MB |\n|---|---|---|---|---|")
        for row in rows:
            cells = [row["case"], row["outcome"], row.get("rc", ""), row.get("seconds", "")]
            print("| " + " | ".join(map(str, [*cells, row.get("peak_mb", "")])) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
