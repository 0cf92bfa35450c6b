"""Labelled examples for the suggester: the development set, the report's own CIMO statements
and the codebook's examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .codebook import CIMO, Codebook
from .errors import CodingError

DEV_SET = Path(__file__).resolve().parent / "data" / "dev_segments.yaml"
# Respondent sentences of whole synthetic transcripts, labelled C/I/M/O/none by another author
# than the development set: spoken, colloquial Dutch. CIMO labels only (no themes).
TRANSCRIPT_SET = Path(__file__).resolve().parent / "data" / "transcript_sentences.yaml"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str  # C, I, M, O or "none"
    themes: tuple[str, ...] = ()
    source: str = "dev"  # "dev" | "report" | "codebook" | "transcripts" | "project"
    id: str = ""
    context: str = ""  # what was said just before it (the question, the previous sentence)
    group: str = ""  # its transcript: examples of one group are never each other's neighbours


def load_dev_set(path: Path = DEV_SET) -> list[Example]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CodingError(f"development set {path} cannot be read ({exc})") from exc
    out = []
    for row in data.get("segments", []):
        label = row.get("label") or "none"
        if label not in (*CIMO, "none"):
            raise CodingError(f"development set {path}: {row.get('id')}: label {label!r}")
        out.append(
            Example(
                str(row["text"]),
                label,
                tuple(row.get("themes") or ()),
                "dev",
                str(row.get("id", "")),
            )
        )
    return out


def transcript_examples(path: Path = TRANSCRIPT_SET) -> list[Example]:
    """The labelled sentences of whole transcripts (CIMO only: they train no themes)."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CodingError(f"transcript set {path} cannot be read ({exc})") from exc
    out = []
    previous: dict[str, str] = {}
    for i, row in enumerate(data.get("sentences", [])):
        label = row.get("label") or "none"
        if label not in (*CIMO, "none"):
            raise CodingError(f"transcript set {path}: item {i}: label {label!r}")
        # sentences are in transcript order; the interviewer's turns were not kept, so a
        # sentence's context is the respondent sentence before it
        group = str(row.get("file") or "")
        text = str(row["text"])
        context = previous.get(group, "") if group else ""
        out.append(Example(text, label, (), "transcripts", f"t-{i}", context, group))
        previous[group] = text
    return out


def codebook_examples(codebook: Codebook) -> list[Example]:
    return [
        Example(text, code.id, (), "codebook", f"{code.id}-{i}")
        for code in codebook.cimo
        for i, text in enumerate(code.examples)
    ]


def report_examples() -> list[Example]:
    """The reflection's own labelled statements: the items of its "rode draden" lists, whose
    group the report names ("Interventies richten zich op", "Als werkzame mechanismen",
    "Relevante contextfactoren", "gewenste uitkomsten")."""
    from corpus import CORPUS_DIR
    from ingest.document import load_document
    from ingest.nlp import block_sentence_spans
    from rag.cmo import classify_marked

    path = CORPUS_DIR / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
    if not path.exists():
        return []
    doc = load_document(path, report_id="regioplan-2020")
    out = []
    for s, e in doc.blocks:
        block = doc.text[s:e]
        if not block.startswith(("•", "o ")):
            continue
        for a, b in block_sentence_spans(block):
            sentence = block[a:b].lstrip("•o ").strip()
            group, marked = classify_marked(sentence, doc, s + a)
            if marked and group and len(sentence.split()) >= 5:
                out.append(Example(sentence, group, (), "report", f"report-{s + a}"))
    return out
