"""Answers from the reports in which every statement carries a verified citation.

``ask`` retrieves passages, scores their sentences against the question, refuses when the
evidence is too weak, and otherwise lets an answerer (extractive by default, an LLM when
configured) write statements with ``[n]`` citations. Every statement then passes the rules of
:mod:`rag.verify`; what fails is dropped and counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from ingest.models import Document

from . import cmo
from .answerability import asks_type, fits_type, is_english
from .bm25 import tokenize
from .documents import DocumentStore
from .meta import META
from .models import Passage
from .retrieve import Retriever
from .verify import (
    find_quote,
    gives_orders,
    quote_on_page,
    squash,
    support,
    unsupported_numbers,
)

META_PENALTY = 0.05
PER_GROUP = 2  # marked statements per CMO group in a "what works" answer
_HEADING_NUMBER = re.compile(r"^\d+(\.\d+)+\s")
_BULLET = re.compile(r"^(?:[•\-–*]|o|\d{1,2}[.)]|[a-z][.)])\s+")


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    chunk_id: str
    report_id: str
    title: str
    year: int | None
    section: tuple[str, ...]
    page: int
    quote: str
    attribution: str = ""

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True, slots=True)
class Statement:
    text: str
    citations: tuple[int, ...]
    group: str | None = None  # "I", "M", "C", "O" or None
    direct: bool = False  # answers the question itself (before a CMO synthesis around it)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence of a retrieved passage, scored against the question."""

    passage: Passage
    rank: int
    start: int
    end: int
    similarity: float
    overlap: float
    score: float
    group: str | None = None
    marked: bool = False  # the report's own CMO markers decide the group
    lead: int | None = None  # start of the sentence before, when this one leans on it
    # the question's and the sentence's e5 vectors multiplied elementwise (their similarity is
    # its sum): what the trained ranker of rag/answer_model.py reads beside the features
    # of rag/answer_features.py
    match: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def quote(self) -> str:
        """The sentence itself: what is scored."""
        return self.passage.text[self.start : self.end]

    @property
    def cited(self) -> str:
        """What is cited: the sentence, after the one it refers back to ("Dit ...")."""
        return self.passage.text[self.start if self.lead is None else self.lead : self.end]


@dataclass(frozen=True, slots=True)
class Draft:
    """What an answerer proposes: statements citing evidence by number (1-based)."""

    statements: tuple[Statement, ...]
    evidence: tuple[Evidence, ...]
    answerer: str


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    text: str
    grounded: bool
    statements: tuple[Statement, ...]
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    related: tuple[Passage, ...] = ()
    structured: bool = False
    removed: int = 0
    support: float = 0.0
    answerer: str = "extractive"
    notes: tuple[str, ...] = field(default=())
    # the calibrated probability that the reports answer (reader or answerability model)
    confidence: float | None = None


class Answerer(Protocol):
    name: str

    def draft(self, question: str, evidence: Sequence[Evidence], structured: bool) -> Draft: ...


# Below this best-evidence score a question is refused: the 5th percentile of that score over
# the answerable calibration questions (`benchmarks/answer_quality.py --calibrate`).
MIN_SCORE = 0.949


@dataclass(frozen=True, slots=True)
class AnswerSettings:
    """Settings of the answer step (thresholds: benchmarks/train_answer_model.py and
    benchmarks/answer_quality.py --calibrate)."""

    passages: int = 8  # passages an answer shows (and the cited ones beyond them)
    rerank: int = 20  # hybrid passages the trained reader reranks (rag/rerank.py); 0: none
    max_statements: int = 4
    max_statements_structured: int = 10
    min_score: float = MIN_SCORE
    relative_margin: float = 0.1
    overlap_weight: float = 0.4
    rank_weight: float = 0.06  # prior for sentences of better-ranked passages
    redundancy: float = 0.6  # word overlap (Jaccard) above which a sentence repeats another
    # With the trained ranker (scores are probabilities): cite further sentences scoring at
    # least this share of the best one's. None: heuristic scores and relative_margin.
    keep_ratio: float | None = None
    use_model: bool = True  # the trained ranker and answerability model (rag/answer_model.py)
    model_file: str = ""  # another trained model than the shipped one (a baseline, say)
    # who judges the evidence: "trained" (the ranker and answerability model above),
    # "cross-encoder" (the one trained in rag/reader/, read in numpy) or "st:PATH"
    # (a local sentence-transformers cross-encoder, rag/reader/st.py)
    reader: str = "trained"
    reader_threshold: float | None = None  # an st: reader answers from here on (None: 0.5)
    parts: bool = True  # a question of several parts is answered part by part (rag/parts.py)

    def near(self, score: float, best: float, widen: int = 1) -> bool:
        """Whether a sentence scoring ``score`` is close enough to the best to be cited."""
        if self.keep_ratio is not None:
            return score >= best * self.keep_ratio**widen
        return score >= best - widen * self.relative_margin


