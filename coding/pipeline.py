"""Code one transcript: import, pseudonymise, segment, suggest codes with evidence."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from .classify import Suggester
from .codebook import Codebook
from .models import CodedTranscript, Evidence, Transcript
from .segment import segment
from .training import codebook_examples, load_dev_set, report_examples, transcript_examples
from .transcripts import load_transcript

ReportSearch = Callable[[str], Evidence | None]


def training_examples(codebook: Codebook):
    """Development set + labelled transcript sentences + the report's labelled statements +
    the codebook's examples."""
    return [
        *load_dev_set(),
        *transcript_examples(),
        *report_examples(),
        *codebook_examples(codebook),
    ]


def make_suggester(codebook: Codebook, embedder, cache_dir: Path | None) -> Suggester:
    suggester = Suggester(codebook, embedder, cache_dir)
    suggester.load_or_fit(training_examples(codebook))
    return suggester


def pseudonymiser_for(mapping_path: Path, word_list: Sequence[str] = ()) -> Callable[[str], str]:
    """A function that pseudonymises a text and keeps the mapping (never exported) on disk."""
    from .pseudonymise import load_mapping, pseudonymise, save_mapping

    def run(text: str) -> str:
        mapping = load_mapping(mapping_path) if mapping_path.exists() else {}
        new_text, _, mapping = pseudonymise(text, word_list=word_list, mapping=mapping)
        mapping_path.parent.mkdir(parents=True, exist_ok=True)
        save_mapping(mapping, mapping_path)
        return new_text

    return run


def mapping_path_for(home: Path, path: Path) -> Path:
    """Where the name mapping of a transcript lives: WATWERKT_HOME/projects/<hash>/."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    return home / "projects" / digest / "pseudonyms.json"


def code_transcript(
    path: Path,
    suggester: Suggester,
    *,
    pseudonymiser: Callable[[str], str] | None = None,
    report_search: ReportSearch | None = None,
) -> CodedTranscript:
    return code_loaded(load_transcript(path, pseudonymiser), suggester, report_search)


def code_loaded(
    transcript: Transcript, suggester: Suggester, report_search: ReportSearch | None = None
) -> CodedTranscript:
    """Segment an imported (and pseudonymised) transcript and suggest codes."""
    segments = segment(transcript)
    coded = suggester.suggest(segments, report_search=report_search)
    assert suggester.model is not None
    return CodedTranscript(transcript, tuple(coded), suggester.model.name)
