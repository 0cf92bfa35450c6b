"""Learning from review: a project's accepted and changed codings become training data.

`watwerkt project retrain PROJECT` adds, for every segment a human coder accepted or changed,
the CIMO code they kept (a CIMO sub-code counts as its parent; a kept decision without a CIMO
code says "no CIMO code applies": label none) and the themes they kept, with the segment's
context (the interviewer's question or the previous sentence) and its transcript as group, to
the built-in training data; refits; and suggests again for every transcript of the project.
The new suggestions carry the new model version (its fingerprint covers the project's
examples), so the store keeps which model said what. Rejections and the assistant's own
codings are not used: a rejection says what a segment is not, not what it is.

`project add` and `code --project` suggest with the same project suggester, so a transcript
added after a review is suggested by what the coders taught; a model is refitted only when
the reviewed codings changed, and cached by its fingerprint under WATWERKT_HOME/models.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from .classify import Suggester
from .codebook import CIMO, Codebook
from .models import Evidence, Transcript
from .project import ASSISTANT_PREFIX, ProjectStore
from .project_add import suggest_stored
from .segment import segment_contexts
from .training import Example
from .transcripts import parse_turns

LEARNED = ("accepted", "changed")


def _cimo_of(code: str, codebook: Codebook) -> str | None:
    if code in CIMO:
        return code
    found = next((c for c in codebook.codes if c.id == code), None)
    return found.parent if found is not None and found.parent in CIMO else None


def project_examples(store: ProjectStore) -> list[Example]:
    """Training examples from the project's human codings with status accepted or changed.

    Where coders disagree on a segment's CIMO code, the code most of them kept is used; a tie
    teaches nothing and the segment is left out."""
    codebook = store.codebook()
    themes = {t.id for t in codebook.themes}
    decisions: dict[int, dict[str, list[str]]] = defaultdict(dict)
    for c in store.codings():
        if c.status in LEARNED and c.code and not c.coder.startswith(ASSISTANT_PREFIX):
            decisions[c.segment_id].setdefault(c.coder, []).append(c.code)
    if not decisions:
        return []
    out = []
    for stored in store.transcripts():
        segs = store.segments(stored.id)
        transcript = Transcript(
            stored.name, stored.text, parse_turns(stored.text), stored.pseudonymised
        )
        contexts = segment_contexts(transcript, [s.as_segment() for s in segs])
        for seg, context in zip(segs, contexts, strict=True):
            by_coder = decisions.get(seg.id)
            if not by_coder:
                continue
            votes: Counter[str] = Counter()
            kept_themes: Counter[str] = Counter()
            for codes in by_coder.values():
                cimo = {x for x in (_cimo_of(code, codebook) for code in codes) if x}
                votes[cimo.pop() if len(cimo) == 1 else "none" if not cimo else "?"] += 1
                kept_themes.update(code for code in codes if code in themes)
            ranked = votes.most_common()
            if ranked[0][0] == "?" or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
                continue
            out.append(
                Example(
                    seg.text,
                    ranked[0][0],
                    tuple(sorted(t for t, n in kept_themes.items() if 2 * n > len(by_coder))),
                    "project",
                    f"{store.name}/{stored.name}/{seg.key}",
                    context,
                    f"project:{stored.name}",
                )
            )
    return out


def project_suggester(store: ProjectStore, embedder, cache_dir: Path | None) -> Suggester:
    """The suggester for a project: the built-in training data plus what its coders accepted or
    changed (the shipped model while they have reviewed nothing)."""
    from .pipeline import training_examples

    codebook = store.codebook()
    suggester = Suggester(codebook, embedder, cache_dir)
    base = training_examples(codebook)
    learned = project_examples(store)
    model = suggester.load_or_fit(base)
    if learned:
        # the built-in examples' vectors come with the base model: only the project's
        # segments and their contexts are embedded
        suggester._vectors.update(zip(model.train_texts, model.train_vectors, strict=True))
        suggester.load_or_fit(base + learned)
    return suggester


def retrain(
    store: ProjectStore,
    embedder,
    cache_dir: Path | None,
    report_search: Callable[[str], Evidence | None] | None = None,
) -> dict[str, object]:
    """Refit on the project's reviewed codings and suggest again for all its transcripts."""
    learned = project_examples(store)
    suggester = project_suggester(store, embedder, cache_dir)
    assert suggester.model is not None
    suggested = {
        t.name: suggest_stored(store, t, suggester, report_search) for t in store.transcripts()
    }
    return {
        "project": store.name,
        "model": suggester.model.name,
        "learned": len(learned),
        "learned_by_label": dict(Counter(e.label for e in learned)),
        "suggested": suggested,
    }
