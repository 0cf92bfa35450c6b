"""Score de-identification against annotated transcripts (``benchmarks/data/deid/``).

An annotation lists every identifying occurrence in text order (``identifiers``: text, kind);
``public_terms.yaml`` lists terms that must survive. For a detector's replaced spans (offsets in
the original text):

- an occurrence is *removed* when no word of it survives: every word not covered by a
  replacement is a particle ("el", "van") or an everyday Dutch word ("Installatiebedrijf" of
  "Installatiebedrijf [PERSOON-3]" is no leak, "Ayoub" of "Ayoub [PERSOON-1]" is);
- recall is removed occurrences / all occurrences (whole word, case-sensitive: the search for
  each occurrence is), overall and per kind;
- a public-term occurrence outside every identifier is *over-replaced* when a replacement
  overlaps it; the over-replacement rate is over-replaced / all such occurrences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .deid_rules import PARTICLES, dutchness

Detector = Callable[[str], list[tuple[int, int]]]  # text -> replaced (start, end) spans


@dataclass(frozen=True, slots=True)
class Occurrence:
    text: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Annotated:
    name: str
    text: str
    identifiers: tuple[Occurrence, ...]
    public: tuple[tuple[str, int, int], ...]  # public-term occurrences outside identifiers


@dataclass
class Score:
    found: int = 0
    total: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [found, total]
    over: int = 0
    public_total: int = 0
    missed: list[str] = field(default_factory=list)  # "kind: text" (benchmark data only)
    over_terms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0

    @property
    def over_rate(self) -> float:
        return self.over / self.public_total if self.public_total else 0.0

    def add(self, other: Score) -> None:
        self.found += other.found
        self.total += other.total
        self.over += other.over
        self.public_total += other.public_total
        self.missed += other.missed
        self.over_terms += other.over_terms
        for kind, (f, t) in other.by_kind.items():
            mine = self.by_kind.setdefault(kind, [0, 0])
            mine[0] += f
            mine[1] += t


def _whole(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)")


def load(folder: Path) -> list[Annotated]:
    """Every ``*.txt`` with its ``.yaml`` in ``folder``; public terms from ``public_terms.yaml``
    there (or in ``../deid/`` for the blind set)."""
    folder = Path(folder)
    terms_file = folder / "public_terms.yaml"
    if not terms_file.exists():
        terms_file = folder.parent / "deid" / "public_terms.yaml"
    terms = yaml.safe_load(terms_file.read_text(encoding="utf-8"))["terms"]
    found = []
    for txt in sorted(folder.glob("*.txt")):
        text = txt.read_text(encoding="utf-8")
        ann = yaml.safe_load(txt.with_suffix(".yaml").read_text(encoding="utf-8"))
        occurrences, pos = [], 0
        for item in ann["identifiers"]:
            m = _whole(str(item["text"])).search(text, pos)
            if m is None:
                raise ValueError(f"{txt.name}: {item['text']!r} not found after offset {pos}")
            occurrences.append(Occurrence(m.group(), str(item["kind"]), m.start(), m.end()))
            pos = m.end()
        spans = [(o.start, o.end) for o in occurrences]
        public = [
            (str(term), m.start(), m.end())
            for term in terms
            for m in _whole(str(term)).finditer(text)
            if not any(s < m.end() and m.start() < e for s, e in spans)
        ]
        found.append(Annotated(txt.name, text, tuple(occurrences), tuple(public)))
    return found


def _leaks(occ: Occurrence, text: str, covered: list[tuple[int, int]]) -> bool:
    """Does a word of the occurrence survive outside the replaced spans? A lone letter ("'s" of
    "Hamza's"), a particle or an everyday Dutch word does not count."""
    chars = list(text[occ.start : occ.end])
    for s, e in covered:
        for i in range(max(s, occ.start), min(e, occ.end)):
            chars[i - occ.start] = " "
    for m in re.finditer(r"[^\W_]{2,}", "".join(chars)):
        word = m.group()
        if word.lower() in PARTICLES or (word.isalpha() and dutchness(word) >= 3.0):
            continue
        return True
    return False


def score(items: Iterable[Annotated], detector: Detector) -> Score:
    total = Score()
    for item in items:
        covered = sorted(detector(item.text))
        one = Score()
        for occ in item.identifiers:
            overlapping = [(s, e) for s, e in covered if s < occ.end and occ.start < e]
            ok = bool(overlapping) and not _leaks(occ, item.text, overlapping)
            one.found += ok
            one.total += 1
            kind = one.by_kind.setdefault(occ.kind, [0, 0])
            kind[0] += ok
            kind[1] += 1
            if not ok:
                one.missed.append(f"{item.name} {occ.kind}: {occ.text}")
        for term, s, e in item.public:
            one.public_total += 1
            if any(cs < e and s < ce for cs, ce in covered):
                one.over += 1
                one.over_terms.append(f"{item.name}: {term}")
        total.add(one)
    return total
