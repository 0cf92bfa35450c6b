"""Adding transcripts to a project: read, pseudonymise, segment and store each file, then
suggest codes with the project's suggester (``coding.retrain.project_suggester``: the built-in
training data plus what the coders accepted or changed) and, for a codebook the coder brought,
by similarity to its codes (``coding.foreign``).

``add_and_suggest`` is the one sequence behind ``watwerkt project add`` and the app's Team tab;
``watwerkt code --project`` and ``watwerkt project retrain`` use its parts. What suggesting
needs (the embedder, the model cache, the report search) comes from the caller through
``SuggestTools``, inside whatever lock the caller holds on the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CodingError
from .models import CodedTranscript, Evidence, Transcript
from .project import ProjectStore, StoredTranscript

ReportSearch = Callable[[str], Evidence | None]


@dataclass(frozen=True, slots=True)
class SuggestTools:
    """What suggesting needs: the embedder, where fitted models are cached, and the report
    search that finds a passage as evidence per segment (None: no evidence)."""

    embedder: Any
    cache_dir: Path | None
    report_search: ReportSearch | None = None


@dataclass(frozen=True, slots=True)
class Added:
    """A transcript added to a project and how many of its segments got a suggestion."""

    transcript: StoredTranscript
    suggested: int


def import_transcript(
    store: ProjectStore,
    path: Path,
    pseudonymiser: Callable[[str], str] | None,
    *,
    alliance: str | None = None,
    role: str | None = None,
    date: str | None = None,
) -> StoredTranscript:
    """Read, pseudonymise (when given), segment and store one transcript file."""
    from .segment import segment
    from .transcripts import load_transcript

    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    transcript = load_transcript(path, pseudonymiser)
    return store.add_transcript(
        transcript,
        segment(transcript),
        source_sha256=digest,
        alliance=alliance,
        role=role,
        date=date,
    )


def suggest_stored(store: ProjectStore, stored: StoredTranscript, suggester, report_search=None):
    """Run the suggester on a stored transcript's segments and keep its suggestions."""
    from .segment import segment_contexts
    from .transcripts import parse_turns

    segments = [s.as_segment() for s in store.segments(stored.id)]
    transcript = Transcript(
        stored.name, stored.text, parse_turns(stored.text), stored.pseudonymised
    )
    contexts = segment_contexts(transcript, segments)
    coded = suggester.suggest(segments, report_search=report_search, contexts=contexts)
    assert suggester.model is not None
    return store.add_suggestions(
        stored.id, CodedTranscript(transcript, tuple(coded), suggester.model.name)
    )


def import_files(
    store: ProjectStore,
    paths: Sequence[Path],
    pseudonymiser: Callable[[str], str] | None,
    *,
    alliance: str | None = None,
    role: str | None = None,
    date: str | None = None,
) -> list[StoredTranscript]:
    """Store several files (all or, on a missing one, none), then free the pseudonymiser's
    lookup structures so the models loaded after it do not add to the peak memory."""
    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise CodingError(f"{missing[0]}: no such file; give .txt, .md, .docx, .vtt or .srt files")
    added = [
        import_transcript(store, p, pseudonymiser, alliance=alliance, role=role, date=date)
        for p in paths
    ]
    if pseudonymiser is not None:
        from .pseudonymise import release

        release()
    return added


def suggest_transcripts(
    store: ProjectStore, transcripts: Iterable[StoredTranscript], tools: SuggestTools
) -> dict[str, int]:
    """Suggest codes for stored transcripts with the project's suggester, and foreign codes by
    similarity; transcript name -> segments with a suggestion."""
    from .foreign import suggest_foreign_stored
    from .retrain import project_suggester

    suggester = project_suggester(store, tools.embedder, tools.cache_dir)
    known = suggester.model.themes if suggester.model is not None else {}
    out = {}
    for t in transcripts:
        out[t.name] = suggest_stored(store, t, suggester, tools.report_search)
        suggest_foreign_stored(store, t, suggester.embedder, known)
    return out


def add_and_suggest(
    store: ProjectStore,
    paths: Sequence[Path],
    pseudonymiser: Callable[[str], str] | None,
    tools: Callable[[], AbstractContextManager[SuggestTools]] | None,
    *,
    alliance: str | None = None,
    role: str | None = None,
    date: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Added]:
    """Import the files, then (when ``tools`` is given) suggest codes for them: ``tools()`` is
    entered only for the suggesting, so a caller can hold the index's read lock just then.
    ``progress`` hears "import" and "suggest" as each step starts."""
    if progress:
        progress("import")
    added = import_files(store, paths, pseudonymiser, alliance=alliance, role=role, date=date)
    if tools is None or not added:
        return [Added(t, 0) for t in added]
    if progress:
        progress("suggest")
    with tools() as chosen:
        suggested = suggest_transcripts(store, added, chosen)
    return [Added(t, suggested.get(t.name, 0)) for t in added]
