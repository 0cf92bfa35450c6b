"""What the reader of `ask` reads: features of each evidence sentence and of the question.

- per sentence (``sentence_matrix``): e5 similarity (absolute, relative to the best, and by
  rank), shared question stems (plain and IDF-weighted), the similarity of the neighbouring
  sentences, the section heading, the passage's rank and dense score, the answer type
  ("hoeveel" needs a number of the counted thing), a causal connective for "waarom" questions;
  and its e5 match vectors (``match_matrix``: the question's and the sentence's vectors
  multiplied elementwise, the sentence's own and its neighbours');
- per question (``question_vector``, ``best_matches``): the ranker's best scores, how much of
  the question's rarer words the best sentences and the passages hold, question words the
  reports never use, answer-type problems, language, and the best sentences' match vectors.

The models that read them are in :mod:`rag.answer_model`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .answerability import (
    QUESTION_WORDS,
    WORD,
    asks_type,
    fits_type,
    focus,
    is_english,
    known_word,
    specificity,
)
from .bm25 import TermStats, dutch_stopwords, tokenize
from .meta import META

if TYPE_CHECKING:
    from .answer import Evidence

SENTENCE_FEATURES = (
    "similarity",
    "similarity_gap",
    "similarity_rank",
    "overlap",
    "idf_overlap",
    "rarest_term",
    "neighbour_similarity",
    "section_overlap",
    "passage_rank",
    "passage_dense",
    "first_in_passage",
    "log_words",
    "meta",
    "answer_type",
    "causal_for_why",
)
QUESTION_FEATURES = (
    "best_rank_logit",
    "best_similarity",
    "best_idf_overlap",
    "top3_coverage",
    "passage_coverage",
    "missing_rare_term",
    "unknown_specificity",
    "type_problem",
    "typed_anchor",
    "english",
    "best_dense",
    "log_terms",
    "best_share",
    "top_gap",
)

_WHY = re.compile(r"\b(waarom|hoe\s+komt\s+het|wat\s+is\s+de\s+reden|why)\b", re.I)
_CAUSAL = re.compile(
    r"\b(omdat|doordat|waardoor|daardoor|hierdoor|want|vanwege|dankzij|als\s+gevolg|"
    r"oorzaak|reden|verklaring|bijgedragen|heeft\s+bijgedragen|aangezien|zodat)\b",
    re.I,
)


def softmax(x: np.ndarray) -> np.ndarray:
    """Logits of one question's sentences to shares that sum to one."""
    if not len(x):
        return np.zeros(0)
    e = np.exp(x - x.max())
    return e / e.sum()


def content_terms(question: str) -> set[str]:
    """The question's stemmed content terms, without its question words."""
    words = [w for w in WORD.findall(question) if w.lower() not in QUESTION_WORDS]
    numbers = re.findall(r"\d+(?:[.,]\d+)?", question)
    return set(tokenize(" ".join(words + numbers)))


def unknown_words(question: str, stats: TermStats) -> list[str]:
    """Content words of a question that the indexed reports never use, even as compound parts."""
    stop = dutch_stopwords()
    return [
        w
        for w in dict.fromkeys(WORD.findall(focus(question)))
        if len(w) > 2
        and w.lower() not in QUESTION_WORDS
        and w.lower() not in stop
        and not known_word(w, stats.known)
    ]


def _idf_share(terms: set[str], have: set[str], stats: TermStats) -> float:
    """The IDF-weighted share of ``terms`` found in ``have``."""
    if not terms:
        return 0.0
    total = sum(stats.idf(t) for t in terms)
    return sum(stats.idf(t) for t in terms & have) / total if total > 0 else 0.0


def sentence_matrix(question: str, evidence: Sequence[Evidence], stats: TermStats) -> np.ndarray:
    """One row of SENTENCE_FEATURES per evidence sentence."""
    if not evidence:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float64)
    qterms = content_terms(question)
    rarest = max(qterms, key=stats.idf) if qterms else None
    sims = np.asarray([ev.similarity for ev in evidence])
    best = float(sims.max())
    sim_rank = np.empty(len(evidence))
    sim_rank[np.argsort(-sims, kind="stable")] = np.arange(len(evidence))
    typed = asks_type(question)
    english = is_english(question)
    why = bool(_WHY.search(question))
    # neighbours: the sentences before and after in the same passage
    by_passage: dict[int, list[int]] = {}
    for i, ev in enumerate(evidence):
        by_passage.setdefault(ev.rank, []).append(i)
    neighbour = np.zeros(len(evidence))
    first = np.zeros(len(evidence))
    for members in by_passage.values():
        members.sort(key=lambda i: evidence[i].start)
        first[members[0]] = 1.0
        for j, i in enumerate(members):
            around = [sims[members[k]] for k in (j - 1, j + 1) if 0 <= k < len(members)]
            neighbour[i] = max(around) if around else sims[i]
    section_terms: dict[int, set[str]] = {}
    rows = []
    for i, ev in enumerate(evidence):
        quote = ev.quote
        terms = set(tokenize(quote))
        if ev.rank not in section_terms:
            section_terms[ev.rank] = set(tokenize(" ".join(ev.passage.section)))
        answer_type = 0.0
        if typed:
            answer_type = 1.0 if fits_type(question, quote, english) else -1.0
        rows.append(
            [
                sims[i],
                sims[i] - best,
                1.0 / (1.0 + sim_rank[i]),
                ev.overlap,
                _idf_share(qterms, terms, stats),
                1.0 if rarest is not None and rarest in terms else 0.0,
                neighbour[i],
                _idf_share(qterms, section_terms[ev.rank], stats),
                1.0 / (1.0 + ev.rank),
                ev.passage.dense_score,
                first[i],
                math.log1p(len(quote.split())),
                1.0 if META.search(quote) else 0.0,
                answer_type,
                1.0 if why and _CAUSAL.search(quote) else 0.0,
            ]
        )
    return np.asarray(rows, dtype=np.float64)