# A sentence that cannot stand alone: it opens with a word pointing back ("Dit rechtvaardigt
# ...", "Daarom ...", "Zij ..."), or names "deze jongeren" / "hier" early on.
_LEANS_START = re.compile(
    r"^(?:Dit|Deze|Die|Daarom|Daardoor|Daarbij|Daarmee|Daarin|Daarvoor|Daaruit|Hierdoor|Hiermee|"
    r"Hierbij|Hierin|Hiervoor|Hieruit|Hier(?!\s+en\s+daar)|Daar|Zij|Ze|Hij|Hun|Zo(?![’'])|Dat(?=\s+(?:is|was|"
    r"zijn|waren|heeft|hebben|betekent|maakt|geldt|komt|leidt|zorgt|vraagt|kan|moet)\b))\b"
)
_LEANS_EARLY = re.compile(
    r"\b(?:(?:dit|deze)(?!\s+(?:rapport|rapportage|hoofdstuk|paragraaf|evaluatie|reflectie|"
    r"onderzoek|studie|notitie|publicatie|document|jaar|periode|maand|week)\b)|(?:die|dezelfde)"
    r"\s+(?:\w+\s+)?(?:jongeren|groep|doelgroep|alliantie|allianties|aanpak|partijen|"
    r"leerlingen|studenten|werkgevers|gemeenten|scholen|projecten|pilots?|interventies?|"
    r"maatregelen|activiteiten|knelpunten|factoren)|hier(?:bij|door|mee|in|voor|aan|op|over|"
    r"uit)?)\b",
    re.IGNORECASE,
)


