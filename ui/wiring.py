"""Wires settings, catalog, index and retriever together. Only ``ui`` does this."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.catalog import Catalog, ReportEntry, load_catalog, save_catalog
from ingest.chunk import ChunkSettings
from ingest.document import slug
from ingest.files import find_files
from rag.embed import make_embedder
from rag.index import Index
from rag.models import IngestOutcome, ReportMeta
from rag.retrieve import Retriever

from .settings import Settings

log = logging.getLogger(__name__)


def user_catalog_path(settings: Settings) -> Path:
    return settings.home / "catalog.yaml"


def load_catalogs(settings: Settings) -> Catalog:
    """The bundled catalog, with the user's entries (in WATWERKT_HOME) added or overriding."""
    bundled = load_catalog(settings.catalog)
    path = user_catalog_path(settings)
    if not path.exists():
        return bundled
    user = load_catalog(path)
    merged = {r.id: r for r in bundled.reports}
    merged.update({r.id: r for r in user.reports})
    return Catalog(reports=list(merged.values()))


def remember_report(settings: Settings, entry: ReportEntry) -> None:
    """Add or replace an entry in the user's catalog."""
    path = user_catalog_path(settings)
    reports = load_catalog(path).reports if path.exists() else []
    reports = [r for r in reports if r.id != entry.id] + [entry]
    path.parent.mkdir(parents=True, exist_ok=True)
    save_catalog(Catalog(reports=reports), path)


def _year_from_name(name: str) -> int | None:
    match = re.search(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)", name)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Overrides:
    """What a user passes on the command line for a single new report."""

    report_id: str | None = None
    title: str | None = None
    year: int | None = None
    authors: tuple[str, ...] = ()

    def any(self) -> bool:
        return bool(self.report_id or self.title or self.year or self.authors)


def make_resolver(settings: Settings, catalog: Catalog, overrides: Overrides | None = None):
    """A function (path, digest) -> ReportMeta, from the catalog, overrides or the file name."""

    def resolve(path: Path, digest: str) -> ReportMeta:
        entry = catalog.by_file(path.name)
        if overrides and overrides.any():
            base = entry or (catalog.get(overrides.report_id) if overrides.report_id else None)
            report_id = overrides.report_id or (base.id if base else slug(path.stem))
            entry = ReportEntry(
                id=report_id,
                title=overrides.title or (base.title if base else path.stem),
                year=overrides.year or (base.year if base else _year_from_name(path.name)),
                authors=list(overrides.authors or (base.authors if base else [])),
                alliances=list(base.alliances) if base else [],
                publisher=base.publisher if base else None,
                file=path.name,
            )
            remember_report(settings, entry)
        if entry is None:
            return ReportMeta(slug(path.stem)[:80], path.stem, _year_from_name(path.name), ())
        return ReportMeta(entry.id, entry.title, entry.year, tuple(entry.authors))

    return resolve


class App:
    """The library functions a command or the web app needs, built once per process."""

    def __init__(self, settings: Settings, show_progress: bool = True) -> None:
        self.settings = settings
        self.index = Index(
            settings.home,
            make_embedder(settings.embedder),
            ChunkSettings(
                settings.chunk_min_words, settings.chunk_max_words, settings.chunk_overlap_sentences
            ),
            chroma_url=settings.chroma_url,
            show_progress=show_progress,
            lock_timeout=settings.lock_timeout,
            embed_cache=settings.embed_cache_path(),
            chunk_vectors=settings.chunk_vectors,
            shipped_vectors=settings.shipped_vectors,
        )
        self.retriever = Retriever(self.index)

    def catalog(self) -> Catalog:
        return load_catalogs(self.settings)

    def ingest(
        self,
        paths: list[Path] | None = None,
        overrides: Overrides | None = None,
        force: bool = False,
    ) -> list[IngestOutcome]:
        found = find_files(paths or [self.settings.corpus_dir])  # links out of a folder refused
        resolver = make_resolver(self.settings, self.catalog(), overrides)
        read = [f.path for f in found if not f.refused]
        done = iter(self.index.ingest(read, resolver, force=force))
        return [
            IngestOutcome(str(f.path), None, "failed", reason=f.refused)
            if f.refused
            else next(done)
            for f in found
        ] + list(done)

    def ask(
        self,
        question: str,
        llm: str | None = None,
        reports: list[str] | None = None,
        years: list[int] | None = None,
    ):
        """Answer a question with verified citations (extractive unless an LLM is set)."""
        from rag.answer import AnswerSettings
        from rag.ask import ask

        return ask(
            question,
            self.retriever,
            self.index.documents,
            answerer=make_answerer(llm if llm is not None else self.settings.llm),
            settings=AnswerSettings(
                reader=self.settings.reader, reader_threshold=self.settings.reader_threshold
            ),
            reports=reports,
            years=years,
        )

    def ensure_index(self) -> list[IngestOutcome]:
        """Build the index from the bundled corpus when it is empty (first search or ask)."""
        if self.index.count() > 0:
            return []
        log.warning("no index yet: building it from the bundled corpus (about half a minute)")
        return self.ingest()


def make_answerer(spec: str | None):
    """The LLM answerer for ``--llm`` (or settings.llm), or None for the extractive one."""
    if not spec:
        return None
    from rag.llm import LLMAnswerer, make_chat_model

    return LLMAnswerer(make_chat_model(spec), name=f"llm:{spec}")


def report_search_for(app: App):
    """The most similar report passage for a segment, as coding evidence."""
    from coding.models import Evidence

    def search(text: str) -> Evidence | None:
        hits = app.retriever.search(text, k=1)
        if not hits:
            return None
        p = hits[0]
        where = f"{p.attribution}, § {p.section_label}, p. {p.page_start}"
        snippet = " ".join(p.text.split())
        return Evidence("report", snippet[:300], where, round(p.score, 4))

    return search
