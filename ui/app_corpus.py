"""Tab "Corpus": the catalog with its state, PDF upload with progress, remove and re-index."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.document import slug

from .app_common import esc, index_lock, pdf_href, report_pdf, uploads_dir
from .guard import check_pdf
from .wiring import App, Overrides

NEW_REPORT = "nieuw"
Progress = Callable[[float, str], None]
STATES = {
    "indexed": "geïndexeerd",
    "present": "aanwezig, niet geïndexeerd",
    "missing": "ontbreekt",
    "extra": "geïndexeerd (niet in catalogus)",
}


@dataclass(frozen=True, slots=True)
class CatalogRow:
    report_id: str
    authors: tuple[str, ...]
    year: int | None
    title: str
    state: str  # a key of STATES
    chunks: int
    has_pdf: bool


def _present(app: App, file: str | None) -> bool:
    if not file:
        return False
    return (app.settings.corpus_dir / file).is_file() or (uploads_dir(app) / file).is_file()


def catalog_rows(app: App) -> list[CatalogRow]:
    """Every catalog report (indexed, present or missing) and any indexed report beyond it."""
    indexed = {r.report_id: r for r in app.index.reports()}
    rows = []
    for entry in app.catalog().reports:
        idx = indexed.pop(entry.id, None)
        state = "indexed" if idx else ("present" if _present(app, entry.file) else "missing")
        rows.append(
            CatalogRow(
                entry.id,
                tuple(entry.authors),
                entry.year,
                entry.title,
                state,
                idx.chunks if idx else 0,
                bool(idx) and report_pdf(app, entry.id) is not None,
            )
        )
    for idx in indexed.values():
        rows.append(
            CatalogRow(
                idx.report_id,
                (),
                idx.year,
                idx.title,
                "extra",
                idx.chunks,
                report_pdf(app, idx.report_id) is not None,
            )
        )
    return rows


def catalog_html(app: App) -> str:
    body = []
    for r in catalog_rows(app):
        pdf = (
            f'<a href="{esc(pdf_href(r.report_id))}" target="_blank" rel="noopener">PDF</a>'
            if r.has_pdf
            else ""
        )
        chunks = f"{r.chunks} passages" if r.chunks else "–"
        body.append(
            f'<tr id="rapport-{esc(r.report_id)}" data-state="{r.state}">'
            f'<td><span class="ww-state-badge state-{r.state}">{STATES[r.state]}</span></td>'
            f"<td>{esc(', '.join(r.authors) or '–')} ({r.year or 'z.j.'})</td>"
            f"<td>{esc(r.title)}<br><code>{esc(r.report_id)}</code></td>"
            f"<td>{chunks}</td><td>{pdf}</td></tr>"
        )
    return (
        '<table class="ww-catalog"><thead><tr><th>Status</th><th>Auteurs (jaar)</th>'
        "<th>Titel</th><th>Index</th><th></th></tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def missing_choices(app: App) -> list[tuple[str, str]]:
    """Catalog reports without a file, to complete with an upload; and "a new report"."""
    out = [("Een nieuw rapport (vul hieronder titel, jaar en auteurs in)", NEW_REPORT)]
    for r in catalog_rows(app):
        if r.state == "missing":
            who = ", ".join(r.authors) or "?"
            title = r.title if len(r.title) <= 70 else r.title[:67].rsplit(" ", 1)[0] + " …"
            out.append((f"{who} ({r.year or 'z.j.'}): {title}", r.report_id))
    return out


def indexed_choices(app: App) -> list[tuple[str, str]]:
    """Reports to re-index or remove: the indexed ones and those whose file is present."""
    out = []
    for r in catalog_rows(app):
        if r.state in ("indexed", "extra"):
            out.append((f"{r.report_id} ({r.chunks} passages)", r.report_id))
        elif r.state == "present":
            out.append((f"{r.report_id} (niet geïndexeerd)", r.report_id))
    return out


def _source(app: App, report_id: str) -> Path | None:
    """The file to (re-)index: the indexed PDF, the stored source, or the catalog's file."""
    found = report_pdf(app, report_id)
    if found is not None:
        return found
    doc = app.index.documents.load(report_id)
    entry = app.catalog().get(report_id)
    candidates = [Path(doc.source_path)] if doc else []
    if entry is not None and entry.file:
        candidates += [app.settings.corpus_dir / entry.file, uploads_dir(app) / entry.file]
    return next((c for c in candidates if c.is_file()), None)


