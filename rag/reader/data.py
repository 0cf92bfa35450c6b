"""Training pairs for the reader: (question, candidate sentence) -> answers or not.

Questions come from the calibration and training gold sets (``tests/data/gold_retrieval.yaml``,
``tests/data/gold_ask_train.yaml``) and the reader sets written blind from the report text
(``tests/data/reader/w*.yaml``: question, lang, form, answerable, evidence as verbatim sentences,
kind for unanswerable ones, previous for a follow-up). Never the held-out set
(``gold_ask_holdout.yaml``) nor a blind batch (``tests/data/reader/blind/``): ``load_questions``
refuses them, and drops training questions (near-)identical to a held-out one.

A candidate is labelled as answering when an evidence string holds it, or it holds one (text
normalised: case, whitespace, line-break hyphenation, quote marks). Every candidate of an
unanswerable question is a negative, and so are the other sentences of the retrieved passages of
an answerable one (hard negatives).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..evaluate import normalise

FORBIDDEN = ("gold_ask_holdout", "/blind", "/foreign/")  # /blind: every blind batch
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


def training_sets() -> list[Path]:
    """The question sets both readers train on: the gold sets and the blind-written reader
    sets (rag/train_reader.py and benchmarks/train_answer_model.py read them here)."""
    return [
        DATA / "gold_retrieval.yaml",
        DATA / "gold_ask_train.yaml",
        *sorted((DATA / "reader").glob("w*.yaml")),
    ]


def check_dev_sets() -> list[Path]:
    """Questions for choosing the cross-check's operating point only (``dev/``): written blind
    like the reader sets, never trained on by either reader."""
    return sorted((DATA / "reader" / "dev").glob("*.yaml"))


def held_out_sets() -> list[Path]:
    """The sets no reader trains or tunes on: the held-out set, the blind batches, the foreign
    reports' questions."""
    return [
        DATA / "gold_ask_holdout.yaml",
        *sorted((DATA / "reader").glob("blind*/*.yaml")),
        *sorted((DATA / "reader" / "foreign").glob("*.yaml")),
    ]


@dataclass(frozen=True, slots=True)
class ReaderQuestion:
    id: str
    question: str
    answerable: bool
    evidence: tuple[str, ...]
    source: str  # file stem
    lang: str = "nl"
    form: str = ""
    kind: str = ""  # for unanswerable ones: hard, off_topic, wrong_premise

    @property
    def split(self) -> str:
        return split_of(self.source, self.id)


def split_of(source: str, qid: str) -> str:
    """ "dev" for an eighth of the blind-written reader questions (fixed by file stem and id),
    else "train"; the gold sets are all training. The cross-encoder never trains on dev, so its
    cross-check with the answer model is fitted there (benchmarks/train_answer_model.py)."""
    if not source.startswith("w"):
        return "train"
    digest = hashlib.sha1(f"{source}:{qid}".encode()).digest()
    return "dev" if digest[0] % 8 == 0 else "train"


def answers(sentence: str, evidence: Sequence[str]) -> bool:
    """Whether ``sentence`` is (part of) the evidence, or holds an evidence string."""
    s = normalise(sentence).rstrip(" .;:")
    if len(s) < 12:
        return False
    for ev in evidence:
        e = normalise(ev)
        if e.rstrip(" .;:") in s or (len(s) >= 25 and s in e):
            return True
    return False


def _check(path: Path) -> None:
    if any(f in path.as_posix() for f in FORBIDDEN):
        raise ValueError(f"{path}: held-out data is never used to train or tune the reader")


def read_set(path: Path, training: bool = True) -> list[ReaderQuestion]:
    """One question file, in the gold-set format or the reader-set format; held-out files
    only when not ``training`` (to evaluate)."""
    path = Path(path)
    if training:
        _check(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: list[ReaderQuestion] = []
    if isinstance(data, dict):  # gold-set format: questions + answerable_false
        for q in data.get("questions", []):
            english = q.get("kind") == "english"
            out.append(
                ReaderQuestion(
                    q["id"],
                    q["question"],
                    True,
                    tuple(q["evidence"]),
                    path.stem,
                    "en" if english else "nl",
                    q.get("kind", ""),
                )
            )
        for q in data.get("answerable_false", []):
            out.append(ReaderQuestion(q["id"], q["question"], False, (), path.stem, kind="gold"))
        return out
    for q in data or []:
        question = q["question"]
        if q.get("previous"):  # a follow-up is read with the question it follows
            question = f"{q['previous']} {question}"
        out.append(
            ReaderQuestion(
                q["id"],
                question,
                bool(q.get("answerable", True)),
                tuple(q.get("evidence") or ()),
                path.stem,
                q.get("lang", "nl"),
                q.get("form", ""),
                q.get("kind", ""),
            )
        )
    return out


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def near_duplicates(
    questions: Iterable[ReaderQuestion], held_out: Sequence[str], limit: float = 0.8
) -> set[str]:
    """Ids of questions whose words overlap a held-out question's by ``limit`` (Jaccard)."""
    held = [_words(h) for h in held_out]
    out = set()
    for q in questions:
        w = _words(q.question)
        if any(w and h and len(w & h) / len(w | h) >= limit for h in held):
            out.add(f"{q.source}:{q.id}")
    return out


def held_out_questions(path: Path) -> list[str]:
    """The question texts of a held-out set, only to keep near-copies out of training."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        items = [*data.get("questions", []), *data.get("answerable_false", [])]
    else:
        items = data or []
    return [str(q["question"]) for q in items]


def load_questions(
    paths: Sequence[Path], held_out: Sequence[Path] = ()
) -> tuple[list[ReaderQuestion], int]:
    """All questions of ``paths``, minus near-copies of ``held_out`` questions (and how many)."""
    questions = [q for p in paths for q in read_set(p)]
    texts = [t for h in held_out if Path(h).exists() for t in held_out_questions(h)]
    dropped = near_duplicates(questions, texts)
    kept = [q for q in questions if f"{q.source}:{q.id}" not in dropped]
    return kept, len(questions) - len(kept)
