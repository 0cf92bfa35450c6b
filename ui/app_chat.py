"""Tab "Vraag het de rapporten": questions, follow-ups, cited answers and the sources panel.

The functions here take the App and plain values and return plain values (strings, lists of
chat messages), so they are tested without a browser; ``ui.app`` wires them to components.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer import Answer, Citation
from rag.bm25 import dutch_stopwords
from rag.models import Passage

from .app_common import attribution, esc, index_lock, pdf_href, ready, report_pdf
from .cli import references
from .guard import question_problem
from .wiring import App

EXAMPLES = (
    "Wat werkt voor mbo-2 jongeren?",
    "Hoe krijg je werkgevers betrokken?",
    "Wat maakt samenwerking in allianties succesvol?",
    "Welke rol spelen ouders (ouderbetrokkenheid)?",
    "Waarom is persoonlijke coaching belangrijk?",
    "Wat zijn de geleerde lessen van het platform?",
)

# -- follow-up questions -------------------------------------------------------------------
# A follow-up ("En voor mbo-4?") is read in the light of the previous question:
#  1. it starts with en / and / maar / of / wat als / what if, or it has at most three words;
#  2. after that lead word, if it starts with a preposition that the previous question also
#     has, the previous question is repeated with what followed that preposition replaced:
#     "Wat werkt voor mbo-2 jongeren?" + "En voor mbo-4?" -> "Wat werkt voor mbo-4?";
#  3. otherwise the topic words of the previous question (its words minus stop words and
#     question words) are put in front: "Wat werkt voor mbo-2 jongeren?" + "En ouders?" ->
#     "mbo-2 jongeren: ouders?".
# Any other question starts a new topic and is asked as typed.
_LEAD = re.compile(r"^\s*(?:en|and|maar|but|of|or|wat als|what if|what about)\b[\s,]*", re.I)
_PREPOSITIONS = frozenset(
    ("voor", "bij", "in", "met", "over", "zonder", "tijdens", "na", "van", "onder",
     "for", "with", "about", "without", "among")
)  # fmt: skip
_QUESTION_WORDS = frozenset(
    ("wat", "welke", "welk", "hoe", "waarom", "wanneer", "waar", "wie", "werkt", "werken",
     "werkte", "helpt", "helpen", "what", "which", "how", "why", "when", "where", "who",
     "works", "work", "does", "do", "is", "are")
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def topic_words(question: str) -> list[str]:
    """The words of a question that carry its subject (no stop words, no question words)."""
    stop = dutch_stopwords() | _QUESTION_WORDS
    return [w for w in _WORD.findall(question) if w.lower() not in stop]


def is_followup(question: str) -> bool:
    return bool(_LEAD.match(question)) or len(_WORD.findall(question)) <= 3


def stands_alone(question: str) -> bool:
    """Whether a question that looks like a follow-up is a whole question read alone: past
    its lead word ("En ..."), at least four words and not a preposition first ("En hoeveel
    allianties zijn er opgezet?", not "En voor mbo-4?" or "En ouders?")."""
    rest = _LEAD.sub("", question.strip(), count=1)
    words = _WORD.findall(rest)
    return len(words) >= 4 and words[0].lower() not in _PREPOSITIONS


def rewrite_followup(question: str, previous: str | None) -> str:
    """The question to ask: a follow-up completed from the previous question (rules above)."""
    question = question.strip()
    if not previous or not question or not is_followup(question):
        return question
    rest = _LEAD.sub("", question, count=1).strip() or question
    first = rest.split(maxsplit=1)[0].lower()
    if first in _PREPOSITIONS:
        found = list(re.finditer(rf"\b{re.escape(first)}\b", previous, re.I))
        if found:  # the last occurrence of the preposition in the previous question
            match = found[-1]
            tail = rest[len(first) :].strip().rstrip("?").strip()
            return f"{previous[: match.end()]} {tail}?"
    topic = " ".join(topic_words(previous))
    if not topic:
        return question
    rest = rest[0].lower() + rest[1:] if rest[:1].isupper() and rest[1:2].islower() else rest
    return f"{topic}: {rest}"


# -- rendering -----------------------------------------------------------------------------
def _mark_quotes(text: str, quotes: Sequence[tuple[int, str]], context: int = 420) -> str:
    """The passage as HTML with each quoted sentence in <mark> (numbered when ``n`` > 0),
    trimmed to ``context`` characters around the first and the last quote."""
    spans: list[tuple[int, int, int]] = []
    for n, quote in quotes:
        parts = [re.escape(p) for p in quote.split()]
        match = re.search(r"\s+".join(parts), text) if parts else None
        if match is not None:
            spans.append((match.start(), match.end(), n))
    if not spans:
        return esc(" ".join(text.split()))
    spans.sort()
    start, end = spans[0][0], max(e for _, e, _ in spans)
    lo = max(0, start - context)
    hi = min(len(text), end + context)
    if lo > 0:
        lo = text.find(" ", lo) + 1 or lo
    if hi < len(text):
        hi = text.rfind(" ", end, hi) if text.rfind(" ", end, hi) > end else hi
    out = ["… " if lo > 0 else ""]
    at = lo
    for s_, e_, n in spans:
        if s_ < at:
            continue  # overlapping quotes: the first one is marked
        out.append(esc(" ".join(text[at:s_].split())) + " ")
        label = f'<sup class="ww-ref">[{n}]</sup>' if n > 0 else ""
        out.append(
            f'<mark data-n="{n}">{esc(" ".join(text[s_:e_].split()))}</mark>{label} '
            if n > 0
            else f"<mark>{esc(' '.join(text[s_:e_].split()))}</mark> "
        )
        at = e_
    out.append(esc(" ".join(text[at:hi].split())) + (" …" if hi < len(text) else ""))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def _pdf_links(app: App, report_ids: Sequence[str]) -> dict[str, bool]:
    return {rid: report_pdf(app, rid) is not None for rid in dict.fromkeys(report_ids)}


def _where(c: Citation, group: Sequence[Citation] = ()) -> str:
    section = " › ".join(c.section) if c.section else ""
    pages = sorted({x.page for x in group} | {c.page})
    where = f"p. {pages[0]}" if len(pages) == 1 else f"p. {pages[0]}–{pages[-1]}"
    return f"§ {section}, {where}" if section else where


def sources_html(app: App, answer: Answer) -> str:
    """The sources panel: one card per cited passage, its quotes highlighted and numbered,
    with a link that opens the PDF at the page."""
    if not answer.grounded:
        return refusal_html(app, answer)
    passages = {p.chunk_id: p for p in answer.passages}
    has_pdf = _pdf_links(app, [c.report_id for c in answer.citations])
    groups: dict[str, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.chunk_id, []).append(c)
    cards = []
    for cited in groups.values():
        first = cited[0]
        passage = passages.get(first.chunk_id)
        numbered = [(c.n, c.quote) for c in cited] if len(cited) > 1 else [(0, first.quote)]
        body = (
            _mark_quotes(passage.text, numbered)
            if passage
            else " ".join(f"<mark>{esc(c.quote)}</mark>" for c in cited)
        )
        link = (
            f'<a class="ww-pdf" href="{esc(pdf_href(first.report_id, first.page))}" '
            f'target="_blank" rel="noopener">Open PDF op p. {first.page}</a>'
            if has_pdf[first.report_id]
            else '<span class="ww-nopdf">PDF niet beschikbaar</span>'
        )
        anchors = ["" if c is first else f' id="bron-{c.n}"' for c in cited]
        numbers = "".join(
            f'<span class="ww-n"{anchor}>{c.n}</span> '
            for c, anchor in zip(cited, anchors, strict=True)
        )
        cards.append(
            f'<article class="ww-bron" id="bron-{first.n}" data-report="{esc(first.report_id)}" '
            f'data-page="{first.page}" data-n="{" ".join(str(c.n) for c in cited)}">'
            f"<header>{numbers}"
            f"<strong>{esc(attribution(app, first.report_id, first.attribution))}</strong>"
            f' <span class="ww-where">{esc(_where(first, cited))}</span> {link}</header>'
            f'<p class="ww-passage">{body}</p></article>'
        )
    return (
        f'<div class="ww-bronnen"><h3>Bronnen ({len(answer.citations)} citaten uit '
        f"{len(cards)} passage{'s' if len(cards) != 1 else ''})</h3>"
        '<p class="ww-hint">De <mark>gemarkeerde</mark> zinnen zijn de letterlijke citaten; '
        "eromheen staat de passage uit het rapport.</p>" + "".join(cards) + "</div>"
    )


def _related_items(app: App, related: Sequence[Passage]) -> str:
    has_pdf = _pdf_links(app, [p.report_id for p in related])
    items = []
    for p in related:
        where = (
            f"§ {' › '.join(p.section)}, p. {p.page_start}" if p.section else f"p. {p.page_start}"
        )
        link = (
            f' <a href="{esc(pdf_href(p.report_id, p.page_start))}" target="_blank" '
            'rel="noopener">PDF</a>'
            if has_pdf[p.report_id]
            else ""
        )
        snippet = " ".join(p.text.split())
        snippet = snippet if len(snippet) <= 220 else snippet[:217].rsplit(" ", 1)[0] + " …"
        items.append(
            f"<li><strong>{esc(attribution(app, p.report_id, p.attribution))}</strong>, "
            f"{esc(where)}{link}<br><span>{esc(snippet)}</span></li>"
        )
    return "".join(items)


def refusal_html(app: App, answer: Answer) -> str:
    """An honest refusal, visibly unlike an answer, with the nearest passages apart."""
    related = _related_items(app, answer.related)
    listing = (
        f'<h4>Wellicht verwant</h4><ul class="ww-related">{related}</ul>'
        '<p class="ww-hint">Deze passages beantwoorden de vraag niet, maar gaan over iets '
        "verwants.</p>"
        if related
        else ""
    )
    return (
        '<div id="refusal" class="ww-refusal" role="status">'
        "<h3>Geen antwoord in de rapporten</h3>"
        f"<p>{esc(answer.text)}</p>{listing}</div>"
    )


def answer_markdown(app: App, answer: Answer, typed: str) -> str:
    """The chat message: (the rewritten question,) the answer, and numbered footnotes."""
    lines: list[str] = []
    if answer.question.strip() != typed.strip():
        lines.append(f"*Vervolgvraag gelezen als:* „{answer.question}”\n")
    if not answer.grounded:
        lines.append(f"⚠️ **Geen antwoord in de rapporten.** {answer.text}")
        if answer.related:
            lines.append("\nZie rechts *wellicht verwant*: passages over iets verwants.")
        return "\n".join(lines)
    lines.append(answer.text)
    lines.append("\n---")
    groups: list[list[Citation]] = []  # consecutive citations of one page and section
    for c in answer.citations:
        last = groups[-1][-1] if groups else None
        if last and (last.report_id, last.section, last.page) == (c.report_id, c.section, c.page):
            groups[-1].append(c)
        else:
            groups.append([c])
    for group in groups:
        c = group[0]
        marks = "".join(f"[{g.n}]" for g in group)
        where = f"p. {c.page}" + (f", § {c.section[-1]}" if c.section else "")
        who = attribution(app, c.report_id, c.attribution)
        lines.append(f"<small>{marks} {esc(who)}, {esc(where)}</small>  ")
    return "\n".join(lines)


def copy_text(app: App, answer: Answer) -> str:
    """What "kopieer met bronnen" puts on the clipboard: answer, footnotes, reference list."""
    lines = [f"Vraag: {answer.question}", "", answer.text]
    if not answer.grounded:
        if answer.related:
            lines += ["", "Wellicht verwant:"]
            for p in answer.related:
                who = attribution(app, p.report_id, p.attribution)
                lines.append(f"- {who}, § {p.section_label}, p. {p.page_start}")
        return "\n".join(lines)
    lines += ["", "Voetnoten"]
    for c in answer.citations:
        who = attribution(app, c.report_id, c.attribution)
        lines.append(f"[{c.n}] {who}, {_where(c)}: “{c.quote}”")
    lines += ["", "Literatuur"]
    lines += references(app, [c.report_id for c in answer.citations])
    return "\n".join(lines)


# -- one turn of the conversation ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChatTurn:
    history: list[dict[str, Any]]
    sources: str  # HTML of the sources panel (or the refusal box)
    asked: str  # the question as asked (rewritten for a follow-up)
    copy: str  # the text for "kopieer met bronnen"
    answer: Answer | None = None


def _years(years: Sequence[Any] | None) -> list[int] | None:
    out = [int(y) for y in years or () if str(y).strip().isdigit()]
    return out or None


def read_followup(
    app: App,
    typed: str,
    completed: str,
    reports: Sequence[str] | None = None,
    years: Sequence[Any] | None = None,
) -> Answer:
    """The answer to a question as completed from the conversation, or as typed when the
    completed one finds no answer and the typed one, a whole question (``stands_alone``),
    does (a new question that looked like a follow-up). Not the more confident of two
    answers, and never a fragment read alone: "En voor mbo-4?" alone gets confident answers
    about anything (the reader cited four sentences on cooperation at 0.97)."""
    ask = functools.partial(app.ask, reports=list(reports or []) or None, years=_years(years))
    read = ask(completed)
    if completed == typed or read.grounded or not stands_alone(typed):
        return read
    alone = ask(typed)
    return alone if alone.grounded else read


def chat_turn(
    app: App,
    question: str,
    history: list[dict[str, Any]] | None,
    previous: str | None,
    reports: Sequence[str] | None = None,
    years: Sequence[Any] | None = None,
) -> ChatTurn:
    """Ask one (follow-up) question and render the answer, its sources and its clipboard text."""
    history = list(history or [])
    typed = (question or "").strip()
    if not typed:
        return ChatTurn(history, "", previous or "", "")
    problem = question_problem(typed)
    if problem is not None:  # refused before any search: a huge question would run minutes
        history += [
            {"role": "user", "content": typed[:200] + " …"},
            {"role": "assistant", "content": f"⚠️ {problem}"},
        ]
        return ChatTurn(history, "", previous or "", "")
    ready(app)
    with index_lock(app).read():
        answer = read_followup(app, typed, rewrite_followup(typed, previous), reports, years)
    asked = answer.question
    history += [
        {"role": "user", "content": typed},
        {"role": "assistant", "content": answer_markdown(app, answer, typed)},
    ]
    return ChatTurn(history, sources_html(app, answer), asked, copy_text(app, answer), answer)


def report_choices(app: App) -> list[tuple[str, str]]:
    """(label, report id) of the indexed reports, for the report filter."""
    catalog = app.catalog()
    out = []
    for r in app.index.reports():
        entry = catalog.get(r.report_id)
        label = attribution(app, r.report_id, r.title)
        title = entry.title if entry else r.title
        short = title if len(title) <= 60 else title[:57].rsplit(" ", 1)[0] + " …"
        out.append((f"{label}: {short}", r.report_id))
    return out


def year_choices(app: App) -> list[str]:
    return sorted({str(r.year) for r in app.index.reports() if r.year}, reverse=True)
