"""Context–Mechanism–Outcome structure for answers about what works.

A question asks for CMO structure when it asks what works, why, for whom or under which
circumstances. Evidence sentences are grouped by the report's own markers: the Regioplan
"rode draden" lists open with "Interventies richten zich op", "Als werkzame mechanismen",
"Relevante contextfactoren" and name "uitkomsten"; a sub-item takes the group of the list item
it hangs under. Elsewhere, Dutch cue expressions decide, or the sentence stays ungrouped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.models import Document

GROUPS = {
    "I": "Interventies",
    "M": "Werkzame mechanismen",
    "C": "Context",
    "O": "Uitkomsten",
}
GROUP_ORDER = ("I", "M", "C", "O")

_CMO_QUESTION = re.compile(
    r"\b(wat\s+werkt|werkt\s+(het|dit|dat)|waarom|voor\s+wie|onder\s+welke\s+(omstandigheden|"
    r"voorwaarden)|in\s+welke\s+(omstandigheden|context)|welke\s+factoren|welke\s+"
    r"(mechanismen|randvoorwaarden|succesfactoren|werkzame)|hoe\s+werkt|werkzame\s+"
    r"(elementen|mechanismen|factoren)|what\s+works|for\s+whom|under\s+what|why\b)",
    re.IGNORECASE,
)

# The report's own markers, strongest evidence of a group.
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("I", re.compile(r"\binterventies?\s+richten\s+zich\b", re.I)),
    ("M", re.compile(r"\b(als\s+)?werkzame\s+mechanismen\b", re.I)),
    ("C", re.compile(r"\b(relevante\s+)?context\s*factoren\b", re.I)),
    ("O", re.compile(r"\b(gewenste|beoogde|te\s+verwachten)\s+uitkomsten?\b", re.I)),
)

# Cue expressions (weaker), for sentences outside the marked lists.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "O",
        re.compile(
            r"\b(uitkomsten?|resulte(ert|erde|ren)|leidt\s+tot|leidde\s+tot|"
            r"effect(en)?\s+(op|van)|(kan|kunnen)\s+leiden\s+tot|uitstroom|aan\s+het\s+werk|geplaatst|"
            r"toename\s+(van|in)|afname\s+(van|in)|bereikt)\b",
            re.I,
        ),
    ),
    (
        "M",
        re.compile(
            r"\b(doordat|waardoor|motivatie|zelfvertrouwen|vertrouwen|inzicht|"
            r"bewustwording|zich\s+gesteund|voelen|geloof\s+in|werkzaam|"
            r"mechanism\w*)\b",
            re.I,
        ),
    ),
    (
        "C",
        re.compile(
            r"\b(context\w*|omstandigheden|randvoorwaard\w*|afhankelijk\s+van|"
            r"de\s+mate\s+waarin|leeftijd|doelgroep|draagvlak|"
            r"arbeidsmarktkrapte|crisis|conjunctuur)\b",
            re.I,
        ),
    ),
    (
        "I",
        re.compile(
            r"\b(interventies?|programma\w*|lesprogramma|coaching|mentoring|"
            r"training\w*|begeleiding|trajecten?|workshops?|aanpak)\b",
            re.I,
        ),
    ),
)


def wants_cmo(question: str) -> bool:
    return _CMO_QUESTION.search(question) is not None


def has_marker(text: str) -> bool:
    return _marker(text) is not None


def _marker(text: str) -> str | None:
    for group, pattern in _MARKERS:
        if pattern.search(text):
            return group
    return None


def _list_parent(doc: Document, offset: int) -> str | None:
    """The text of the top-level list item ("• ...") that the block at ``offset`` hangs under."""
    blocks = list(doc.blocks)
    idx = next((i for i, (s, e) in enumerate(blocks) if s <= offset < e), None)
    if idx is None:
        return None
    for i in range(idx, max(-1, idx - 15), -1):
        s, e = blocks[i]
        text = doc.text[s:e]
        if text.startswith("•"):
            return text
        if i < idx and not text.startswith(("o ", "- ", "– ")):
            return None  # left the list
    return None


def classify(sentence: str, doc: Document | None = None, offset: int | None = None) -> str | None:
    """The CMO group of an evidence sentence, or None when nothing marks it."""
    return classify_marked(sentence, doc, offset)[0]


def classify_marked(
    sentence: str, doc: Document | None = None, offset: int | None = None
) -> tuple[str | None, bool]:
    """(group, marked): marked when the report's own CMO markers decide the group."""
    found = _marker(sentence)
    if found:
        return found, True
    if doc is not None and offset is not None:
        parent = _list_parent(doc, offset)
        if parent:
            found = _marker(parent)
            if found:
                return found, True
    for group, pattern in _CUES:
        if pattern.search(sentence):
            return group, False
    return None, False


def order_groups(groups: Sequence[str | None]) -> list[str | None]:
    present = set(groups)
    ordered: list[str | None] = [g for g in GROUP_ORDER if g in present]
    if None in present:
        ordered.append(None)
    return ordered
