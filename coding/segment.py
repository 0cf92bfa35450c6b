"""Segmentation with spaCy: respondent turns into sentences, long ones split at a clause.

A sentence is split before a clause connective ("doordat", "waardoor", "omdat", "zodat", ...)
only where both parts carry content (enough content words). Interviewer turns are context and
are not segmented.
"""

from __future__ import annotations

from .models import Segment, Transcript

CONNECTIVES = frozenset(
    {
        "doordat",
        "waardoor",
        "omdat",
        "zodat",
        "want",
        "terwijl",
        "waarna",
        "nadat",
        "totdat",
        "hoewel",
        "maar",
        "dus",
        "daardoor",
        "daarom",
        "sindsdien",
    }
)
MIN_CONTENT_WORDS = 4
MIN_SPLIT_WORDS = 14


def _content_words(tokens) -> int:
    return sum(1 for t in tokens if t.is_alpha and not t.is_stop and len(t.text) > 2)


def _split_clauses(sent) -> list[tuple[int, int]]:
    """Character spans of a sentence, cut before connectives where both sides carry content."""
    tokens = list(sent)
    if len(tokens) < MIN_SPLIT_WORDS:
        return [(sent.start_char, sent.end_char)]
    cuts = [0]
    for i, tok in enumerate(tokens):
        if i == 0 or tok.lower_ not in CONNECTIVES:
            continue
        left, right = tokens[cuts[-1] : i], tokens[i:]
        if _content_words(left) >= MIN_CONTENT_WORDS and _content_words(right) >= MIN_CONTENT_WORDS:
            cuts.append(i)
    spans = []
    for a, b in zip(cuts, [*cuts[1:], len(tokens)], strict=True):
        spans.append((tokens[a].idx, tokens[b - 1].idx + len(tokens[b - 1].text)))
    return spans


def segment(transcript: Transcript) -> list[Segment]:
    """The codable segments of the respondents' turns, in order."""
    from ingest.nlp import get_nlp

    nlp = get_nlp(lemmas=True)
    text = transcript.text
    segments: list[Segment] = []
    for t_index, turn in enumerate(transcript.turns):
        if turn.role != "respondent":
            continue
        doc = nlp(text[turn.start : turn.end])
        for sent in doc.sents:
            for start, end in _split_clauses(sent):
                s, e = turn.start + start, turn.start + end
                while s < e and text[s] in " \t\n,;-–":
                    s += 1
                while e > s and text[e - 1] in " \t\n,;-–":
                    e -= 1
                if e <= s or not any(ch.isalnum() for ch in text[s:e]):
                    continue
                segments.append(
                    Segment(
                        id=f"seg-{len(segments) + 1:04d}",
                        speaker=turn.speaker,
                        start=s,
                        end=e,
                        text=text[s:e],
                        turn=t_index,
                        timestamp=turn.timestamp,
                    )
                )
    return segments


CONTEXT_CHARS = 300  # the end of a long question or previous turn is what a segment answers


def _tail(text: str, limit: int = CONTEXT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return cut[cut.find(" ") + 1 :] if " " in cut else cut


def segment_contexts(transcript: Transcript, segments: list[Segment]) -> list[str]:
    """What was said just before each segment: the previous segment of its turn, or, for a
    turn's first segment, the end of the turn before it (mostly the interviewer's question,
    which a short answer such as "Wisselend." takes its topic from)."""
    out: list[str] = []
    previous: Segment | None = None
    for seg in segments:
        if previous is not None and previous.turn == seg.turn:
            out.append(previous.text)
        else:
            k = seg.turn - 1
            while k >= 0 and transcript.turns[k].role == "context":
                k -= 1
            turn = transcript.turns[k] if 0 <= k < len(transcript.turns) else None
            out.append(_tail(transcript.text[turn.start : turn.end]) if turn else "")
        previous = seg
    return out
