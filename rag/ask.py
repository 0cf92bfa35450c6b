"""``ask``: retrieve, weigh the evidence, refuse or answer, verify, compose the Dutch text."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import cmo
from .answer import (
    Answer,
    Answerer,
    AnswerSettings,
    Citation,
    Evidence,
    ExtractiveAnswerer,
    Statement,
    candidate_evidence,
    collect_evidence,
    topic_of,
    verify_draft,
    with_groups,
)
from .answer_model import AnswerModel, load_model, rank_evidence
from .documents import DocumentStore
from .models import Passage
from .parts import split_parts
from .refusal import Judgement, judge
from .rerank import rerank
from .retrieve import Retriever

REFUSAL = (
    "De rapporten geven geen antwoord op deze vraag: er is geen passage gevonden die de vraag "
    "ondersteunt. Probeer een andere formulering, of voeg het rapport toe dat hierover gaat."
)


def ask(
    question: str,
    retriever: Retriever,
    documents: DocumentStore,
    answerer: Answerer | None = None,
    settings: AnswerSettings | None = None,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> Answer:
    """The verified answer to a question; one of several parts is answered part by part."""
    parts = split_parts(question.strip()) if (settings or AnswerSettings()).parts else [question]
    one = functools.partial(
        _ask_one,
        retriever=retriever,
        documents=documents,
        answerer=answerer,
        settings=settings,
        reports=reports,
        years=years,
    )
    if len(parts) == 1:
        return one(question)
    answers = [one(part) for part in parts]
    if not any(a.grounded for a in answers):
        return one(question)  # no part on its own: the question as a whole may still be
    return merge_parts(question.strip(), answers)


def merge_parts(question: str, answers: Sequence[Answer]) -> Answer:
    """One answer of the answers to each part: per part its statements (sources numbered
    across the parts in reading order), or that the reports do not answer it."""
    numbers: dict[tuple[str, str], int] = {}
    citations: list[Citation] = []
    statements: list[Statement] = []
    blocks: list[str] = []
    for i, part in enumerate(answers, start=1):
        blocks.append(f"{i}. {part.question}")
        if not part.grounded:
            blocks.append("De rapporten beantwoorden dit deel niet.")
            continue
        by_n = {c.n: c for c in part.citations}
        renumber: dict[int, int] = {}
        for st in part.statements:
            for n in st.citations:
                c = by_n[n]
                key = (c.chunk_id, c.quote)
                if key not in numbers:
                    numbers[key] = len(citations) + 1
                    citations.append(replace(c, n=numbers[key]))
                renumber[n] = numbers[key]
        own = [
            replace(st, citations=tuple(renumber[n] for n in st.citations))
            for st in part.statements
        ]
        statements += own
        cited = set(renumber.values())
        blocks.append(compose(own, [c for c in citations if c.n in cited], part.structured))
    passages = list(dict.fromkeys(p for a in answers for p in a.passages))
    grounded = [a for a in answers if a.grounded]
    unanswered = [a.question for a in answers if not a.grounded]
    notes = [n for a in answers for n in a.notes]
    if unanswered:
        notes.append(f"not answered by the reports: {' | '.join(unanswered)}")
    confidences = [a.confidence for a in answers if a.confidence is not None]
    return Answer(
        question=question,
        text="\n\n".join(blocks),
        grounded=True,
        statements=tuple(statements),
        citations=tuple(citations),
        passages=tuple(passages),
        related=tuple(p for a in answers if not a.grounded for p in a.related),
        structured=any(a.structured for a in grounded),
        removed=sum(a.removed for a in answers),
        support=min(a.support for a in grounded),
        answerer=grounded[0].answerer,
        notes=tuple(notes),
        confidence=min(confidences) if confidences else None,
    )


def _ask_one(
    question: str,
    retriever: Retriever,
    documents: DocumentStore,
    answerer: Answerer | None = None,
    settings: AnswerSettings | None = None,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> Answer:
    settings = settings or AnswerSettings()
    question = question.strip()
    reader = None
    if settings.reader != "trained":  # "cross-encoder" or "st:PATH"
        from .reader.reader import load_reader
        from .reader.weigh import KEEP_RATIO, scored_evidence, weigh_with_reader

        reader = load_reader(settings.reader, settings.reader_threshold)
        passages, verdict = weigh_with_reader(question, retriever, settings, reader, reports, years)
        model = None
        settings = replace(settings, keep_ratio=KEEP_RATIO)
    else:
        passages, verdict, model = weigh(question, retriever, settings, reports, years)
    evidence = list(verdict.evidence)
    stats = retriever.index.term_stats()
    confidence = verdict.score if reader is not None or model is not None else None
    said = (note,) if (note := getattr(reader, "note", None)) else ()  # e.g. "not calibrated"
    if model is not None:
        settings = replace(settings, keep_ratio=model.keep_ratio)
    structured = cmo.wants_cmo(question)
    if structured and verdict.grounded:
        # no chunk is read twice: those whose sentences were weighed (not the reranked ones
        # shown from beyond the judged passages: a synthesis chunk among them is read here)
        weighed = [ev.passage for ev in evidence]
        extra = synthesis_passages(retriever, evidence[:3], weighed, reports, years)
        more = collect_evidence(question, extra, retriever, settings)
        if reader is not None:
            combined = evidence + scored_evidence(reader, question, more)[0]
            combined.sort(key=lambda ev: -ev.score)
        elif model is not None:
            combined = rank_evidence(model, question, evidence + more, stats)[0]
        else:
            combined = evidence + more
            combined.sort(key=lambda ev: -ev.score)
        evidence = with_groups(combined, documents)
    if not verdict.grounded:
        reason = "; ".join(verdict.reasons)
        return _refusal(question, passages, verdict.score, reason, confidence, said)

    chosen = answerer or ExtractiveAnswerer(settings)
    notes: list[str] = list(said)
    draft = chosen.draft(question, evidence, structured)
    if not draft.statements and chosen.name != "extractive":
        return _refusal(
            question,
            passages,
            verdict.score,
            f"{chosen.name}: no answer in passages",
            confidence,
            said,
        )
    verified = verify_draft(draft, documents)
    if not verified.statements and chosen.name != "extractive":
        notes.append(f"{chosen.name}: no statement could be verified; extractive answer shown")
        draft = ExtractiveAnswerer(settings).draft(question, evidence, structured)
        removed_by_llm = verified.removed
        verified = verify_draft(draft, documents)
        verified = type(verified)(
            verified.statements, verified.citations, verified.removed + removed_by_llm
        )
    if not verified.statements:
        return _refusal(question, passages, verdict.score, "nothing verifiable", confidence, said)
    statements, citations = reading_order(verified.statements, verified.citations, structured)
    text = compose(statements, citations, structured)
    shown = {p.chunk_id for p in passages}
    for ev in draft.evidence:  # cited synthesis passages join the passages shown
        if ev.passage.chunk_id not in shown and any(
            c.chunk_id == ev.passage.chunk_id for c in citations
        ):
            passages.append(ev.passage)
            shown.add(ev.passage.chunk_id)
    if verified.removed:
        notes.append(f"{verified.removed} sentence(s) removed: no verified citation")
    return Answer(
        question=question,
        text=text,
        grounded=True,
        statements=statements,
        citations=citations,
        passages=tuple(passages),
        structured=structured,
        removed=verified.removed,
        support=verdict.score,
        answerer=draft.answerer,
        notes=tuple(notes),
        confidence=confidence,
    )


def weigh(
    question: str,
    retriever: Retriever,
    settings: AnswerSettings,
    reports: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
) -> tuple[list[Passage], Judgement, AnswerModel | None]:
    """Retrieve passages and judge their sentences: the judgement holds the evidence in the
    order answerers see it (the trained ranker's, when it applies to this embedder), and the
    passages come reranked by it (:mod:`rag.rerank`) where it applies and ``settings.rerank``."""
    model = None
    if settings.use_model:
        name = retriever.index.embedder.name
        model = (
            load_model(name, Path(settings.model_file)) if settings.model_file else load_model(name)
        )
    candidates = model.candidate_passages if model is not None else settings.passages
    pool = settings.rerank if model is not None else 0
    passages, evidence = candidate_evidence(
        question, retriever, settings, max(candidates, pool), reports, years
    )
    judged = [ev for ev in evidence if ev.rank < candidates]  # what the reader was trained on
    verdict = judge(question, judged, retriever.index.term_stats(), settings.min_score, model)
    if pool and evidence and model is not None:
        passages = rerank(model, question, passages, evidence, retriever)
    return passages[: settings.passages], verdict, model


def synthesis_passages(
    retriever: Retriever,
    top: Sequence[Evidence],
    have: Sequence[Passage],
    reports: Sequence[str] | None,
    years: Sequence[int] | None,
) -> list[Passage]:
    """The chunks of the report's CMO syntheses ("rode draden") on the topics of the best
    evidence: the numbered sections it comes from. What works is answered from them."""
    topics = {(ev.passage.report_id, topic_of(ev.passage.section)) for ev in top}
    seen = {p.chunk_id for p in have}
    extra = []
    for cid, (text, meta) in retriever.index.records().items():
        if cid in seen or not cmo.has_marker(text):
            continue
        section = tuple(str(meta.get("section", "")).split(" > "))
        if (meta.get("report_id"), topic_of(section)) not in topics:
            continue
        passage = retriever.passage(cid)
        if (
            passage is not None
            and (not reports or passage.report_id in reports)
            and (not years or passage.year in years)
        ):
            extra.append(passage)
    return extra


def _refusal(
    question: str,
    passages: Sequence[Passage],
    support: float,
    reason: str,
    confidence: float | None = None,
    notes: Sequence[str] = (),
) -> Answer:
    return Answer(
        question=question,
        text=REFUSAL,
        grounded=False,
        statements=(),
        citations=(),
        passages=tuple(passages),
        related=tuple(passages[:3]),
        support=support,
        notes=(f"refused: {reason}", *notes),
        confidence=confidence,
    )


def _attribution(c: Citation) -> str:
    return c.attribution or f"{c.title} ({c.year or 'z.j.'})"


def _shown(statements: Sequence[Statement], structured: bool) -> list[Statement]:
    """Statements in the order they are read: the direct answer, then each CMO group."""
    if not structured:
        return list(statements)
    rest = [st for st in statements if not st.direct]
    groups = cmo.order_groups([st.group for st in rest])
    return [st for st in statements if st.direct] + [
        st for g in groups for st in rest if st.group == g
    ]


def reading_order(
    statements: Sequence[Statement], citations: Sequence[Citation], structured: bool
) -> tuple[tuple[Statement, ...], tuple[Citation, ...]]:
    """The statements as shown, with their sources numbered 1..n in the order they are read."""
    shown = _shown(statements, structured)
    by_n = {c.n: c for c in citations}
    new: dict[int, int] = {}
    for st in shown:
        for n in st.citations:
            new.setdefault(n, len(new) + 1)
    renumbered = tuple(replace(st, citations=tuple(new[n] for n in st.citations)) for st in shown)
    return renumbered, tuple(
        replace(by_n[old], n=n) for old, n in sorted(new.items(), key=lambda x: x[1])
    )


def compose(
    statements: Sequence[Statement], citations: Sequence[Citation], structured: bool
) -> str:
    """The Dutch answer text: statements as list items ending in [n], grouped when asked."""
    by_n = {c.n: c for c in citations}
    reports = {c.report_id for c in citations}
    several = len(reports) > 1

    def line(st: Statement) -> str:
        marks = "".join(f"[{n}]" for n in st.citations)
        sources = dict.fromkeys(_attribution(by_n[n]) for n in st.citations)
        prefix = f"{'; '.join(sources)}: " if several else ""
        return f"- {prefix}{st.text} {marks}"

    lines: list[str] = []
    if not several:
        only = by_n[statements[0].citations[0]]
        lines.append(f"Volgens {_attribution(only)}:")
    else:
        lines.append(f"Volgens {len(reports)} rapporten:")
    if structured:
        lines.extend(line(st) for st in statements if st.direct)
        rest = [st for st in statements if not st.direct]
        for group in cmo.order_groups([st.group for st in rest]):
            lines.append("")
            lines.append(f"{cmo.GROUPS[group] if group else 'Overige bevindingen'}:")
            lines.extend(line(st) for st in rest if st.group == group)
    else:
        lines.extend(line(st) for st in statements)
    return "\n".join(lines)
