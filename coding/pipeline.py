"""Code one transcript: import, pseudonymise, segment, suggest codes with evidence."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from .classify import Suggester
from .codebook import Codebook
from .errors import CodingError
from .models import CodedTranscript, Evidence, Transcript
from .segment import segment, segment_contexts
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


class ProjectPseudonymiser:
    """Pseudonymises a text, keeps the mapping (never exported) on disk, and reports what it
    replaced without the original text: placeholder, kind, evidence, confidence and offsets in
    the pseudonymised text (``report``).

    The coder's additions ("this is a name") and corrections ("this is no name") live in
    ``coder_names.json`` beside the project folders, so a name added once is added in every
    transcript of this home."""

    def __init__(self, mapping_path: Path, word_list: Sequence[str] = ()) -> None:
        self.mapping_path = Path(mapping_path)
        self.word_list = list(word_list)
        self.report: list[dict[str, object]] = []

    def __call__(self, text: str) -> str:
        from .pseudonymise import load_mapping, pseudonymise, save_mapping

        mapping = load_mapping(self.mapping_path) if self.mapping_path.exists() else {}
        coder = load_coder_names(self.mapping_path.parent.parent)
        new_text, replacements, mapping = pseudonymise(
            text, word_list=[*self.word_list, *coder["add"]], mapping=mapping, keep=coder["keep"]
        )
        self.mapping_path.parent.mkdir(parents=True, exist_ok=True)
        save_mapping(mapping, self.mapping_path)
        self.report, shift = [], 0
        for r in replacements:
            start = r.start + shift
            shift += len(r.placeholder) - (r.end - r.start)
            self.report.append(
                {
                    "placeholder": r.placeholder,
                    "kind": r.kind,
                    "evidence": r.evidence,
                    "confidence": round(r.confidence, 2),
                    "uncertain": r.uncertain,
                    "start": start,
                    "end": start + len(r.placeholder),
                }
            )
        return new_text


def pseudonymiser_for(mapping_path: Path, word_list: Sequence[str] = ()) -> ProjectPseudonymiser:
    """A function that pseudonymises a text and keeps the mapping (never exported) on disk."""
    return ProjectPseudonymiser(mapping_path, word_list)


def coder_names_path(projects: Path) -> Path:
    return Path(projects) / "coder_names.json"


def load_coder_names(projects: Path) -> dict[str, list[str]]:
    """{"add": word-list entries the coder added, "keep": words the coder marked as no name}."""
    path = coder_names_path(projects)
    if not path.exists():
        return {"add": [], "keep": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CodingError(
            f"{path} cannot be read ({type(exc).__name__}); remove it or fix it"
        ) from exc
    return {k: [str(w) for w in data.get(k, [])] for k in ("add", "keep")}


def save_coder_names(projects: Path, names: dict[str, list[str]]) -> None:
    path = coder_names_path(projects)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = {k: list(dict.fromkeys(names.get(k, []))) for k in ("add", "keep")}
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


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
    contexts = segment_contexts(transcript, segments)
    coded = suggester.suggest(segments, report_search=report_search, contexts=contexts)
    assert suggester.model is not None
    return CodedTranscript(transcript, tuple(coded), suggester.model.name)
