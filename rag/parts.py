"""A question of several parts ("Hoeveel jongeren deden mee en hoeveel vonden werk?") is read as
its parts, each answered on its own, so the answer can say which part the reports do not answer.

Only a split the wording makes plain: " en " / ", en " / "? " directly before a question word
("wat", "welke", "hoeveel", "waarom", ...), each part with a word of its own to look for. An
elliptical second part ("... en hoe hoog in de zomer van 2020?") takes the first part's subject
("Hoe hoog was de jeugdwerkloosheid begin 2018"): the first part's words up to its verb and
subject, before its own.
"""

from __future__ import annotations

import re

from .answerability import topic_words, verb_like

_WH = r"(?:wat|welke|welk|wie|wanneer|waar|waarom|waardoor|waarmee|hoeveel|hoe|hoelang)"
_SPLIT = re.compile(rf"(?:,?\s+en\s+|\?\s+(?:[Ee]n\s+)?)(?={_WH}\b)", re.IGNORECASE)
_ENGLISH_SPLIT = re.compile(
    r"(?:,?\s+and\s+|\?\s+(?:[Aa]nd\s+)?)(?=(?:what|which|who|when|where|why|how)\b)",
    re.IGNORECASE,
)
MAX_PARTS = 3


def split_parts(question: str) -> list[str]:
    """The parts of a question, each ending in "?"; the question itself when it has one."""
    text = " ".join(question.split())
    head, _, _ = text.rpartition(". ")  # a situation told first is context, not a part
    context, asked = (head + ". ", text[len(head) + 2 :]) if head else ("", text)
    pieces = [p.strip(" ,?") for p in _SPLIT.split(asked)]
    if len(pieces) == 1:
        pieces = [p.strip(" ,?") for p in _ENGLISH_SPLIT.split(asked)]
    pieces = [p for p in pieces if p]
    if not 2 <= len(pieces) <= MAX_PARTS or any(not topic_words(p) for p in pieces):
        return [question]
    first = pieces[0]
    parts = [first + "?"]
    for piece in pieces[1:]:
        own = {w.lower() for w in piece.split()}
        if not any(verb_like(w.lower()) for w in piece.split()[1:]):  # "welke na het pilotjaar"
            subject = [
                w
                for w in topic_words(first)
                if w.lower() not in own and not verb_like(w.lower()) and not w[:1].isdigit()
            ]
            if subject:
                piece = f"{piece} ({' '.join(subject)})"
        parts.append(piece[0].upper() + piece[1:] + "?")
    return [context + p for p in parts]