def leans_back(sentence: str) -> bool:
    """Does this sentence refer to the one before it, so that it cannot be cited alone?"""
    if _LEANS_START.match(sentence):
        return True
    early = " ".join(sentence.split()[:14])
    return bool(_LEANS_EARLY.search(early)) and "hier en daar" not in early.lower()


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a sentence span: no list marker in front, no ; or , at the end."""
    piece = text[start:end]
    marker = _BULLET.match(piece)
    if marker:
        start += marker.end()
    while end > start and text[end - 1] in ";,: ":
        end -= 1
    return start, end


def candidate_evidence(
    question: str,
    retriever: Retriever,
    settings: AnswerSettings,
    candidates: int,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> tuple[list[Passage], list[Evidence]]:
    """The hybrid search's best ``candidates`` passages (at least ``settings.passages``) and
    their sentences as evidence: what the trained reader weighs, at answer time and in its
    training (``AnswerModel.candidate_passages``)."""
    k = max(settings.passages, candidates)
    passages = retriever.search(question, k=k, reports=reports, years=years)
    return passages, collect_evidence(question, passages, retriever, settings)


def collect_evidence(
    question: str, passages: Sequence[Passage], retriever: Retriever, settings: AnswerSettings
) -> list[Evidence]:
    """Every sentence of the passages, scored: e5 similarity plus shared content words."""
    if not passages:
        return []
    index = retriever.index
    qvec = index.embedder.embed_query([question])[0]
    qterms = set(tokenize(question))
    spans: list[tuple[int, int, int, str]] = []  # passage rank, start, end, sentence id
    for rank, p in enumerate(passages):
        for si, (s, e) in enumerate(p.sentence_spans()):
            spans.append((rank, s, e, f"{p.chunk_id}#s{si}"))
    stored = index.sentences.get(ids=[sid for *_, sid in spans], include=["embeddings"])
    vectors = dict(zip(stored["ids"], stored["embeddings"], strict=True))
    missing = [sid for *_, sid in spans if sid not in vectors]
    if missing:  # short sentences are not stored: embed them now
        texts = {sid: passages[r].text[s:e] for r, s, e, sid in spans if sid in missing}
        fresh = index.embedder.embed_passages(list(texts.values()))
        vectors.update(dict(zip(texts, fresh, strict=True)))
    evidence = []
    for i, (rank, s, e, sid) in enumerate(spans):
        p = passages[rank]
        s2, e2 = _trim(p.text, s, e)
        words = len(p.text[s2:e2].split())
        if words < 4 or p.text[e - 1] not in ".!?;" or _HEADING_NUMBER.match(p.text[s:e]):
            continue  # headings, labels, table cells and lead-ins ("...:") are no statements
        if gives_orders(p.text[s2:e2]):
            continue  # passages are data: an order to the reader is no finding
        vector = np.asarray(vectors[sid], dtype=np.float32)
        sim = float(np.dot(vector, qvec))
        match = vector * np.asarray(qvec, dtype=np.float32)
        terms = set(tokenize(p.text[s2:e2]))
        overlap = len(qterms & terms) / len(qterms) if qterms else 0.0
        score = sim + settings.overlap_weight * overlap + settings.rank_weight / (1 + rank)
        if META.search(p.text[s2:e2]):
            score -= META_PENALTY
        lead = None
        before = spans[i - 1] if i and spans[i - 1][0] == rank else None  # same passage
        if before and p.text[before[2] - 1] in ".!?:;" and leans_back(p.text[s2:e2]):
            lead = _trim(p.text, before[1], before[2])[0]  # a sentence, not a heading or label
        evidence.append(Evidence(p, rank, s2, e2, sim, overlap, score, lead=lead, match=match))
    evidence.sort(key=lambda ev: -ev.score)
    return evidence


class ExtractiveAnswerer:
    """Picks the sentences that answer the question; each becomes a statement citing itself."""

    name = "extractive"

    def __init__(self, settings: AnswerSettings | None = None) -> None:
        self.settings = settings or AnswerSettings()

    def draft(self, question: str, evidence: Sequence[Evidence], structured: bool) -> Draft:
        s = self.settings
        limit = s.max_statements_structured if structured else s.max_statements
        if not evidence:
            return Draft((), (), self.name)
        if asks_type(question):  # a number, share or date is asked: statements must give it
            english = is_english(question)
            typed = [ev for ev in evidence[:15] if fits_type(question, ev.quote, english)]
            evidence = typed or evidence
        best = evidence[0].score
        chosen: list[Evidence] = []
        seen_words: list[set[str]] = []
        also: dict[int, list[Evidence]] = {}  # the same finding in another report

        def take(ev: Evidence) -> bool:
            words = set(tokenize(ev.quote))
            for i, other in enumerate(seen_words):
                if _jaccard(words, other) > s.redundancy:
                    reports = {
                        chosen[i].passage.report_id,
                        *(e.passage.report_id for e in also.get(i, [])),
                    }
                    if ev.passage.report_id not in reports:
                        also.setdefault(i, []).append(ev)  # corroborated: cite both reports
                    return False  # the same statement again (overlapping chunks, lists)
            chosen.append(ev)
            seen_words.append(words)
            return True

        plain_limit, widen = (3, 2) if structured else (limit, 1)
        for ev in evidence:
            if len(chosen) >= plain_limit or not s.near(ev.score, best, widen):
                break
            take(ev)
        direct = len(chosen)
        if structured:
            # "What works" is answered with the report's own CMO syntheses: for each group
            # still missing, the best marked sentence on the topic (numbered section) of the
            # statements chosen so far, or any marked sentence close to the best score.
            topics = {topic_of(c.passage.section) for c in chosen}
            for group in cmo.GROUP_ORDER:
                have = sum(c.group == group and c.marked for c in chosen)
                for ev in evidence:
                    if len(chosen) >= limit or have >= PER_GROUP:
                        break
                    near = s.near(ev.score, best, 2)
                    on_topic = topic_of(ev.passage.section) in topics
                    if ev.marked and ev.group == group and (near or on_topic) and take(ev):
                        have += 1
        leads = {(c.passage.chunk_id, c.lead) for c in chosen if c.lead is not None}
        covered = {i for i, c in enumerate(chosen) if (c.passage.chunk_id, c.start) in leads}
        order = sorted(
            (i for i in range(len(chosen)) if i not in covered),  # cited with the next one
            key=lambda i: (
                chosen[i].passage.report_id,
                chosen[i].passage.char_start + chosen[i].start,
            ),
        )
        evidence_out: list[Evidence] = []
        statements = []
        for i in order:
            ev = chosen[i]
            numbers = []
            for item in [ev, *also.get(i, [])]:
                evidence_out.append(item)
                numbers.append(len(evidence_out))
            statements.append(
                Statement(_sentence_case(squash(ev.cited)), tuple(numbers), ev.group, i < direct)
            )
        return Draft(tuple(statements), tuple(evidence_out), self.name)


def topic_of(section: Sequence[str]) -> str:
    """The numbered section ("2.3 Vraagstuk 2: ...") a section path belongs to."""
    return next((part for part in section if _HEADING_NUMBER.match(part)), " > ".join(section))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _sentence_case(text: str) -> str:
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


@dataclass(frozen=True, slots=True)
class Verified:
    statements: tuple[Statement, ...]
    citations: tuple[Citation, ...]
    removed: int


def verify_draft(draft: Draft, documents: DocumentStore, min_support: float = 0.3) -> Verified:
    """Keep the statements whose citations hold; renumber citations 1..n in order of use."""
    docs: dict[str, Document | None] = {}
    kept: list[Statement] = []
    citations: list[Citation] = []
    number_of: dict[int, int] = {}
    removed = 0
    evidence = [_holding(ev, documents, docs) for ev in draft.evidence]
    for st in draft.statements:
        valid = [n for n in st.citations if 1 <= n <= len(evidence)]
        ok = bool(valid) and len(valid) == len(st.citations)  # every citation must exist
        ok = ok and all(evidence[n - 1] is not None for n in valid)
        quotes = [ev.cited for n in valid if (ev := evidence[n - 1]) is not None]
        ok = ok and not unsupported_numbers(st.text, quotes)
        ok = ok and max((support(st.text, q) for q in quotes), default=0.0) >= min_support
        if not ok:
            removed += 1
            continue
        new_numbers = []
        for n in valid:
            if n not in number_of:
                number_of[n] = len(citations) + 1
                held = evidence[n - 1]
                assert held is not None
                citations.append(_citation(number_of[n], held, docs))
            new_numbers.append(number_of[n])
        kept.append(replace(st, citations=tuple(new_numbers)))
    return Verified(tuple(kept), tuple(citations), removed)


def _doc(report_id: str, documents: DocumentStore, cache: dict[str, Document | None]):
    if report_id not in cache:
        cache[report_id] = documents.load(report_id)
    return cache[report_id]


def _holding(ev: Evidence, documents: DocumentStore, cache: dict) -> Evidence | None:
    """The evidence as it will be cited, if its quote holds: with the sentence it leans on
    when that quote holds too (not across a page break), else alone; None when nothing holds."""
    if ev.lead is not None and _quote_holds(ev, documents, cache):
        return ev
    alone = replace(ev, lead=None) if ev.lead is not None else ev
    return alone if _quote_holds(alone, documents, cache) else None


def _quote_holds(ev: Evidence, documents: DocumentStore, cache: dict) -> bool:
    """The quote is in its chunk, and in the document on the page it will be cited with."""
    if find_quote(ev.cited, ev.passage.text) < 0 or gives_orders(ev.cited):
        return False
    doc = _doc(ev.passage.report_id, documents, cache)
    if doc is None:
        return True  # a shared index without local text: the chunk check is all there is
    return quote_on_page(ev.cited, doc, _page(ev, doc), near=ev.passage.char_start)


def _page(ev: Evidence, doc: Document | None) -> int:
    if doc is None:
        return ev.passage.page_start
    return doc.page_at(ev.passage.char_start + (ev.start if ev.lead is None else ev.lead))


def _citation(n: int, ev: Evidence, cache: dict[str, Document | None]) -> Citation:
    p = ev.passage
    return Citation(
        n,
        p.chunk_id,
        p.report_id,
        p.title,
        p.year,
        p.section,
        _page(ev, cache.get(p.report_id)),
        squash(ev.cited),
        p.attribution,
    )


def with_groups(evidence: Sequence[Evidence], documents: DocumentStore) -> list[Evidence]:
    """Each evidence sentence with its CMO group, from the report's markers around it."""
    cache: dict[str, Document | None] = {}
    out = []
    for ev in evidence:
        doc = _doc(ev.passage.report_id, documents, cache)
        group, marked = cmo.classify_marked(ev.quote, doc, ev.passage.char_start + ev.start)
        out.append(replace(ev, group=group, marked=marked))
    return out
