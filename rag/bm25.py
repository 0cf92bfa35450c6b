"""BM25 over chunks with Dutch stemming (bm25s + PyStemmer ``dutch_porter``)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

TERMS_VERSION = "terms-1"  # bump when tokenize() or the lemmas change: saved stats are rebuilt
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("dutch_porter")


@lru_cache(maxsize=1)
def dutch_stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_DUTCH

    return frozenset(STOPWORDS_DUTCH) | {"wel", "nog", "ook", "zo", "wat", "welke", "hoe"}


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop words removed, Dutch-stemmed tokens.

    A hyphenated or digit-bearing word yields its parts and the joined form, so ``mbo-2``
    matches ``mbo-2``, ``mbo 2`` and ``mbo2``, and ``ouderbetrokkenheid`` keeps its own stem.
    """
    words: list[str] = []
    stop = dutch_stopwords()
    for match in _TOKEN_RE.finditer(text.lower()):
        word = match.group().replace("'", "")
        parts = word.split("-")
        if len(parts) > 1:
            words.append("".join(parts))
        words.extend(parts)
    kept = [w for w in words if w not in stop and (len(w) > 1 or w.isdigit())]
    return list(_stemmer().stemWords(kept))


class BM25Index:
    """An in-memory BM25 index over ``ids`` and their texts, persisted as a small folder.

    Saved as bm25s's own arrays (``bm25-<stamp>/``) and ``bm25s.json`` naming them with the
    stamp and the ids: a new process loads them in milliseconds instead of indexing every
    chunk's tokens again (8 s for 100,000 passages; benchmarks/scale.py).
    """

    def __init__(self, ids: Sequence[str], tokens: Sequence[Sequence[str]]) -> None:
        import bm25s

        self.ids = list(ids)
        self._model = bm25s.BM25(k1=1.2, b=0.75)
        if self.ids:
            corpus = [list(t) if t else ["\x00"] for t in tokens]
            self._model.index(corpus, show_progress=False)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> BM25Index:
        return cls(ids, [tokenize(t) for t in texts])

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text for ``query`` (zeros when nothing matches)."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        q = [t for t in tokenize(query) if t in self._model.vocab_dict]
        if not q:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._model.get_scores(q), dtype=np.float32)

    def save(self, folder: Path, stamp: str) -> None:
        """Arrays first (a folder of their own), then the JSON that names them, atomically;
        then older arrays are removed. A save cut short leaves the previous index whole."""
        folder.mkdir(parents=True, exist_ok=True)
        arrays = f"bm25-{stamp[:16]}"
        if self.ids:
            tmp_dir = folder / f"{arrays}.tmp-{os.getpid()}"
            shutil.rmtree(tmp_dir, ignore_errors=True)
            self._model.save(str(tmp_dir))
            shutil.rmtree(folder / arrays, ignore_errors=True)
            tmp_dir.rename(folder / arrays)
        tmp = folder / f"bm25s.json.tmp-{os.getpid()}"
        tmp.write_text(json.dumps({"stamp": stamp, "ids": self.ids, "arrays": arrays}))
        tmp.replace(folder / "bm25s.json")
        (folder / "bm25.json").unlink(missing_ok=True)  # the format before: ids and tokens
        for old in folder.glob("bm25-*"):
            if old.name != arrays and ".tmp-" not in old.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, stamp: str) -> BM25Index | None:
        """The saved index when its stamp matches, else None (the caller rebuilds)."""
        import bm25s

        try:
            data = json.loads((folder / "bm25s.json").read_text(encoding="utf-8"))
            if data.get("stamp") != stamp:
                return None
            index = cls([], [])
            index.ids = list(data["ids"])
            if index.ids:
                index._model = bm25s.BM25.load(str(folder / data["arrays"]))
                if int(index._model.scores["num_docs"]) != len(index.ids):
                    return None
            return index
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True, slots=True)
class TermStats:
    """Document frequencies of stemmed terms over all indexed chunks."""

    df: dict[str, int]
    n: int
    lemmas: frozenset[str] = frozenset()  # simplemma lemmas of the indexed words

    def known(self, word: str) -> bool:
        """Whether every content part of ``word`` occurs in the indexed text, as the same stem
        or as another form of the same lemma ("kregen" where the reports say "krijgen")."""
        parts = [p for p in word.split("-") if p]
        terms = [t for p in parts for t in tokenize(p)]
        if not terms:
            return False
        if all(t in self.df for t in terms):
            return True
        return bool(self.lemmas) and all(_lemma(p) in self.lemmas for p in parts)

    def idf(self, term: str) -> float:
        return math.log((self.n + 1) / (self.df.get(term, 0) + 0.5))

    def save(self, folder: Path, stamp: str) -> None:
        """As JSON beside the BM25 arrays, with their stamp (written atomically): a new process
        reads it instead of tokenising and lemmatising every chunk again (0.9 s of a cold ask
        on the bundled report)."""
        folder.mkdir(parents=True, exist_ok=True)
        lemmas = sorted(self.lemmas)
        data = {"stamp": f"{TERMS_VERSION}:{stamp}", "n": self.n, "df": self.df, "lemmas": lemmas}
        tmp = folder / f"terms.json.tmp-{os.getpid()}"
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(folder / "terms.json")

    @classmethod
    def load(cls, folder: Path, stamp: str) -> TermStats | None:
        """The saved statistics when their stamp matches, else None (the caller rebuilds)."""
        try:
            data = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
            if data.get("stamp") != f"{TERMS_VERSION}:{stamp}":
                return None
            df = {str(k): int(v) for k, v in data["df"].items()}
            return cls(df, int(data["n"]), frozenset(str(w) for w in data["lemmas"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    @classmethod
    def build(cls, texts: Sequence[str]) -> TermStats:
        df: dict[str, int] = {}
        words: set[str] = set()
        for text in texts:
            for term in set(tokenize(text)):
                df[term] = df.get(term, 0) + 1
            words.update(w.lower() for w in _TOKEN_RE.findall(text))
        lemmas = {_lemma(p) for w in words for p in w.split("-") if p}
        return cls(df, len(texts), frozenset(lemmas))


@lru_cache(maxsize=50_000)
def _lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word.lower(), lang="nl")).lower()