def _authors(text: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in re.split(r"[;,]", text or "") if a.strip())


def add_pdf(
    app: App,
    path: str | Path | None,
    report_id: str | None = None,
    title: str | None = None,
    year: int | float | str | None = None,
    authors: str | None = None,
    progress: Progress | None = None,
) -> str:
    """Check an uploaded PDF, keep it under WATWERKT_HOME/uploads and index it. Returns a
    Dutch status line (Markdown); a refused upload raises ``UploadError``."""
    if not path:
        return "Kies eerst een PDF-bestand."
    source = check_pdf(path)
    chosen = None if report_id in (None, "", NEW_REPORT) else report_id
    rid = chosen or slug(title or source.stem)[:80].strip("-")
    rid = rid if len(rid) >= 2 else f"rapport-{rid}"
    year_value = int(year) if year not in (None, "") and str(year).strip() != "0" else None
    overrides = Overrides(rid, title or None, year_value, _authors(authors))
    if chosen is None and not title:
        overrides = Overrides(rid, source.stem, year_value, _authors(authors))
    target = uploads_dir(app) / f"{rid}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(0.05, "PDF opslaan…")
    shutil.copyfile(source, target)
    if progress:
        progress(0.1, "Tekst lezen, opschonen en indexeren…")
    with index_lock(app).write():
        outcome = app.ingest([target], overrides=overrides)[0]
    if progress:
        progress(1.0, "Klaar")
    if outcome.status == "failed":
        target.unlink(missing_ok=True)
        return f"⚠️ **{esc(source.name)}** kon niet worden geïndexeerd: {esc(outcome.reason)}"
    if outcome.status == "unchanged":
        return f"**{esc(source.name)}** stond al in de index ({esc(outcome.reason or rid)})."
    return (
        f"✅ **{esc(source.name)}** toegevoegd als `{esc(outcome.report_id)}`: "
        f"{outcome.chunks} passages in {outcome.seconds:.0f} s."
    )


def remove_report(app: App, report_id: str | None) -> str:
    if not report_id:
        return "Kies eerst een rapport."
    with index_lock(app).write():
        n = app.index.remove(report_id)
    if n == 0:
        return f"`{esc(report_id)}` stond niet in de index."
    return f"🗑️ `{esc(report_id)}` verwijderd uit de index ({n} passages). Het bestand blijft staan."


def reindex_report(app: App, report_id: str | None, progress: Progress | None = None) -> str:
    """Read, clean and index a report's file again (after a change in the cleaning rules), or
    index a catalog report whose file is present but not indexed."""
    if not report_id:
        return "Kies eerst een rapport."
    source = _source(app, report_id)
    if source is None:
        return f"⚠️ Het bestand van `{esc(report_id)}` is niet gevonden; upload het opnieuw."
    entry = app.catalog().get(report_id)
    overrides = Overrides(report_id) if entry is None or entry.file != source.name else None
    if progress:
        progress(0.1, "Opnieuw indexeren…")
    with index_lock(app).write():
        outcome = app.ingest([source], overrides=overrides, force=True)[0]
    if progress:
        progress(1.0, "Klaar")
    if outcome.status == "failed":
        return f"⚠️ `{esc(report_id)}` kon niet opnieuw worden geïndexeerd: {esc(outcome.reason)}"
    return f"🔄 `{esc(report_id)}` geïndexeerd: {outcome.chunks} passages."
