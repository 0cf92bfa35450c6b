"""Tell an interview transcript from a report, so that `watwerkt ingest` never indexes one.

A transcript holds raw names and the interviewer's words; indexed as a report, `ask` would quote
it as a finding. It is recognised by its shape, not its words: caption cues (``00:00:01.000 -->``)
or most lines opening with a speaker label (``I:``/``R:``, ``Interviewer:``, ``Naam:``,
``[Naam]``, optionally after a timestamp). A report that quotes a respondent now and then has
such lines too, but only a few among many; a fact sheet ("Doelgroep: ...", "Aanpak: ...") or a
list of questions ("Vraag: ...", "Antwoord: ...") has many, but its labels are Dutch words, and
only names (words outside the Dutch lexicon), role words and bracketed labels count as speakers.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from .clean import _is_dutch_word

_TIMESTAMP = r"(?:\[?\(?\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?\)?\]?\s*)?"
_LABEL_RE = re.compile(
    rf"^\s*{_TIMESTAMP}[*_]{{0,2}}"
    r"(?:\[(?P<bracket>[^\W\d][^\]\n]{0,39})\]:?"
    r"|(?P<name>[A-ZÀ-Ý][\w'.-]{0,30}(?:\s[A-ZÀ-Ý][\w'.-]{0,30}){0,2}|[A-Z])\s?:)"
    r"[*_]{0,2}\s+\S"
)
_CUE_RE = re.compile(r"^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?\s*-->")
INTERVIEW_LABELS = frozenset(
    {
        "i",
        "r",
        "int",
        "resp",
        "interviewer",
        "interviewster",
        "respondent",
        "geïnterviewde",
        "geinterviewde",
        "onderzoeker",
        "moderator",
        "gespreksleider",
    }
)
ROLE_LABELS = frozenset(
    {
        "jongere",
        "coach",
        "jobcoach",
        "begeleider",
        "trajectbegeleider",
        "docent",
        "mentor",
        "werkgever",
        "deelnemer",
        "leerling",
        "student",
        "consulent",
        "klantmanager",
        "ouder",
        "moeder",
        "vader",
    }
)
MIN_TURNS = 6  # fewer labelled lines than this is a quote, not a conversation
MIN_SHARE_INTERVIEW = 0.10  # of non-empty lines, when the labels are I:/R:/Interviewer:/...
MIN_SHARE_NAMES = 0.25  # of non-empty lines, when the labels are names or other words
MIN_CUES = 3


def transcript_evidence(text: str) -> str | None:
    """Why ``text`` looks like an interview transcript, in words; None when it does not.

    The reason describes the shape (how many lines carry a speaker label) and never quotes
    the labels, which are often names.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    cues = sum(1 for line in lines if _CUE_RE.match(line))
    if cues >= MIN_CUES or lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        return f"{cues} caption cues (00:00:01.000 --> ...), as in a .vtt/.srt transcript"
    labels = []
    speakers = []  # the labels that can name a person (see the module docstring)
    for line in lines:
        match = _LABEL_RE.match(line)
        if match:
            label = (match.group("bracket") or match.group("name")).strip().lower()
            labels.append(label)
            if match.group("bracket") or _speakerish(label):
                speakers.append(label)
    if len(labels) < MIN_TURNS:
        return None
    counts = Counter(labels)
    share = len(labels) / len(lines)
    interview = sum(n for label, n in counts.items() if label.rstrip(".") in INTERVIEW_LABELS)
    changes = sum(1 for a, b in itertools.pairwise(labels) if a != b)
    described = f"{len(labels)} of {len(lines)} lines open with a speaker label"
    if interview >= 3 and len(counts) >= 2 and share >= MIN_SHARE_INTERVIEW:
        return f"{described} such as I:, R: or Interviewer:"
    recurring = [label for label, n in Counter(speakers).items() if n >= 3]
    if (
        len(speakers) / len(lines) >= MIN_SHARE_NAMES
        and len(recurring) >= 2
        and len(counts) <= 12
        and changes >= len(labels) // 2
    ):
        return f"{described} (Naam: ...), taking turns"
    return None


def _speakerish(label: str) -> bool:
    first = label.rstrip(".").split()[0]
    return label in ROLE_LABELS or label in INTERVIEW_LABELS or not _is_dutch_word(first)