def question_vector(
    question: str,
    evidence: Sequence[Evidence],
    rank_logits: np.ndarray,
    stats: TermStats,
    type_problem: bool,
) -> np.ndarray:
    """QUESTION_FEATURES for ``evidence`` already ordered by the ranker (best first)."""
    qterms = content_terms(question)
    english = is_english(question)
    starts = {m.group(1) for m in re.finditer(r"(?:^|[.?!]\s+)(\w+)", focus(question))}
    unknown = 0.0
    if not english:
        for word in unknown_words(question, stats):
            unknown += specificity(word.lower() if word in starts else word)
    max_idf = math.log((stats.n + 1) / 0.5)
    if not evidence:
        return np.asarray(
            [
                -10.0,
                0.0,
                0.0,
                0.0,
                0.0,
                1.0,
                unknown,
                float(type_problem),
                0.0,
                english,
                0.0,
                math.log1p(len(qterms)),
                0.0,
                0.0,
            ],
            dtype=np.float64,
        )
    top3: set[str] = set()
    for ev in evidence[:3]:
        top3 |= set(tokenize(ev.quote))
    passages: set[str] = set()
    for p in {ev.passage.chunk_id: ev.passage for ev in evidence}.values():
        passages |= set(tokenize(p.text + " " + " ".join(p.section)))
    missing = [t for t in qterms if t not in passages]
    return np.asarray(
        [
            float(rank_logits.max()),
            max(ev.similarity for ev in evidence),
            max(_idf_share(qterms, set(tokenize(ev.quote)), stats) for ev in evidence[:10]),
            _idf_share(qterms, top3, stats),
            _idf_share(qterms, passages, stats),
            0.0 if english else max((stats.idf(t) for t in missing), default=0.0) / max_idf,
            unknown,
            float(type_problem),
            typed_anchor(question, evidence, qterms, stats, english),
            float(english),
            max(ev.passage.dense_score for ev in evidence),
            math.log1p(len(qterms)),
            float(softmax(rank_logits).max()),
            float(rank_logits[0] - rank_logits[1]) if len(rank_logits) > 1 else 5.0,
        ],
        dtype=np.float64,
    )


def typed_anchor(
    question: str,
    evidence: Sequence[Evidence],
    qterms: set[str],
    stats: TermStats,
    english: bool,
) -> float:
    """For a question asking a number, share, amount or date: how much of the question the best
    sentence giving such a value is about (IDF-weighted share of the question's terms in it, the
    sentence before it and its section). "Hoeveel procent van X ..." answered by a percentage
    about Y scores low. 1.0 for other questions."""
    if not asks_type(question):
        return 1.0
    best = 0.0
    for ev in evidence[:15]:
        if fits_type(question, ev.quote, english):
            text = ev.passage.text
            context = text[max(0, ev.start - 250) : ev.end] + " " + " ".join(ev.passage.section)
            best = max(best, _idf_share(qterms, set(tokenize(context)), stats))
    return best


def match_matrix(evidence: Sequence[Evidence]) -> np.ndarray:
    """Per sentence: its e5 match with the question (question and sentence vectors multiplied
    elementwise) and the mean match of its neighbours in the passage, side by side."""
    if not evidence or any(ev.match is None for ev in evidence):
        raise ValueError("the learned ranker needs each sentence's match vector")
    own = np.stack([np.asarray(ev.match, dtype=np.float32) for ev in evidence])
    context = own.copy()
    by_passage: dict[int, list[int]] = {}
    for i, ev in enumerate(evidence):
        by_passage.setdefault(ev.rank, []).append(i)
    for members in by_passage.values():
        members.sort(key=lambda i: evidence[i].start)
        for j, i in enumerate(members):
            around = [members[k] for k in (j - 1, j + 1) if 0 <= k < len(members)]
            if around:
                context[i] = own[around].mean(axis=0)
    return np.hstack([own, context])


MATCH_SCALE = 20.0  # match entries are ~1/384 of a similarity: bring them to unit scale


def best_matches(ranked: Sequence[Evidence], top: int = 3) -> np.ndarray:
    """The best sentence's e5 match vector and the mean of the ``top`` best ones'."""
    vectors = [
        np.asarray(ev.match, dtype=np.float64) for ev in ranked[:top] if ev.match is not None
    ]
    if not vectors:
        return np.zeros(2 * 384)
    return np.r_[vectors[0], np.mean(vectors, axis=0)]
