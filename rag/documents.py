"""The cleaned text of every ingested document, kept beside the index.

Answers are verified against it (a quote must occur on its cited page) and the UI shows it.
The files under ``WATWERKT_HOME`` are a local copy: the index keeps each committed document
in Chroma too (its manifest), and rewrites a missing or outdated file from there, so a
client of a shared server needs nothing but the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ingest.models import Document, Section


class DocumentStore:
    def __init__(self, folder: Path, before_first_read: Callable[[], object] | None = None) -> None:
        self.folder = folder
        # The index brings the local copies up to date with Chroma before they are first read.
        self._before_first_read = before_first_read
        # Parsed documents by report id, with the file's mtime and size when read: every
        # answer reads its documents more than once, and another process may re-ingest.
        self._cache: dict[str, tuple[tuple[int, int], Document]] = {}

    def _path(self, report_id: str) -> Path:
        return self.folder / f"{report_id}.json"

    def save(self, doc: Document) -> None:
        self.save_json(doc.report_id, document_json(doc))

    def save_json(self, report_id: str, text: str) -> None:
        """Write one document as :func:`document_json` made it (atomically: temp file, rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self._path(report_id).with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self._path(report_id))

    def _first_read(self) -> None:
        hook, self._before_first_read = self._before_first_read, None
        if hook is not None:
            hook()

    def load(self, report_id: str) -> Document | None:
        self._first_read()
        path = self._path(report_id)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(report_id)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            doc = document_from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._cache[report_id] = (stamp, doc)
        return doc

    def delete(self, report_id: str) -> None:
        self._cache.pop(report_id, None)
        self._path(report_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))


def document_json(doc: Document) -> str:
    """A document as one JSON string (the local file, and the copy kept in Chroma)."""
    data = {
        "report_id": doc.report_id,
        "source_path": doc.source_path,
        "content_hash": doc.content_hash,
        "text": doc.text,
        "page_starts": list(doc.page_starts),
        "sections": [[list(s.path), s.char_start, s.char_end] for s in doc.sections],
        "blocks": [list(b) for b in doc.blocks],
    }
    return json.dumps(data, ensure_ascii=False)


def document_from_json(text: str) -> Document:
    data = json.loads(text)
    return Document(
        report_id=data["report_id"],
        source_path=data["source_path"],
        content_hash=data["content_hash"],
        text=data["text"],
        page_starts=tuple(data["page_starts"]),
        sections=tuple(Section(tuple(p), s, e) for p, s, e in data["sections"]),
        blocks=tuple((s, e) for s, e in data["blocks"]),
    )
