"""The hybrid index: Chroma (dense vectors) and BM25, kept consistent, incremental by content hash.

Chroma holds every chunk with its full provenance; it is the source of truth. Three
collections: chunks, their sentences (``-s``) and a manifest (``-m``) with one record per
report: its content hash, counts and cleaned document. The manifest record is written last
and removed first, so it is the commit marker: readers see only the chunks of reports it
lists, an ingest killed at any moment leaves nothing half searchable, and the next ingest
(under the home's write lock, :mod:`rag.lock`) rewrites or removes what was left behind.
The BM25 index and the local :class:`DocumentStore` are derived from Chroma (the BM25 file
is stamped with the set of chunk ids it covers), so a shared server is all a client needs.

Test hook: ``WATWERKT_TEST_CRASH_AT=<stage>`` (one of :data:`CRASH_STAGES`) makes an ingest
kill itself with SIGKILL at that stage, as ``kill -9`` would; tests/test_crash_safety.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ingest.chunk import ChunkSettings, chunk_document
from ingest.document import file_hash, load_document
from ingest.errors import IngestError
from ingest.files import find_files
from ingest.models import Chunk, Document

from .bm25 import BM25Index, TermStats
from .chroma import GuardedCollection, open_client, open_collection, read_all
from .documents import DocumentStore, document_json
from .embed import Embedder
from .embed_cache import EMBED_BATCH as EMBED_BATCH  # re-exported for benchmarks
from .embed_cache import EmbeddingCache, chunk_and_sentence_vectors
from .errors import RagError
from .lock import is_locked, write_lock
from .models import IndexedReport, IngestOutcome, ReportMeta

log = logging.getLogger(__name__)

# Bump when clean-up or chunk boundaries change, so an old index is never mixed with a new one.
PIPELINE_VERSION = "4"
BM25_VERSION = "bm25-2"  # bump when what BM25 indexes changes: the stamp forces a rebuild

MetaResolver = Callable[[Path, str], ReportMeta]

# The moments of writing one report, in order (see Index._write).
CRASH_STAGES = (
    "embedded",
    "uncommitted",
    "deleted",
    "chunks",
    "sentences",
    "document",
    "committed",
)
CRASH_ENV = "WATWERKT_TEST_CRASH_AT"
# How a chunk's vector is made: "encoded" (its own text embedded) or "pooled" (the
# length-weighted mean of its sentences' vectors, so only the sentences are embedded: about
# half the tokens of a first ingest, at some rank quality; benchmarks/first_ingest.py).
CHUNK_VECTORS = ("encoded", "pooled")


def crash_point(stage: str) -> None:
    """Test hook: SIGKILL this process at ``stage`` when WATWERKT_TEST_CRASH_AT names it."""
    if os.environ.get(CRASH_ENV) == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def fingerprint(embedder_name: str, chunking: ChunkSettings) -> str:
    raw = f"{embedder_name}|{chunking.fingerprint()}|v{PIPELINE_VERSION}"
    return hashlib.sha1(raw.encode()).hexdigest()[:10]


def collection_name(embedder_name: str, chunking: ChunkSettings) -> str:
    safe = "".join(ch if ch.isalnum() else "-" for ch in embedder_name.lower())[:24].strip("-")
    return f"watwerkt-{safe}-{fingerprint(embedder_name, chunking)}"


def bm25_text(chunk_text: str, section: str) -> str:
    """What BM25 indexes for a chunk: the innermost heading of its section, then its text."""
    head = section.rsplit(" > ", 1)[-1] if section else ""
    return f"{head}\n{chunk_text}" if head and head not in chunk_text else chunk_text


def chunk_sentence_spans(chunks: Sequence[Chunk]) -> list[list[tuple[int, int]]]:
    """Each chunk's sentence spans (spaCy), computed once at ingest and stored with the chunk
    (``sentence_spans`` in its metadata), so that ``ask`` reads them instead of loading spaCy."""
    from ingest.nlp import block_sentence_spans

    return [block_sentence_spans(chunk.text) for chunk in chunks]


def encode_spans(spans: Sequence[tuple[int, int]]) -> str:
    """Sentence spans as Chroma metadata: "0:120 121:240"."""
    return " ".join(f"{s}:{e}" for s, e in spans)


def decode_spans(value: object) -> tuple[tuple[int, int], ...] | None:
    """The spans :func:`encode_spans` wrote, or None where the metadata holds none (an index
    written before they were stored) or holds something else."""
    if not isinstance(value, str):
        return None
    try:
        pairs = [tuple(int(n) for n in part.split(":")) for part in value.split()]
    except ValueError:
        return None
    if any(len(p) != 2 or p[0] >= p[1] for p in pairs):
        return None
    return tuple((p[0], p[1]) for p in pairs)


def sentence_units(
    chunks: Sequence[Chunk], spans: Sequence[Sequence[tuple[int, int]]] | None = None
) -> list[tuple[str, str, int]]:
    """(sentence id, sentence text, chunk index) for every sentence of every chunk.

    Sentences are embedded too: a chunk's dense score combines its own similarity with that
    of its best sentence, which finds a fact stated in one sentence of a long passage.
    """
    if spans is None:
        spans = chunk_sentence_spans(chunks)
    units: list[tuple[str, str, int]] = []
    for ci, (chunk, chunk_spans) in enumerate(zip(chunks, spans, strict=True)):
        for si, (s, e) in enumerate(chunk_spans):
            if len(chunk.text[s:e].split()) >= 3:
                units.append((f"{chunk.chunk_id}#s{si}", chunk.text[s:e], ci))
    return units


def _progress(total: int, desc: str, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="text", file=sys.stderr, disable=not show, leave=False)


class Index:
    """Chroma + BM25 over the chunks of all ingested reports."""

    def __init__(
        self,
        home: Path,
        embedder: Embedder,
        chunking: ChunkSettings | None = None,
        chroma_url: str | None = None,
        show_progress: bool = True,
        lock_timeout: float = 600.0,
        embed_cache: Path | None = None,
        chunk_vectors: str = "encoded",
        shipped_vectors: bool = True,
    ) -> None:
        if chunk_vectors not in CHUNK_VECTORS:
            raise RagError(
                f"chunk vectors {chunk_vectors!r}: use one of {', '.join(CHUNK_VECTORS)}"
            )
        self.chunk_vectors = chunk_vectors
        self.shipped_vectors = shipped_vectors  # the package's vectors of the bundled reports
        self.home = Path(home)
        self.embedder = embedder
        self.chunking = chunking or ChunkSettings()
        self.chroma_url = chroma_url
        self.show_progress = show_progress
        self.lock_timeout = lock_timeout
        self.embed_cache = EmbeddingCache(embed_cache) if embed_cache else None
        self.name = collection_name(embedder.name, self.chunking)
        self.folder = self.home / "index" / self.name
        self.documents = DocumentStore(self.folder / "documents", before_first_read=self.records)
        self._client: Any = None
        self._collection: GuardedCollection | None = None
        self._sentences: GuardedCollection | None = None
        self._manifest: GuardedCollection | None = None
        self._bm25: BM25Index | None = None
        self._bm25_stamp: str | None = None
        self._records: dict[str, tuple[str, dict[str, Any]]] | None = None
        self._committed: dict[str, dict[str, Any]] = {}
        self._incomplete: set[str] = set()
        self._warned = False
        self._stats: tuple[str, TermStats] | None = None
        self._stamp_of: tuple[dict[str, tuple[str, dict[str, Any]]], str] | None = None

    # -- Chroma -----------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """Where Chroma lives, for messages."""
        return self.chroma_url or str(self.home / "index" / "chroma")

    def _open(self, name: str, **metadata: str) -> GuardedCollection:
        if self._client is None:
            self._client = open_client(self.chroma_url, self.home / "index" / "chroma")
        return open_collection(self._client, name, self.embedder, self.where, **metadata)

    @property
    def collection(self) -> GuardedCollection:
        """The chunk collection: text, provenance and vector of every chunk."""
        if self._collection is None:
            self._collection = self._open(self.name, chunking=self.chunking.fingerprint())
        return self._collection

    @property
    def sentences(self) -> GuardedCollection:
        """The sentence-vector collection beside the chunk collection."""
        if self._sentences is None:
            self._sentences = self._open(f"{self.name}-s")
        return self._sentences

    @property
    def manifest(self) -> GuardedCollection:
        """One record per committed report (id = report id): hash, counts, the document."""
        if self._manifest is None:
            self._manifest = self._open(f"{self.name}-m")
        return self._manifest

    def count(self) -> int:
        """Chunks of committed reports (what search sees)."""
        return len(self.records())

    # -- Ingest -------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[Path], resolve: MetaResolver, force: bool = False
    ) -> list[IngestOutcome]:
        """Ingest files (folders are searched for supported files). A bad file is reported,
        the rest go on. Unchanged files (same content hash) are skipped. What an interrupted
        ingest left behind is rewritten (when its file is among ``paths``) or removed."""
        files = expand_paths(paths)
        with write_lock(self.home, self.lock_timeout):
            left_behind = self.left_behind()
            outcomes = [self._ingest_one(p, resolve, force, left_behind) for p in files]
            written = {o.report_id for o in outcomes if o.status in ("added", "replaced")}
            for report_id in sorted(left_behind - written):
                log.warning(
                    "report %s was left incomplete by an interrupted ingest: removed it; "
                    "ingest its file again to add it",
                    report_id,
                )
                self._delete(report_id)
            if written or left_behind:
                self.refresh_bm25()
            else:
                self.bm25()  # rebuilds a BM25 file an interrupted ingest left stale
        return outcomes

    def left_behind(self) -> set[str]:
        """Reports with chunks, sentences or a local document but no valid commit marker
        (an ingest that holds the write lock sees only what a dead one left)."""
        self._records = None
        self.records()
        committed = sorted(self._committed)
        where = {"report_id": {"$nin": committed}} if committed else None
        stray = read_all(self.sentences, ["metadatas"], where)
        found = set(self._incomplete)
        found.update(str(m["report_id"]) for m in stray["metadatas"])
        return found

    def _ingest_one(
        self, path: Path, resolve: MetaResolver, force: bool, left_behind: set[str]
    ) -> IngestOutcome:
        started = time.perf_counter()
        try:
            digest = file_hash(path)
        except OSError as exc:
            return IngestOutcome(str(path), None, "failed", reason=f"cannot be read ({exc})")
        meta = resolve(path, digest)
        existing = self._committed.get(meta.report_id)
        if existing is not None and existing.get("content_hash") == digest and not force:
            return IngestOutcome(
                str(path), meta.report_id, "unchanged", chunks=int(existing.get("chunks", 0))
            )
        twin = next(
            (r for r, m in self._committed.items() if m.get("content_hash") == digest), None
        )
        if twin and twin != meta.report_id and not force:
            return IngestOutcome(
                str(path), twin, "unchanged", reason=f"same content as report {twin}"
            )
        try:
            doc = load_document(path, report_id=meta.report_id, content_hash=digest)
            chunks = chunk_document(doc, self.chunking)
        except IngestError as exc:
            return IngestOutcome(str(path), meta.report_id, "failed", reason=exc.reason)
        if not chunks:
            return IngestOutcome(
                str(path), meta.report_id, "failed", reason="no text to index after clean-up"
            )
        self._write(doc, chunks, meta)
        repaired = meta.report_id in left_behind
        return IngestOutcome(
            str(path),
            meta.report_id,
            "replaced" if existing else "added",
            chunks=len(chunks),
            seconds=time.perf_counter() - started,
            reason="repaired what an interrupted ingest left" if repaired else None,
        )

    def _vectors(
        self, chunks: list[Chunk], units: list[tuple[str, str, int]], report_id: str
    ) -> tuple[list[list[float]], list[list[float]]]:
        pooled = self.chunk_vectors == "pooled"
        own = len(set(range(len(chunks))) - {u[2] for u in units}) if pooled else len(chunks)
        total = own + len(units)  # texts to embed: the chunks' own texts and the sentences
        desc = f"embedding {report_id} ({len(chunks)} chunks and their sentences)"
        with _progress(total, desc, self.show_progress) as bar:
            chunk_vectors, sentence_vectors = chunk_and_sentence_vectors(
                self.embedder,
                [c.text for c in chunks],
                [(text, ci) for _, text, ci in units],
                self.embed_cache,
                pooled=pooled,
                shipped=self.shipped_vectors,
                progress=bar.update,
            )
        return chunk_vectors.tolist(), sentence_vectors.tolist()

    def _write(self, doc: Document, chunks: list[Chunk], meta: ReportMeta) -> None:
        """Replace one report: uncommit, delete, write chunks, sentences, document, commit."""
        spans = chunk_sentence_spans(chunks)
        units = sentence_units(chunks, spans)
        chunk_vectors, sentence_vectors = self._vectors(chunks, units, meta.report_id)
        rid = meta.report_id
        crash_point("embedded")
        self.manifest.delete(ids=[rid])
        self._records = None
        crash_point("uncommitted")
        self.collection.delete(where={"report_id": rid})
        self.sentences.delete(where={"report_id": rid})
        crash_point("deleted")
        year = meta.year if meta.year is not None else -1
        metadatas = [
            {
                "report_id": rid,
                "title": meta.title,
                "year": year,
                "authors": "; ".join(meta.authors),
                "section": " > ".join(c.section),
                "page_start": c.page_start,
                "page_end": c.page_end,
                "char_start": c.char_start,
                "char_end": c.char_end,
                "content_hash": doc.content_hash,
                "source": Path(doc.source_path).name,
                "sentence_spans": encode_spans(c_spans),
            }
            for c, c_spans in zip(chunks, spans, strict=True)
        ]
        step = 500
        for i in range(0, len(chunks), step):
            self.collection.upsert(
                ids=[c.chunk_id for c in chunks[i : i + step]],
                embeddings=chunk_vectors[i : i + step],
                documents=[c.text for c in chunks[i : i + step]],
                metadatas=metadatas[i : i + step],
            )
        crash_point("chunks")
        for i in range(0, len(units), step):
            part = units[i : i + step]
            self.sentences.upsert(
                ids=[u[0] for u in part],
                embeddings=sentence_vectors[i : i + step],
                metadatas=[
                    {"chunk_id": chunks[u[2]].chunk_id, "report_id": rid, "year": year}
                    for u in part
                ],
            )
        crash_point("sentences")
        self.documents.save(doc)
        crash_point("document")
        self.manifest.upsert(
            ids=[rid],
            embeddings=[[1.0]],
            documents=[document_json(doc)],
            metadatas=[
                {
                    "report_id": rid,
                    "content_hash": doc.content_hash,
                    "chunks": len(chunks),
                    "sentences": len(units),
                    "source": Path(doc.source_path).name,
                }
            ],
        )
        crash_point("committed")
        self._records = None

    def _delete(self, report_id: str) -> None:
        """Uncommit first, then delete chunks, sentences and the local document."""
        self.manifest.delete(ids=[report_id])
        self._records = None
        self.collection.delete(where={"report_id": report_id})
        self.sentences.delete(where={"report_id": report_id})
        self.documents.delete(report_id)

    def remove(self, report_id: str) -> int:
        """Delete one report's chunks and text; returns how many chunks were removed."""
        with write_lock(self.home, self.lock_timeout):
            self._records = None
            n = sum(1 for _, m in self.records().values() if m.get("report_id") == report_id)
            if n or report_id in self.left_behind():
                self._delete(report_id)
                self.refresh_bm25()
        return n

    def reports(self) -> list[IndexedReport]:
        by_id: dict[str, IndexedReport] = {}
        counts: dict[str, int] = {}
        for _, meta in self.records().values():
            rid = str(meta["report_id"])
            counts[rid] = counts.get(rid, 0) + 1
            year = int(meta.get("year", -1))
            by_id[rid] = IndexedReport(
                report_id=rid,
                title=str(meta.get("title", rid)),
                year=year if year >= 0 else None,
                chunks=0,
                content_hash=str(meta.get("content_hash", "")),
                source=str(meta.get("source", "")),
            )
        return [
            IndexedReport(
                r.report_id, r.title, r.year, counts[r.report_id], r.content_hash, r.source
            )
            for r in sorted(by_id.values(), key=lambda r: r.report_id)
        ]

    def incomplete(self) -> list[str]:
        """Reports whose chunks an interrupted (or running) ingest left uncommitted."""
        self.records()
        return sorted(self._incomplete)

    # -- Records and BM25 ---------------------------------------------------------------------
    def records(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every chunk id of a committed report with its text and metadata, as Chroma holds
        them. Chunks of reports without a matching commit marker are left out (and named in
        one warning, unless an ingest holds the write lock right now)."""
        if self._records is None:
            marks = self.manifest.get(include=["metadatas"])
            committed = {
                str(i): dict(m or {}) for i, m in zip(marks["ids"], marks["metadatas"], strict=True)
            }
            got = read_all(self.collection, ["documents", "metadatas"])
            records: dict[str, tuple[str, dict[str, Any]]] = {}
            counts: dict[str, int] = {}
            incomplete: set[str] = set()
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                meta = dict(meta or {})
                rid = str(meta.get("report_id", ""))
                mark = committed.get(rid)
                if mark is None or mark.get("content_hash") != meta.get("content_hash"):
                    incomplete.add(rid)
                    continue
                records[cid] = (text or "", meta)
                counts[rid] = counts.get(rid, 0) + 1
            for rid, mark in list(committed.items()):
                if counts.get(rid, 0) != int(mark.get("chunks", -1)) or rid in incomplete:
                    incomplete.add(rid)
                    del committed[rid]
            if incomplete:
                records = {c: r for c, r in records.items() if r[1]["report_id"] in committed}
            incomplete.update(r for r in self.documents.ids() if r not in committed)
            self._records, self._committed, self._incomplete = records, committed, incomplete
            self._sync_documents()
            if incomplete and not self._warned and not is_locked(self.home):
                self._warned = True
                log.warning(
                    "report(s) %s are incomplete (an ingest was interrupted) and left out of "
                    "search; run `watwerkt ingest` with their files to repair",
                    ", ".join(sorted(incomplete)),
                )
        return self._records

    def _sync_documents(self) -> None:
        """Rewrite the local copy of a committed document that is missing or outdated."""
        for rid, mark in self._committed.items():
            local = self.documents.load(rid)
            if local is not None and local.content_hash == mark.get("content_hash"):
                continue
            got = self.manifest.get(ids=[rid], include=["documents"])
            if got["documents"] and got["documents"][0]:
                self.documents.save_json(rid, got["documents"][0])

    def _stamp(self) -> str:
        """The BM25 stamp of the committed chunk ids; computed once per loaded set of records
        (sorting and hashing 100,000 ids took ~20 ms, on every search)."""
        records = self.records()
        if self._stamp_of is None or self._stamp_of[0] is not records:
            ids = sorted(records)
            stamp = hashlib.sha1("\n".join([BM25_VERSION, *ids]).encode()).hexdigest()
            self._stamp_of = (records, stamp)
        return self._stamp_of[1]

    def refresh_bm25(self) -> BM25Index:
        self._records = None
        records = self.records()
        ids = sorted(records)
        texts = [bm25_text(records[i][0], str(records[i][1].get("section", ""))) for i in ids]
        stamp = self._stamp()
        self._bm25 = BM25Index.build(ids, texts)
        self._bm25.save(self.folder, stamp)
        self._bm25_stamp = stamp
        return self._bm25

    def term_stats(self) -> TermStats:
        """Document frequencies of the indexed words (for answerability checks)."""
        stamp = self._stamp()
        if self._stats is None or self._stats[0] != stamp:
            stats = TermStats.load(self.folder, stamp)
            if stats is None:
                stats = TermStats.build([t for t, _ in self.records().values()])
                try:
                    stats.save(self.folder, stamp)
                except OSError as exc:  # a read-only home still answers, only slower
                    log.warning("could not save the term statistics: %s", exc)
            self._stats = (stamp, stats)
        return self._stats[1]

    def bm25(self) -> BM25Index:
        stamp = self._stamp()
        if self._bm25 is not None and self._bm25_stamp == stamp:
            return self._bm25
        loaded = BM25Index.load(self.folder, stamp)
        if loaded is None:
            return self.refresh_bm25()
        self._bm25, self._bm25_stamp = loaded, stamp
        return loaded


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and the report files inside given folders (sorted, no hidden files).

    A link that leads out of a folder is left out; ``App.ingest`` names it as refused.
    """
    return [f.path for f in find_files(paths) if not f.refused]
