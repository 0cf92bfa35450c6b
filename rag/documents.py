"""The cleaned text of every ingested document, kept beside the index.

Answers are verified against it (a quote must occur on its cited page) and the UI shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

from ingest.models import Document, Section


class DocumentStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        # Parsed documents by report id, with the file's mtime and size when read: every
        # answer reads its documents more than once, and another process may re-ingest.
        self._cache: dict[str, tuple[tuple[int, int], Document]] = {}

    def _path(self, report_id: str) -> Path:
        return self.folder / f"{report_id}.json"

    def save(self, doc: Document) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {
            "report_id": doc.report_id,
            "source_path": doc.source_path,
            "content_hash": doc.content_hash,
            "text": doc.text,
            "page_starts": list(doc.page_starts),
            "sections": [[list(s.path), s.char_start, s.char_end] for s in doc.sections],
            "blocks": [list(b) for b in doc.blocks],
        }
        tmp = self._path(doc.report_id).with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self._path(doc.report_id))

    def load(self, report_id: str) -> Document | None:
        path = self._path(report_id)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            cached = self._cache.get(report_id)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        doc = Document(
            report_id=data["report_id"],
            source_path=data["source_path"],
            content_hash=data["content_hash"],
            text=data["text"],
            page_starts=tuple(data["page_starts"]),
            sections=tuple(Section(tuple(p), s, e) for p, s, e in data["sections"]),
            blocks=tuple((s, e) for s, e in data["blocks"]),
        )
        self._cache[report_id] = (stamp, doc)
        return doc

    def delete(self, report_id: str) -> None:
        self._cache.pop(report_id, None)
        self._path(report_id).unlink(missing_ok=True)

    def ids(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.stem for p in self.folder.glob("*.json"))
