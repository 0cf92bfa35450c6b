"""Suggestions for the codes of a codebook the coder brings (NVivo, QualCoder, Taguette, ...).

The trained suggester knows CIMO and the built-in themes; a foreign codebook's codes have no
labelled examples and no cue lemmas, so it would never suggest them. Here they are suggested by
similarity, with the embedder the suggester uses (``rag.embed``):

* a code is described by its name and description, and by the segments the coder coded with it
  (``examples``: from a project's codings, or from the selections inside the ``.qdpx`` the
  codebook came from);
* a segment's similarity to a code is the larger of its cosine to the description and the mean
  of its three highest cosines to the coder's examples of the code (not counting itself);
* embedding cosines sit in a narrow band for every pair of texts, so a raw cosine says little;
  what says something is a segment standing out *for that code* among the transcript's
  segments. Per code the cosines are standardised over the transcript's segments (z), and the
  score is ``1 / (1 + exp(-(z - 1)))``: 0.5 (the export threshold) at one standard deviation
  above the transcript's mean. A segment gets at most ``MAX_PER_SEGMENT`` such codes. A
  transcript of fewer than ``MIN_SEGMENTS`` segments has no spread to stand out from and gets
  none.

No accuracy is claimed for these suggestions: no labelled data exists for a codebook nobody
shipped. They are a starting point the coder accepts, changes or rejects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from .codebook import CIMO, Code, Codebook
from .models import CodedSegment, CodedTranscript, CodeSuggestion, Evidence

MAX_PER_SEGMENT = 3
MIN_SEGMENTS = 5
TOP_EXAMPLES = 3


def foreign_codes(
    codebook: Codebook, known: Iterable[str] = (), mapped: Iterable[str] = ()
) -> list[Code]:
    """The codable codes the trained suggester cannot score: no cues, no trained model
    (``known``), not a CIMO code and not mapped to a CIMO role (``mapped``)."""
    skip = set(known) | set(mapped) | set(CIMO)
    return [c for c in codebook.codes if c.codable and not c.cues and c.id not in skip]


def _describe(code: Code) -> str:
    return f"{code.name}. {code.definition}".strip() if code.definition else code.name


def similarity(
    texts: Sequence[str],
    codes: Sequence[Code],
    embedder,
    examples: Mapping[str, Sequence[str]] | None = None,
) -> np.ndarray:
    """Segments x codes: the larger of the cosine to the code's description and the mean of the
    top cosines to the coder's examples of the code."""
    if not texts or not codes:
        return np.zeros((len(texts), len(codes)), dtype=np.float32)
    seg = np.asarray(embedder.embed_query(list(texts)), dtype=np.float32)
    lab = np.asarray(embedder.embed_query([_describe(c) for c in codes]), dtype=np.float32)
    sims = seg @ lab.T
    for j, code in enumerate(codes):
        mine = [t for t in (examples or {}).get(code.id, ()) if t.strip()]
        if mine:
            ex = np.asarray(embedder.embed_query(mine), dtype=np.float32)
            to_examples = seg @ ex.T
            # a segment that is itself an example says nothing about it (as the suggester
            # leaves a training example out of its own nearest neighbours)
            to_examples[np.asarray([[t == e for e in mine] for t in texts])] = -1.0
            top = np.sort(to_examples, axis=1)[:, -TOP_EXAMPLES:]
            sims[:, j] = np.maximum(sims[:, j], top.mean(axis=1))
    return sims


def scores(sims: np.ndarray) -> np.ndarray:
    """Per code, how far a segment stands out among the transcript's segments, as 0..1."""
    if sims.shape[0] < MIN_SEGMENTS:
        return np.zeros_like(sims)
    spread = sims.std(axis=0)
    z = (sims - sims.mean(axis=0)) / np.where(spread > 1e-9, spread, np.inf)
    return 1.0 / (1.0 + np.exp(-(z - 1.0)))


def add_foreign_suggestions(
    coded: CodedTranscript,
    codebook: Codebook,
    embedder,
    *,
    known: Iterable[str] = (),
    mapped: Iterable[str] = (),
    examples: Mapping[str, Sequence[str]] | None = None,
    threshold: float = 0.5,
) -> CodedTranscript:
    """``coded`` with suggestions for the foreign codes added to each segment's themes."""
    codes = foreign_codes(codebook, known, mapped)
    texts = [cs.segment.text for cs in coded.segments]
    if not codes or not texts:
        return coded
    score = scores(similarity(texts, codes, embedder, examples))
    out: list[CodedSegment] = []
    for i, cs in enumerate(coded.segments):
        best = np.argsort(-score[i])[:MAX_PER_SEGMENT]
        added = [
            CodeSuggestion(
                codes[j].id,
                round(float(score[i, j]), 4),
                (Evidence("similarity", _describe(codes[j])[:120], codes[j].id),),
            )
            for j in best
            if score[i, j] >= threshold and not math.isnan(float(score[i, j]))
        ]
        themes = sorted([*cs.themes, *added], key=lambda s: -s.score)
        out.append(replace(cs, themes=tuple(themes)))
    return replace(coded, segments=tuple(out))


def examples_from_qdpx(path: Path, codebook: Codebook) -> dict[str, list[str]]:
    """Code id -> the texts coded with it in the ``.qdpx`` at ``path`` (the coder's codings);
    empty for a ``.qdc`` or a project without coded text."""
    from .refi_import import _read_sources, _Reader
    from .refi_safe import Archive

    path = Path(path)
    if path.suffix.lower() != ".qdpx":
        return {}
    out: dict[str, list[str]] = {}
    with Archive(path) as archive:
        reader = _Reader(archive, archive.project())
        for source in _read_sources(reader, codebook):
            for (a, b), rows in source.spans.items():
                for _, code, _, _ in rows:
                    out.setdefault(code, []).append(source.text[a:b])
    return out


def suggest_foreign_stored(store, stored, embedder, known: Iterable[str] = ()) -> int:
    """Add similarity suggestions for the project codebook's foreign codes to the stored
    suggestions of one transcript, with every coder's kept codings in the project as examples;
    the number of segments that got one."""
    from .models import Transcript

    codebook = store.codebook()
    if not foreign_codes(codebook, known):
        return 0
    suggestions = store.suggestions(transcript_id=stored.id)
    if not suggestions:
        return 0
    texts = {s.id: s.text for s in store.segments()}
    examples: dict[str, list[str]] = {}
    for c in store.codings():
        if c.kept:
            examples.setdefault(c.code, []).append(texts[c.segment_id])
    segments = [s for s in store.segments(stored.id) if s.id in suggestions]
    model = next(iter(suggestions.values())).model
    coded = CodedTranscript(
        Transcript(stored.name, stored.text, (), stored.pseudonymised),
        tuple(
            CodedSegment(
                s.as_segment(),
                suggestions[s.id].cimo,
                suggestions[s.id].scores,
                tuple(CodeSuggestion(code, score) for code, score in suggestions[s.id].themes),
                suggestions[s.id].evidence,
            )
            for s in segments
        ),
        model,
    )
    added = add_foreign_suggestions(coded, codebook, embedder, known=known, examples=examples)
    store.add_suggestions(stored.id, added)
    before = {cs.segment.id: len(cs.themes) for cs in coded.segments}
    return sum(1 for cs in added.segments if len(cs.themes) > before[cs.segment.id])
