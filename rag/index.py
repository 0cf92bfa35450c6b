"""The hybrid index: Chroma (dense vectors) and BM25, kept consistent, incremental by content hash.

Chroma holds every chunk with its full provenance; it is the source of truth. The BM25 index
is derived from Chroma's contents and rebuilt whenever the set of chunk ids changes (its
stamp). The cleaned text of every document is kept in a :class:`DocumentStore` beside them.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ingest.chunk import ChunkSettings, chunk_document
from ingest.document import file_hash, load_document
from ingest.errors import IngestError
from ingest.models import Chunk, Document
from ingest.readers import SUPPORTED_SUFFIXES

from .bm25 import BM25Index, TermStats
from .documents import DocumentStore
from .embed import Embedder
from .errors import RagError
from .models import IndexedReport, IngestOutcome, ReportMeta

log = logging.getLogger(__name__)

# Bump when clean-up or chunk boundaries change, so an old index is never mixed with a new one.
PIPELINE_VERSION = "4"
EMBED_BATCH = 16
BM25_VERSION = "bm25-2"  # bump when what BM25 indexes changes: the stamp forces a rebuild

MetaResolver = Callable[[Path, str], ReportMeta]


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


def sentence_units(chunks: Sequence[Chunk]) -> list[tuple[str, str, int]]:
    """(sentence id, sentence text, chunk index) for every sentence of every chunk.

    Sentences are embedded too: a chunk's dense score combines its own similarity with that
    of its best sentence, which finds a fact stated in one sentence of a long passage.
    """
    from ingest.nlp import block_sentence_spans

    units: list[tuple[str, str, int]] = []
    for ci, chunk in enumerate(chunks):
        for si, (s, e) in enumerate(block_sentence_spans(chunk.text)):
            if len(chunk.text[s:e].split()) >= 3:
                units.append((f"{chunk.chunk_id}#s{si}", chunk.text[s:e], ci))
    return units


class WatwerktEmbeddingFunction:
    """Our embedder in Chroma's EmbeddingFunction shape (passages; queries via embed_query)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[Any]:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[Any]:
        return list(self._embedder.embed_query(list(input)))

    @staticmethod
    def name() -> str:
        return "watwerkt"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WatwerktEmbeddingFunction:
        from .embed import make_embedder

        return WatwerktEmbeddingFunction(make_embedder(config["embedder"]))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None


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
    ) -> None:
        self.home = Path(home)
        self.embedder = embedder
        self.chunking = chunking or ChunkSettings()
        self.chroma_url = chroma_url
        self.show_progress = show_progress
        self.name = collection_name(embedder.name, self.chunking)
        self.folder = self.home / "index" / self.name
        self.documents = DocumentStore(self.folder / "documents")
        self._client: Any = None
        self._collection: Any = None
        self._sentences: Any = None
        self._bm25: BM25Index | None = None
        self._bm25_stamp: str | None = None
        self._records: dict[str, tuple[str, dict[str, Any]]] | None = None
        self._stats: tuple[str, TermStats] | None = None

    # -- Chroma -----------------------------------------------------------------------------
    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    @property
    def sentences(self) -> Any:
        """The sentence-vector collection beside the chunk collection."""
        if self._sentences is None:
            _ = self.collection
            self._sentences = self._client.get_or_create_collection(
                name=f"{self.name}-s",
                embedding_function=WatwerktEmbeddingFunction(self.embedder),
                metadata={"hnsw:space": "cosine", "embedder": self.embedder.name},
            )
        return self._sentences

    def _open_collection(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.chroma_url:
                from urllib.parse import urlparse

                url = urlparse(self.chroma_url)
                self._client = chromadb.HttpClient(
                    host=url.hostname or "127.0.0.1",
                    port=url.port or 8000,
                    ssl=url.scheme == "https",
                    settings=settings,
                )
            else:
                path = self.home / "index" / "chroma"
                path.mkdir(parents=True, exist_ok=True)
                self._client = chromadb.PersistentClient(path=str(path), settings=settings)
            return self._client.get_or_create_collection(
                name=self.name,
                embedding_function=WatwerktEmbeddingFunction(self.embedder),
                metadata={
                    "hnsw:space": "cosine",
                    "embedder": self.embedder.name,
                    "chunking": self.chunking.fingerprint(),
                },
            )
        except Exception as exc:  # chromadb raises many kinds for a bad path or server
            where = self.chroma_url or str(self.home / "index" / "chroma")
            raise RagError(
                f"Chroma at {where} could not be opened ({exc}); check the path or "
                "start the server (chroma run --path DIR --port N)"
            ) from exc

    def count(self) -> int:
        return int(self.collection.count())

    # -- Ingest -------------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[Path], resolve: MetaResolver, force: bool = False
    ) -> list[IngestOutcome]:
        """Ingest files (folders are searched for supported files). A bad file is reported,
        the rest go on. Unchanged files (same content hash) are skipped."""
        outcomes = [self._ingest_one(p, resolve, force) for p in expand_paths(paths)]
        if any(o.status in ("added", "replaced") for o in outcomes):
            self.refresh_bm25()
        return outcomes

    def _ingest_one(self, path: Path, resolve: MetaResolver, force: bool) -> IngestOutcome:
        started = time.perf_counter()
        try:
            digest = file_hash(path)
        except OSError as exc:
            return IngestOutcome(str(path), None, "failed", reason=f"cannot be read ({exc})")
        meta = resolve(path, digest)
        existing = self._stored_meta(meta.report_id)
        unchanged = existing is not None and existing.get("content_hash") == digest and not force
        if existing is not None and unchanged and self.documents.load(meta.report_id):
            return IngestOutcome(
                str(path), meta.report_id, "unchanged", chunks=int(existing.get("_count", 0))
            )
        twin = self._report_with_hash(digest)
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
        self._write(doc, chunks, meta, replace=existing is not None)
        return IngestOutcome(
            str(path),
            meta.report_id,
            "replaced" if existing else "added",
            chunks=len(chunks),
            seconds=time.perf_counter() - started,
        )

    def _write(self, doc: Document, chunks: list[Chunk], meta: ReportMeta, replace: bool) -> None:
        units = sentence_units(chunks)
        texts = [c.text for c in chunks] + [u[1] for u in units]
        vectors: list[list[float]] = []
        desc = f"embedding {meta.report_id} ({len(chunks)} chunks and their sentences)"
        with _progress(len(texts), desc, self.show_progress) as bar:
            for i in range(0, len(texts), EMBED_BATCH):
                batch = texts[i : i + EMBED_BATCH]
                vectors.extend(self.embedder.embed_passages(batch).tolist())
                bar.update(len(batch))
        chunk_vectors, sentence_vectors = vectors[: len(chunks)], vectors[len(chunks) :]
        if replace:
            self.collection.delete(where={"report_id": meta.report_id})
            self.sentences.delete(where={"report_id": meta.report_id})
        metadatas = [
            {
                "report_id": meta.report_id,
                "title": meta.title,
                "year": meta.year if meta.year is not None else -1,
                "authors": "; ".join(meta.authors),
                "section": " > ".join(c.section),
                "page_start": c.page_start,
                "page_end": c.page_end,
                "char_start": c.char_start,
                "char_end": c.char_end,
                "content_hash": doc.content_hash,
                "source": Path(doc.source_path).name,
            }
            for c in chunks
        ]
        step = 500
        for i in range(0, len(chunks), step):
            self.collection.upsert(
                ids=[c.chunk_id for c in chunks[i : i + step]],
                embeddings=chunk_vectors[i : i + step],
                documents=[c.text for c in chunks[i : i + step]],
                metadatas=metadatas[i : i + step],
            )
        year = meta.year if meta.year is not None else -1
        for i in range(0, len(units), step):
            part = units[i : i + step]
            self.sentences.upsert(
                ids=[u[0] for u in part],
                embeddings=sentence_vectors[i : i + step],
                metadatas=[
                    {"chunk_id": chunks[u[2]].chunk_id, "report_id": meta.report_id, "year": year}
                    for u in part
                ],
            )
        self.documents.save(doc)
        self._records = None

    def _stored_meta(self, report_id: str) -> dict[str, Any] | None:
        got = self.collection.get(where={"report_id": report_id}, include=["metadatas"])
        if not got["ids"]:
            return None
        meta = dict(got["metadatas"][0])
        meta["_count"] = len(got["ids"])
        return meta

    def _report_with_hash(self, digest: str) -> str | None:
        got = self.collection.get(where={"content_hash": digest}, include=["metadatas"], limit=1)
        return str(got["metadatas"][0]["report_id"]) if got["ids"] else None

    def remove(self, report_id: str) -> int:
        """Delete one report's chunks and text; returns how many chunks were removed."""
        got = self.collection.get(where={"report_id": report_id}, include=[])
        n = len(got["ids"])
        if n:
            self.collection.delete(ids=got["ids"])
            self.sentences.delete(where={"report_id": report_id})
        self.documents.delete(report_id)
        self._records = None
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

    # -- Records and BM25 ---------------------------------------------------------------------
    def records(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Every chunk id with its text and metadata, as Chroma holds them."""
        if self._records is None:
            got = self.collection.get(include=["documents", "metadatas"])
            self._records = {
                cid: (doc or "", dict(meta or {}))
                for cid, doc, meta in zip(
                    got["ids"], got["documents"], got["metadatas"], strict=True
                )
            }
        return self._records

    def _stamp(self) -> str:
        ids = sorted(self.records())
        return hashlib.sha1("\n".join([BM25_VERSION, *ids]).encode()).hexdigest()

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
            self._stats = (stamp, TermStats.build([t for t, _ in self.records().values()]))
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
    """Files as given, and the supported files inside given folders (sorted, no hidden files)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and f.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.name.lower() != "readme.md"
            )
        else:
            out.append(p)
    return out
