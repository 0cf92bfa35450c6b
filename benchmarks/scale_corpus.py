"""A synthetic corpus for the scale benchmark: fake reports made of shuffled real sentences.

The sentences come from the bundled report, read by the project's own ingest
(``load_document`` and ``chunk_document``). A fake report keeps the bundled report's
section headings and, per section, as many sentences as the real one had, drawn at random
from all of them and grouped into paragraphs; each has its own report id, title and year.

:class:`PrecomputedEmbedder` gives passages vectors without running a model: a known
sentence gets its real vector plus a little noise (renormalised), any other text (a chunk)
the word-weighted mean of its sentences' vectors. Queries go to a real embedder, so an
index written with it is searched by :class:`rag.retrieve.Retriever` unchanged.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunk import chunk_document
from ingest.document import load_document
from ingest.models import Document, Section
from ingest.nlp import block_sentence_spans
from rag.embed import Embedder
from rag.index import sentence_units
from rag.models import ReportMeta

BUNDLED = Path(__file__).resolve().parents[1] / "corpus"


@dataclass(frozen=True, slots=True)
class SentencePool:
    """The distinct sentences of the bundled report, and its sections as (path, n sentences)."""

    sentences: tuple[str, ...]
    sections: tuple[tuple[tuple[str, ...], int], ...]


def bundled_pool(pdf: Path | None = None) -> SentencePool:
    """Sentences and section shape of the bundled report, via the real ingest."""
    path = pdf or next(iter(sorted(BUNDLED.glob("*.pdf"))))
    doc = load_document(path, report_id="bundled", content_hash="bundled")
    chunks = chunk_document(doc)
    seen: dict[str, None] = {}
    per_section: dict[tuple[str, ...], set[str]] = {}
    for _, text, ci in sentence_units(chunks):
        seen.setdefault(text, None)
        per_section.setdefault(chunks[ci].section, set()).add(text)
    sections = tuple((path, len(texts)) for path, texts in per_section.items())
    return SentencePool(tuple(seen), sections)


def fake_document(pool: SentencePool, number: int, seed: int = 0) -> tuple[Document, ReportMeta]:
    """Fake report ``number``: the bundled headings, shuffled sentences, ~3000 chars a page."""
    rng = random.Random(seed * 1_000_003 + number)
    rid = f"syn-{number:04d}"
    parts: list[str] = []
    sections: list[Section] = []
    blocks: list[tuple[int, int]] = []
    page_starts = [0]
    pos = 0

    def add(text: str) -> None:
        nonlocal pos
        if parts:
            parts.append("\n\n")
            pos += 2
        blocks.append((pos, pos + len(text)))
        parts.append(text)
        pos += len(text)

    for path, n in pool.sections:
        start = pos + (2 if parts else 0)
        add(path[-1])
        picked = rng.sample(pool.sentences, min(n, len(pool.sentences)))
        while picked:
            # A paragraph of 2-5 sentences; one that does not end like a sentence (a list
            # item, a lead-in) ends its paragraph, so that it is split off again as it was.
            size = rng.randint(2, 5)
            cut = next((i + 1 for i, s in enumerate(picked[:size]) if s[-1] not in ".?!"), size)
            add(" ".join(picked[:cut]))
            picked = picked[cut:]
            if pos - page_starts[-1] > 3000:
                page_starts.append(pos + 2)
        sections.append(Section(path, start, pos))
    text = "".join(parts)
    page_starts = [p for p in page_starts if p < len(text)]
    doc = Document(
        report_id=rid,
        source_path=f"{rid}.pdf",
        content_hash=f"synthetic-{seed}-{number}",
        text=text,
        page_starts=tuple(page_starts),
        sections=tuple(sections),
        blocks=tuple(blocks),
    )
    topic = rng.choice(pool.sections)[0][-1]
    meta = ReportMeta(
        report_id=rid,
        title=f"Synthetisch verslag {number}: {topic}",
        year=2015 + number % 10,
        authors=(f"Onderzoeksbureau {chr(65 + number % 26)}",),
    )
    return doc, meta


class PrecomputedEmbedder:
    """Passage vectors from a table of real sentence vectors; queries to ``query_embedder``."""

    def __init__(
        self,
        table: dict[str, np.ndarray],
        query_embedder: Embedder,
        noise: float = 0.25,
        seed: int = 0,
    ) -> None:
        self._table = table
        self._query = query_embedder
        self._noise = noise
        self._rng = np.random.default_rng(seed)
        self._dim = len(next(iter(table.values())))
        self.misses = 0  # texts that matched no known sentence (given a random vector)

    @property
    def name(self) -> str:
        return self._query.name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_query(self, texts: Sequence[str]) -> np.ndarray:
        return self._query.embed_query(texts)

    def _sentence(self, text: str) -> np.ndarray:
        base = self._table[text]
        noisy = base + self._noise * self._rng.standard_normal(self._dim) / np.sqrt(self._dim)
        return noisy / np.linalg.norm(noisy)

    def _known(self, text: str) -> list[str]:
        """The table's sentences in ``text``: itself, or those it contains or is part of
        (spaCy may cut a shuffled paragraph a little differently than the original)."""
        if text in self._table:
            return [text]
        if len(text.split()) < 3:  # a heading or a stray word says nothing of its own
            return []
        return [s for s in self._table if s in text or text in s]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for i, text in enumerate(texts):
            if text in self._table:
                vector = self._sentence(text)
            else:
                total = np.zeros(self._dim)
                for s, e in block_sentence_spans(text):
                    for known in self._known(text[s:e]):
                        total += len(known.split()) * self._sentence(known)
                if not total.any():
                    self.misses += 1
                    total = self._rng.standard_normal(self._dim)
                vector = total / np.linalg.norm(total)
            out[i] = vector
        return out
