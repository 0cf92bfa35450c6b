"""What the tabs of the web app share: HTML helpers, report names, PDF lookup, the index lock."""

from __future__ import annotations

import html
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from ingest.document import file_hash

from .security import ConfirmTokens
from .wiring import App

PDF_ROUTE = "/watwerkt/pdf"


class ReadWriteLock:
    """Many readers or one writer."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


_locks: weakref.WeakKeyDictionary[App, ReadWriteLock] = weakref.WeakKeyDictionary()
_tokens: weakref.WeakKeyDictionary[App, ConfirmTokens] = weakref.WeakKeyDictionary()
_guard = threading.Lock()
_hashes: dict[tuple[str, int, int], str] = {}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def index_lock(app: App) -> ReadWriteLock:
    """One lock per App: questions and coding read the index together; ingest and remove
    change it alone."""
    with _guard:
        lock = _locks.get(app)
        if lock is None:
            lock = _locks[app] = ReadWriteLock()
        return lock


def confirm_tokens(app: App) -> ConfirmTokens:
    """One token book per App: what the page must pass back to change the index or a coding."""
    with _guard:
        tokens = _tokens.get(app)
        if tokens is None:
            tokens = _tokens[app] = ConfirmTokens()
        return tokens


def ready(app: App) -> None:
    """Build the index from the bundled corpus if it is empty (under the write lock)."""
    if app.index.count() == 0:
        with index_lock(app).write():
            app.ensure_index()


def uploads_dir(app: App) -> Path:
    """Where PDFs uploaded through the app are kept (they must outlive the upload)."""
    return app.settings.home / "uploads"


def attribution(app: App, report_id: str, fallback: str = "") -> str:
    """ "Regioplan (2020)" from the catalog, else the given fallback or the id."""
    entry = app.catalog().get(report_id)
    if entry is None:
        return fallback or report_id
    who = " & ".join(entry.authors) if entry.authors else entry.title
    return f"{who} ({entry.year or 'z.j.'})"


def _cached_hash(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _hashes:
        _hashes[key] = file_hash(path)
    return _hashes[key]


def report_pdf(app: App, report_id: str) -> Path | None:
    """The PDF of an ingested report, only if it is exactly the file that was indexed and it
    lies in the corpus folder or the app's uploads: the app serves files from nowhere else."""
    indexed = next((r for r in app.index.reports() if r.report_id == report_id), None)
    if indexed is None:
        return None
    candidates: list[Path] = []
    doc = app.index.documents.load(report_id)
    if doc is not None:
        candidates.append(Path(doc.source_path))
    if indexed.source:
        name = Path(indexed.source).name
        candidates += [app.settings.corpus_dir / name, uploads_dir(app) / name]
    roots = [app.settings.corpus_dir.resolve(), uploads_dir(app).resolve()]
    for path in candidates:
        try:
            resolved = path.resolve()
            if (
                resolved.parent in roots
                and resolved.suffix.lower() == ".pdf"
                and resolved.is_file()
                and _cached_hash(resolved) == indexed.content_hash
            ):
                return resolved
        except OSError:
            continue
    return None


def pdf_href(report_id: str, page: int | None = None) -> str:
    """The app's link to a report PDF, opened at ``page`` by the browser's PDF viewer."""
    anchor = f"#page={page}" if page else ""
    return f"{PDF_ROUTE}/{quote(report_id)}{anchor}"
