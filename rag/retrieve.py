"""Hybrid retrieval: dense (Chroma) and BM25 ranks fused, overlapping passages removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .chroma import read_all
from .index import Index, decode_spans
from .models import Passage
from .verify import squash


@dataclass(frozen=True, slots=True)
class RetrievalSettings:
    """How dense and BM25 rankings are combined (chosen by measurement, see benchmarks/)."""

    candidates: int = 40
    rrf_k: int = 5
    dense_weight: float = 1.0
    bm25_weight: float = 0.75
    sentence_weight: float = 0.5
    max_overlap: float = 0.5


def _where(reports: Sequence[str] | None, years: Sequence[int] | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if reports:
        clauses.append({"report_id": {"$in": list(reports)}})
    if years:
        clauses.append({"year": {"$in": [int(y) for y in years]}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _allowed(
    meta: dict[str, Any], reports: Sequence[str] | None, years: Sequence[int] | None
) -> bool:
    if reports and meta.get("report_id") not in reports:
        return False
    return not (years and int(meta.get("year", -1)) not in {int(y) for y in years})


class Retriever:
    """``search(query, k)`` over an :class:`Index`."""

    def __init__(self, index: Index, settings: RetrievalSettings | None = None) -> None:
        self.index = index
        self.settings = settings or RetrievalSettings()
        self._facet_cache: _Facets | None = None

    def _facets(self) -> _Facets:
        records = self.index.records()
        if self._facet_cache is None or self._facet_cache.records is not records:
            self._facet_cache = _Facets(records)
        return self._facet_cache

    def warm_up(self) -> None:
        self.index.bm25()
        self.index.embedder.embed_query(["warm up"])

    def passage(self, chunk_id: str) -> Passage | None:
        """One chunk as a passage (no scores), or None when it is not indexed."""
        record = self.index.records().get(chunk_id)
        return None if record is None else _passage(chunk_id, record, 0.0, 0.0, 0.0, None, None)

    def dense(
        self,
        query: str,
        n: int,
        reports: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
    ) -> list[tuple[str, float]]:
        total = self.index.count()
        if total == 0:
            return []
        vector = self.index.embedder.embed_query([query])[0]
        where = _where(reports, years)
        if where is not None:
            allowed = self._facets().allowed(reports, years)
            if len(allowed) <= EXACT_FILTER_MAX:
                return self._dense_exact(vector, n, allowed, where)
        got = self.index.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(n, total),
            where=where,
            include=["distances"],
        )
        committed = self.index.records()  # an interrupted ingest's chunks are left out
        chunk_sim = {
            c: 1.0 - float(d)
            for c, d in zip(got["ids"][0], got["distances"][0], strict=True)
            if c in committed
        }
        w = self.settings.sentence_weight
        if w <= 0:
            return sorted(chunk_sim.items(), key=lambda x: -x[1])
        n_sent = self.index.sentences.count()
        best: dict[str, float] = {}
        if n_sent:
            sent = self.index.sentences.query(
                query_embeddings=[vector.tolist()],
                n_results=min(4 * n, n_sent),
                where=where,
                include=["distances", "metadatas"],
            )
            for meta, d in zip(sent["metadatas"][0], sent["distances"][0], strict=True):
                cid = str(meta["chunk_id"])
                if cid not in committed:
                    continue
                best[cid] = max(best.get(cid, -1.0), 1.0 - float(d))
        missing = [c for c in best if c not in chunk_sim]
        if missing:
            extra = self.index.collection.get(ids=missing, include=["embeddings"])
            for cid, emb in zip(extra["ids"], extra["embeddings"], strict=True):
                chunk_sim[cid] = float(np.dot(np.asarray(emb, dtype=np.float32), vector))
        return _combine(chunk_sim, best, w, n)

    def _dense_exact(
        self, vector: np.ndarray, n: int, allowed: list[str], where: dict[str, Any]
    ) -> list[tuple[str, float]]:
        """:meth:`dense` over the few chunks a filter allows, scored exactly: Chroma's HNSW
        search under a filter that keeps 1 report in 1,000 took 0.4 s and returned fewer
        sentences than asked (benchmarks/scale.py)."""
        if not allowed:
            return []
        got = self.index.collection.get(ids=allowed, include=["embeddings"])
        ids = list(got["ids"])
        sims = np.asarray(got["embeddings"], dtype=np.float32) @ vector
        every = {cid: float(sim) for cid, sim in zip(ids, sims, strict=True)}
        chunk_sim = {ids[i]: every[ids[i]] for i in np.argsort(-sims, kind="stable")[:n]}
        w = self.settings.sentence_weight
        if w <= 0:
            return sorted(chunk_sim.items(), key=lambda x: -x[1])
        sent = read_all(self.index.sentences, ["embeddings", "metadatas"], where)
        best: dict[str, float] = {}
        if sent["ids"]:
            s_sims = np.asarray(sent["embeddings"], dtype=np.float32) @ vector
            for i in np.argsort(-s_sims, kind="stable")[: 4 * n]:
                cid = str(sent["metadatas"][i]["chunk_id"])
                if cid in every:
                    best[cid] = max(best.get(cid, -1.0), float(s_sims[i]))
        for cid in best:
            chunk_sim.setdefault(cid, every[cid])
        return _combine(chunk_sim, best, w, n)

    def sparse(
        self,
        query: str,
        n: int,
        reports: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
    ) -> list[tuple[str, float]]:
        bm25 = self.index.bm25()
        scores = bm25.scores(query)
        if scores.size == 0:
            return []
        records = self.index.records()
        positive = np.flatnonzero(scores > 0)
        if reports or years:  # only what the filter allows: few of the best passages may pass
            positive = positive[self._facets().mask(bm25.ids, reports, years)[positive]]
        out: list[tuple[str, float]] = []
        for head in (4 * n, positive.size):  # the best few first; all only when filters need it
            out = []
            for i in _best_first(scores, positive, head):
                cid = bm25.ids[int(i)]
                if cid in records and _allowed(records[cid][1], reports, years):
                    out.append((cid, float(scores[i])))
                    if len(out) >= n:
                        return out
            if head >= positive.size:
                break
        return out

    def search(
        self,
        query: str,
        k: int = 5,
        reports: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
    ) -> list[Passage]:
        """The ``k`` best passages for ``query``, best first."""
        query = query.strip()
        if not query:
            return []
        s = self.settings
        n = max(s.candidates, 3 * k)
        dense = self.dense(query, n, reports, years)
        sparse = self.sparse(query, n, reports, years)
        fused: dict[str, float] = {}
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense, start=1)}
        sparse_rank = {cid: r for r, (cid, _) in enumerate(sparse, start=1)}
        for cid, r in dense_rank.items():
            fused[cid] = fused.get(cid, 0.0) + s.dense_weight / (s.rrf_k + r)
        for cid, r in sparse_rank.items():
            fused[cid] = fused.get(cid, 0.0) + s.bm25_weight / (s.rrf_k + r)
        dense_score = dict(dense)
        sparse_score = dict(sparse)
        records = self.index.records()
        ranked = sorted(fused, key=lambda c: (-fused[c], c))
        chosen: list[Passage] = []
        for cid in ranked:
            if cid not in records:
                continue
            passage = _passage(
                cid,
                records[cid],
                fused[cid],
                dense_score.get(cid, 0.0),
                sparse_score.get(cid, 0.0),
                dense_rank.get(cid),
                sparse_rank.get(cid),
            )
            if any(_redundant(passage, other, s.max_overlap) for other in chosen):
                continue
            chosen.append(passage)
            if len(chosen) >= k:
                break
        return chosen


# A filter that leaves at most this many chunks is searched exactly (their vectors read by
# id) rather than through Chroma's filtered HNSW search.
EXACT_FILTER_MAX = 2000


class _Facets:
    """The chunk ids of each report and year, built once per loaded record set: a filter
    looked up in them instead of tested on all 100,000 records (benchmarks/scale.py)."""

    def __init__(self, records: dict[str, tuple[str, dict[str, Any]]]) -> None:
        self.records = records
        self.order = {cid: i for i, cid in enumerate(records)}
        self.by_report: dict[str, list[str]] = {}
        self.by_year: dict[int, list[str]] = {}
        for cid, (_, meta) in records.items():
            self.by_report.setdefault(str(meta.get("report_id")), []).append(cid)
            self.by_year.setdefault(int(meta.get("year", -1)), []).append(cid)
        self._masks: tuple[Sequence[str], dict[str, int]] | None = None

    def allowed(self, reports: Sequence[str] | None, years: Sequence[int] | None) -> list[str]:
        """The chunk ids the filter keeps, in record order."""
        parts: list[set[str]] = []
        if reports:
            parts.append({c for r in set(reports) for c in self.by_report.get(str(r), [])})
        if years:
            parts.append({c for y in {int(y) for y in years} for c in self.by_year.get(y, [])})
        if not parts:
            return list(self.records)
        kept = set.intersection(*parts)
        return sorted(kept, key=self.order.__getitem__)

    def mask(
        self, ids: Sequence[str], reports: Sequence[str] | None, years: Sequence[int] | None
    ) -> np.ndarray:
        """Over positions in ``ids`` (the BM25 index's): True where the filter keeps the chunk."""
        if self._masks is None or self._masks[0] is not ids:
            self._masks = (ids, {cid: i for i, cid in enumerate(ids)})
        where = self._masks[1]
        out = np.zeros(len(ids), dtype=bool)
        kept = [where[c] for c in self.allowed(reports, years) if c in where]
        out[np.asarray(kept, dtype=np.intp)] = True
        return out


def _combine(
    chunk_sim: dict[str, float], best: dict[str, float], w: float, n: int
) -> list[tuple[str, float]]:
    """A chunk's dense score: its own similarity and its best sentence's (or, when none of
    its sentences is among the best, the lowest best-sentence similarity), weighted."""
    floor_sent = min(best.values(), default=0.0)
    combined = {
        cid: (1 - w) * sim + w * best.get(cid, floor_sent) for cid, sim in chunk_sim.items()
    }
    return sorted(combined.items(), key=lambda x: -x[1])[:n]


def _best_first(scores: np.ndarray, positive: np.ndarray, head: int) -> np.ndarray:
    """Positions of the ``head`` best ``positive`` scores (and any tied with the last), best
    first, ties in position order: the start of a stable argsort of ``-scores``, without
    sorting all of them (7 ms for 100,000 passages)."""
    if positive.size > head:
        kth = np.partition(scores[positive], positive.size - head)[positive.size - head]
        positive = positive[scores[positive] >= kth]
    return positive[np.argsort(-scores[positive], kind="stable")]


def _passage(
    cid: str,
    record: tuple[str, dict[str, Any]],
    score: float,
    dense: float,
    sparse: float,
    dense_rank: int | None,
    sparse_rank: int | None,
) -> Passage:
    text, meta = record
    year = int(meta.get("year", -1))
    section = str(meta.get("section", ""))
    return Passage(
        chunk_id=cid,
        report_id=str(meta.get("report_id", "")),
        title=str(meta.get("title", "")),
        year=year if year >= 0 else None,
        section=tuple(section.split(" > ")) if section else (),
        page_start=int(meta.get("page_start", 1)),
        page_end=int(meta.get("page_end", 1)),
        char_start=int(meta.get("char_start", 0)),
        char_end=int(meta.get("char_end", 0)),
        text=text,
        score=score,
        dense_score=dense,
        bm25_score=sparse,
        ranks=(dense_rank, sparse_rank),
        authors=tuple(a for a in str(meta.get("authors", "")).split("; ") if a),
        sentences=decode_spans(meta.get("sentence_spans")),
    )


def _redundant(a: Passage, b: Passage, max_overlap: float) -> bool:
    """Overlapping spans of the same report, or the same text in two reports."""
    if a.report_id == b.report_id:
        overlap = min(a.char_end, b.char_end) - max(a.char_start, b.char_start)
        shorter = min(a.char_end - a.char_start, b.char_end - b.char_start) or 1
        if overlap / shorter > max_overlap:
            return True
    return squash(a.text).lower() == squash(b.text).lower()
