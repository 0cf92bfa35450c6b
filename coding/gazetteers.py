"""Name and place lists for de-identification, and the platform's public vocabulary.

The lists live in ``coding/data/deid/`` (sources in its ``SOURCES.md``): first names and surnames
of the origins that matter for the platform's young people (generated from names-dataset by
``coding.gazetteer_build`` plus a hand-made list), Dutch places down to neighbourhoods
(GeoNames plus a hand-made list of the wijken of the G4 and other large cities), foreign home
towns, and the public terms that must never be replaced. Look-up is on a folded form: case,
diacritics and the Turkish dotless i are ignored, so "Yılmaz", "Yilmaz" and "yilmaz" are one
entry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data" / "deid"
CATALOG = Path(__file__).resolve().parents[1] / "corpus" / "catalog.yaml"
TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_FOLD = str.maketrans({"ı": "i", "İ": "i", "ł": "l", "Ł": "l", "ß": "ss", "ø": "o", "Ø": "o"})


@lru_cache(maxsize=500_000)
def fold(text: str) -> str:
    """Case, diacritics and white space folded: "Ayşe  Yılmaz" -> "ayse yilmaz"."""
    if text.isascii():
        return " ".join(text.split()).casefold()
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.replace("’", "'").split()).casefold()


def tokens(text: str) -> Iterator[tuple[int, int]]:
    """Word tokens (letters, inner hyphens and apostrophes) without a possessive 's."""
    for m in TOKEN.finditer(text):
        start, end = m.span()
        if end - start > 3 and text[end - 2] in "'’" and text[end - 1] == "s":
            end -= 2  # "Noor's" -> "Noor"
        yield start, end


def _lines(name: str) -> Iterator[str]:
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            yield line.rstrip()


@dataclass(frozen=True, slots=True)
class Gazetteers:
    first_names: frozenset[str]  # folded
    surnames: frozenset[str]
    places: dict[str, tuple[tuple[str, ...], ...]]  # folded first word -> folded word tuples
    public_terms: tuple[str, ...]  # as written

    def is_first_name(self, word: str) -> bool:
        return fold(word) in self.first_names

    def is_surname(self, word: str) -> bool:
        return fold(word) in self.surnames

    def is_name(self, word: str) -> bool:
        key = fold(word)
        return key in self.first_names or key in self.surnames

    def place_at(self, words: list[str], i: int) -> int:
        """How many words from ``words[i]`` on form a known place (0: none), longest first."""
        for phrase in self.places.get(fold(words[i]), ()):
            n = len(phrase)
            if tuple(fold(w) for w in words[i : i + n]) == phrase:
                return n
        return 0


def _catalog_authors() -> list[str]:
    try:
        data = yaml.safe_load(CATALOG.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return []
    reports = data.get("reports", data) if isinstance(data, dict) else data
    found: list[str] = []
    for report in reports if isinstance(reports, list) else []:
        if isinstance(report, dict):
            found += [str(a) for a in report.get("authors") or []]
    return found


@lru_cache(maxsize=1)
def load() -> Gazetteers:
    first: set[str] = set()
    surnames: set[str] = set()
    for name, target in (("first_names.txt", first), ("surnames.txt", surnames)):
        target.update(fold(line.split("\t")[0]) for line in _lines(name))
    for line in _lines("names_extra.txt"):
        name, role, _origin = line.split("\t")
        if role in ("first", "both"):
            first.add(fold(name))
        if role in ("surname", "both"):
            surnames.add(fold(name))
    places: dict[str, list[tuple[str, ...]]] = {}
    for name in ("places_nl.txt", "neighbourhoods.txt", "places_foreign.txt", "places_extra.txt"):
        for line in _lines(name):
            words = tuple(fold(line[s:e]) for s, e in tokens(line))
            if words:
                places.setdefault(words[0], []).append(words)
    public = [*_lines("public_terms.txt"), *_lines("public_geo.txt"), *_catalog_authors()]
    return Gazetteers(
        first_names=frozenset(first),
        surnames=frozenset(surnames),
        places={k: tuple(sorted(set(v), key=len, reverse=True)) for k, v in places.items()},
        public_terms=tuple(dict.fromkeys(public)),
    )
