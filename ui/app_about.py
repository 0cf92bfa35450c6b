"""Tab "Over het platform": the platform's lessons and hypotheses, read from the indexed reports.

Nothing is written out by hand: a lesson is a section whose heading says "Geleerde les N"
(in the reflection: 3.2 to 3.5), a hypothesis is the text from a sentence "Hypothese N: ..."
to the end of its paragraph.
Each card cites its report, section and page, and links to the PDF at that page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.models import Document

from .app_common import attribution, esc, pdf_href, report_pdf
from .wiring import App

_LESSON = re.compile(r"^\s*(?:\d+(?:\.\d+)*\s+)?(geleerde les\s+\d+.*)$", re.I)
# At a line start or after a sentence: the cleaned text sometimes runs a hypothesis on from
# the paragraph before it ("... quick wins te behalen zijn. Hypothese 5: ...").
_HYPOTHESIS = re.compile(
    r"(?:^|(?<=[.!?:]) )[ \t]*(Hypothese\s+(\d+))\s*:\s*(.+?)(?=\n[ \t]*\n|\Z)", re.S | re.M
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"'(])")


@dataclass(frozen=True, slots=True)
class Card:
    kind: str  # "les" | "hypothese"
    title: str
    text: str
    report_id: str
    source: str  # "Regioplan (2020)"
    section: str
    page: int
    has_pdf: bool = False
    hypotheses: tuple[Card, ...] = field(default=())
    offset: int = 0  # where it starts in the document's cleaned text


def _summary(text: str, limit: int = 420) -> str:
    """The first sentences of a paragraph, up to about ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    out = ""
    for sentence in _SENTENCE_END.split(flat):
        if out and len(out) + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    return out if len(out) <= limit + 200 else out[:limit].rsplit(" ", 1)[0] + " …"


def _section_at(doc: Document, offset: int) -> str:
    for s in doc.sections:
        if s.char_start <= offset < s.char_end:
            return " › ".join(s.path)
    return ""


def _hypotheses(doc: Document, report_id: str, source: str, pdf: bool) -> list[Card]:
    return [
        Card(
            "hypothese",
            m.group(1),
            " ".join(m.group(3).split()),
            report_id,
            source,
            _section_at(doc, m.start(1)),
            doc.page_at(m.start(1)),
            pdf,
            offset=m.start(1),
        )
        for m in _HYPOTHESIS.finditer(doc.text)
    ]


def report_cards(app: App, report_id: str) -> list[Card]:
    """The lessons of one report, each holding the hypotheses stated in it; hypotheses
    outside any lesson come after them as cards of their own."""
    doc = app.index.documents.load(report_id)
    if doc is None:
        return []
    source = attribution(app, report_id)
    pdf = report_pdf(app, report_id) is not None
    hypotheses = _hypotheses(doc, report_id, source, pdf)
    used: set[str] = set()
    cards = []
    for s in doc.sections:
        match = _LESSON.match(s.path[-1]) if s.path else None
        if not match:
            continue
        body = doc.text[s.char_start : s.char_end]
        heading = s.path[-1]
        if body.startswith(heading):
            body = body[len(heading) :]
        first = next((p for p in re.split(r"\n\s*\n", body) if p.strip()), "")
        inside = tuple(
            h for h in hypotheses if s.char_start <= h.offset < s.char_end and h.title not in used
        )
        used.update(h.title for h in inside)
        title = match.group(1)
        cards.append(
            Card(
                "les",
                title[0].upper() + title[1:],
                _summary(first),
                report_id,
                source,
                " › ".join(s.path),
                doc.page_at(s.char_start),
                pdf,
                inside,
                s.char_start,
            )
        )
    cards += [h for h in hypotheses if h.title not in used]
    return cards


def platform_cards(app: App) -> list[Card]:
    return [card for r in app.index.reports() for card in report_cards(app, r.report_id)]


def _cite(card: Card) -> str:
    link = (
        f' · <a href="{esc(pdf_href(card.report_id, card.page))}" target="_blank" '
        f'rel="noopener">PDF p. {card.page}</a>'
        if card.has_pdf
        else ""
    )
    number = re.findall(r"(?:^|› )(\d+(?:\.\d+)*) ", card.section)
    section = f"§ {number[-1]}" if number else f"§ {card.section}"
    return (
        f'<p class="ww-cite" title="{esc(card.section)}">{esc(card.source)}, {esc(section)}, '
        f'<span class="ww-page">p. {card.page}</span>{link}</p>'
    )


def _hypothesis_html(card: Card) -> str:
    number = card.title.split()[-1]
    return (
        f'<div class="ww-hyp" id="hypothese-{esc(number)}"><h4>{esc(card.title)}</h4>'
        f"<p>{esc(card.text)}</p>{_cite(card)}</div>"
    )


def about_html(app: App) -> str:
    cards = platform_cards(app)
    if not cards:
        return (
            '<p class="ww-empty">Geen lessen of hypothesen gevonden. Voeg op het tabblad '
            "<em>Corpus</em> de reflectie van Regioplan toe (of indexeer het meegeleverde "
            "rapport).</p>"
        )
    out = []
    for card in cards:
        if card.kind == "les":
            inner = "".join(_hypothesis_html(h) for h in card.hypotheses)
            out.append(
                f'<article class="ww-card ww-lesson"><h3>{esc(card.title)}</h3>'
                f"<p>{esc(card.text)}</p>{_cite(card)}{inner}</article>"
            )
        else:
            out.append(f'<article class="ww-card">{_hypothesis_html(card)}</article>')
    return (
        '<div class="ww-about"><p class="ww-hint">De geleerde lessen en de hypothesen '
        "waarmee het platform verder werkt, zoals de rapporten ze formuleren. Elke kaart "
        "noemt rapport, paragraaf en pagina.</p>"
        f'<div class="ww-cards">{"".join(out)}</div></div>'
    )
