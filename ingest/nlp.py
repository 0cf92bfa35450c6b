"""The Dutch spaCy pipeline, shared by chunking (sentences) and coding (lemmas, matcher).

``nl_core_news_*`` is used when one is installed; otherwise ``spacy.blank("nl")`` with a
sentencizer and a lemmatizer component backed by simplemma (good Dutch lemmas, offline).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

log = logging.getLogger(__name__)

TRAINED_PIPELINES = ("nl_core_news_lg", "nl_core_news_md", "nl_core_news_sm")


def _register_lemmatizer() -> None:
    from spacy.language import Language

    if "simplemma_lemmatizer" in Language.factories:
        return

    @Language.component("simplemma_lemmatizer")
    def simplemma_lemmatizer(doc: Any) -> Any:
        import simplemma

        for token in doc:
            if token.is_alpha:
                token.lemma_ = simplemma.lemmatize(token.lower_, lang="nl").lower()
            else:
                token.lemma_ = token.lower_
        return doc


PLACEHOLDER_RE = re.compile(r"^\[[A-Z]+-\d+\]$")


def _keep_placeholders(nlp: Any) -> None:
    """Pseudonym placeholders ("[PERSOON-3]") stay one token, so no sentence breaks inside."""
    token_match, url_match = nlp.tokenizer.token_match, nlp.tokenizer.url_match

    def whole(text: str) -> Any:  # before affixes are split
        return PLACEHOLDER_RE.match(text) or (token_match(text) if token_match else None)

    def inner(text: str) -> Any:  # after "," or "." are split off
        return PLACEHOLDER_RE.match(text) or (url_match(text) if url_match else None)

    nlp.tokenizer.token_match = whole
    nlp.tokenizer.url_match = inner


@lru_cache(maxsize=2)
def get_nlp(lemmas: bool = False) -> Any:
    """The Dutch pipeline; with ``lemmas`` it sets ``token.lemma_`` too."""
    import spacy

    for name in TRAINED_PIPELINES:
        try:
            nlp = spacy.load(name, exclude=[] if lemmas else ["lemmatizer", "ner"])
        except OSError:
            continue
        log.info("using spaCy pipeline %s", name)
        _keep_placeholders(nlp)
        return nlp
    nlp = spacy.blank("nl")
    _keep_placeholders(nlp)
    nlp.add_pipe(
        "sentencizer",
        config={"punct_chars": [".", "!", "?", "…", "\u3002"], "overwrite": False},
    )
    if lemmas:
        _register_lemmatizer()
        nlp.add_pipe("simplemma_lemmatizer")
    return nlp


def pipeline_name(nlp: Any) -> str:
    meta = getattr(nlp, "meta", {}) or {}
    return f"{meta.get('lang', 'nl')}_{meta.get('name', 'blank')}-{meta.get('version', '0')}"


def block_sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans of a text of blocks separated by blank lines; never across a block."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for block in text.split("\n\n"):
        if block.strip():
            spans.extend(sentence_spans(block, start=pos))
        pos += len(block) + 2
    return spans


def sentence_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (offsets shifted by ``start``).

    Leading and trailing whitespace is kept out of each span.
    """
    nlp = get_nlp()
    spans = []
    for offset, piece in _windows(text, min(WINDOW_CHARS, nlp.max_length)):
        for sent in nlp(piece).sents:
            s, e = offset + sent.start_char, offset + sent.end_char
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                spans.append((start + s, start + e))
    return spans


WINDOW_CHARS = 100_000  # spaCy refuses texts over nlp.max_length; a longer text goes in pieces


def _windows(text: str, size: int) -> list[tuple[int, str]]:
    """``text`` in pieces of at most ``size`` characters, cut after a sentence end or space.

    A sentence longer than a piece (a 5 MB line without punctuation) is cut at a space, or
    hard at ``size`` when it has none; every character lands in exactly one piece.
    """
    pieces: list[tuple[int, str]] = []
    pos = 0
    while len(text) - pos > size:
        window = text[pos : pos + size]
        cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "), window.rfind("\n"))
        if cut < size // 2:
            cut = window.rfind(" ")
        cut = cut + 1 if cut > 0 else size
        pieces.append((pos, window[:cut]))
        pos += cut
    pieces.append((pos, text[pos:]))
    return pieces
