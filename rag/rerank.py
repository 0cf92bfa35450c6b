"""The reader reranks the hybrid search: passages ordered by their best sentence.

The hybrid search (:mod:`rag.retrieve`) often ranks the right section first and the chunk that
answers as its neighbour. The trained sentence ranker of :mod:`rag.answer_model` reads every
sentence of the best ``POOL`` hybrid passages; a passage then ranks by its best sentence's ranker
logit. Passages without a sentence the ranker weighs (a table, a heading) follow in hybrid order.

Measured on the 200 answerable questions of the check-dev batch (tests/data/reader/dev/,
never trained on by the ranker), 2026-12-02: recall@5 0.935 -> 0.945, MRR@10 0.771 -> 0.824
with a pool of 20 (12: 0.930 / 0.827; 30: 0.945 / 0.823; the best sentence's logit beat the
log-sum-exp of a passage's sentences and its best two, and adding a prior for the hybrid rank
only lowered MRR). ``benchmarks/reader_eval.py`` reports it beside the hybrid order.

Both ``watwerkt search`` and ``ask`` order passages this way; ``ask`` still judges and cites
from the hybrid search's best ``AnswerModel.candidate_passages`` (the passages the reader was
trained on), so reranking changes the passages shown, not the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .answer import AnswerSettings, Evidence, collect_evidence
from .answer_model import AnswerModel, load_model, rank_evidence, sigmoid
from .models import Passage
from .retrieve import Retriever

POOL = AnswerSettings().rerank  # hybrid passages the reader reranks


def by_best_sentence(passages: Sequence[Passage], scored: Sequence[Evidence]) -> list[Passage]:
    """``passages`` by the best ``score`` among their sentences in ``scored`` (higher is
    better), each carrying that score; passages with no sentence scored follow in hybrid order
    with score 0. Whoever scores the sentences (the trained ranker, the cross-encoder, plain e5
    similarity) reranks through here."""
    best: dict[str, float] = {}
    for ev in scored:
        cid = ev.passage.chunk_id
        best[cid] = max(best.get(cid, ev.score), ev.score)
    order = sorted(
        range(len(passages)),
        key=lambda i: (passages[i].chunk_id not in best, -best.get(passages[i].chunk_id, 0.0), i),
    )
    return [replace(passages[i], score=best.get(passages[i].chunk_id, 0.0)) for i in order]


def rerank(
    model: AnswerModel,
    question: str,
    passages: Sequence[Passage],
    evidence: Sequence[Evidence],
    retriever: Retriever,
) -> list[Passage]:
    """``passages`` by their best sentence in ``evidence`` (collected from them) as the trained
    ranker scores it; a passage's ``score`` is the sigmoid of that sentence's ranker logit."""
    ranked, logits = rank_evidence(model, question, evidence, retriever.index.term_stats())
    probability = sigmoid(logits)
    scored = [replace(ev, score=float(p)) for ev, p in zip(ranked, probability, strict=True)]
    return by_best_sentence(passages, scored)


def reranked_search(
    question: str,
    retriever: Retriever,
    k: int = 5,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    pool: int = POOL,
    model: AnswerModel | None = None,
) -> list[Passage]:
    """The ``k`` best passages for ``question``: the hybrid search's best ``max(pool, k)``
    reranked by the reader (``model``, by default the shipped one); the hybrid order where no
    trained reader applies (another embedder) or ``pool`` is 0."""
    model = model or load_model(retriever.index.embedder.name)
    if model is None or pool <= 0:
        return retriever.search(question, k=k, reports=reports, years=years)
    passages = retriever.search(question, k=max(pool, k), reports=reports, years=years)
    evidence = collect_evidence(question, passages, retriever, AnswerSettings())
    if not evidence:
        return passages[:k]
    return rerank(model, question, passages, evidence, retriever)[:k]
