"""Dutch-aware clean-up of page texts.

Three steps, each a plain function:

1. :func:`normalise_chars` — NFC, Symbol-font bullets, quotes, ligatures, odd spaces.
2. :func:`strip_running_lines` — running headers, footers and bare page numbers (lines that
   repeat across pages, digits aside).
3. :func:`keep_hyphen` — at a line break after ``-``, decide whether the pieces form one Dutch
   word (``aan-``/``pakken`` → ``aanpakken``) or the hyphen is real (``mbo-``/``2``,
   ``Noord-``/``Brabant``, ``zorg-``/``en welzijnsbeleid``, ``niet-``/``westerse``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

BULLET = "•"
# Private-use Symbol/Wingdings glyphs that PDF text layers emit for bullets, and other bullets.
_BULLET_CHARS = "\uf0b7\uf0a7\uf076\uf0d8\uf0fc\u25cf\u25aa\u25a0\u2023\u2043\u25e6\u2219\u00b7"
_CHAR_MAP = {
    **{c: BULLET for c in _BULLET_CHARS},
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u3000": " ",
    "\u200b": "",
    "\u200c": "",
    "\u200d": "",
    "\ufeff": "",
    "\u00ad": "",
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\u2010": "-",
    "\u2011": "-",
    "\t": " ",
}
_TRANSLATE = str.maketrans(_CHAR_MAP)

# Words after a line-final hyphen that mark a suspended compound ("zorg- en welzijnsbeleid").
_SUSPENSION_WORDS = frozenset({"en", "of", "tot", "dan", "noch", "als", "en/of"})
# Dutch abbreviations and prefixes that keep their hyphen before a word (mbo-opleiding,
# vmbo-leerling, niet-westerse, ex-partner); checked together with the right part being a word.
_HYPHEN_PREFIXES = frozenset(
    {
        "mbo",
        "vmbo",
        "hbo",
        "wo",
        "havo",
        "vwo",
        "vso",
        "pro",
        "uwv",
        "ict",
        "cao",
        "zzp",
        "bbl",
        "bol",
        "wsw",
        "pgb",
        "ggz",
        "ggd",
        "wmo",
        "mkb",
        "hr",
        "tv",
        "cv",
        "pr",
        "niet",
        "ex",
        "oud",
        "anti",
        "non",
        "semi",
        "co",
        "vice",
        "extra",
        "super",
        "multi",
    }
)
# Vowel pairs that Dutch would read as one sound: inside one word they need a trema (naïef,
# coïncidentie), so where parts of a compound meet in one a hyphen is written (zee-egel,
# politie-inzet, diploma-eisen, auto-industrie). Hyphenation splits such a pair only there.
_VOWEL_DIGRAPHS = frozenset(
    {"aa", "ae", "ai", "au", "ee", "ei", "eu", "ie", "ii", "oe", "oi", "oo", "ou", "ui", "uu"}
)

_PAGE_NUMBER_RE = re.compile(
    r"^(?:(?:pagina|page|blz\.?|p\.)\s*)?[-–—]?\s*\d{1,4}\s*(?:(?:/|van|of)\s*\d{1,4})?\s*[-–—]?$",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def normalise_chars(text: str) -> str:
    """NFC, bullets to ``•``, typographic quotes to ASCII, ligatures and odd spaces resolved.

    Line breaks are normalised to LF; trailing spaces on each line are removed.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A soft hyphen that ends a line marks a typographic break: the pieces are one word.
    text = re.sub("\u00ad[ \t]*\n[ \t]*", "", text)
    if text.rstrip().endswith("\u00ad"):
        text = text.rstrip()[:-1] + "-"  # continued on the next page; decided there
    text = unicodedata.normalize("NFC", text.translate(_TRANSLATE))
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _line_key(line: str) -> str:
    """A line with digits masked and spaces collapsed, to find lines that repeat across pages."""
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line)).strip().lower()


def strip_running_lines(
    pages: Sequence[list[str]], edge: int = 3, min_share: float = 0.5
) -> list[list[str]]:
    """Remove running headers/footers and bare page numbers from each page's lines.

    A line within ``edge`` lines of the top or bottom of a page is removed when the same
    line (digits masked) occurs near the edge of at least ``min_share`` of the pages (and of
    at least 3 pages), or when it is only a page number.
    """
    counts: Counter[str] = Counter()
    for lines in pages:
        content = [ln for ln in lines if ln.strip()]
        keys = {_line_key(ln) for ln in content[:edge] + content[-edge:]}
        counts.update(k for k in keys if k)
    threshold = max(3, int(min_share * len(pages) + 0.5))
    running = {k for k, n in counts.items() if n >= threshold and len(pages) >= 3}

    cleaned: list[list[str]] = []
    for lines in pages:
        idx = [i for i, ln in enumerate(lines) if ln.strip()]
        edge_idx = set(idx[:edge] + idx[-edge:])
        keep = []
        for i, ln in enumerate(lines):
            stripped = ln.strip()
            if i in edge_idx and (
                _line_key(ln) in running or _PAGE_NUMBER_RE.match(stripped) is not None
            ):
                continue
            keep.append(ln)
        cleaned.append(keep)
    return cleaned


class Vocabulary:
    """Word forms seen in a document, to decide line-break hyphens by the document's own usage."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.words: Counter[str] = Counter()
        self.hyphenated: Counter[str] = Counter()
        for line in lines:
            body = line[:-1] if line.rstrip().endswith("-") else line
            for match in _WORD_RE.finditer(body):
                word = match.group().lower()
                if "-" in word:
                    self.hyphenated[word] += 1
                    self.words.update(word.split("-"))
                else:
                    self.words[word] += 1


@lru_cache(maxsize=65536)
def _is_dutch_word(word: str) -> bool:
    import simplemma

    return bool(word) and simplemma.is_known(word, lang="nl")


def keep_hyphen(left: str, right: str, vocab: Vocabulary | None = None) -> bool:
    """Whether a hyphen at a line break between ``left`` and ``right`` is a real hyphen.

    ``left`` is the text before the hyphen (its last word is used), ``right`` the next line.
    False means the pieces form one word and are rejoined without the hyphen.
    """
    left_match = re.search(r"([^\W_]+)$", left.rstrip().rstrip("-"))
    right_match = re.match(r"\s*([^\s]+)", right)
    if not left_match or not right_match:
        return True
    lpart = left_match.group(1)
    rtoken = right_match.group(1)
    rword_match = re.match(r"[^\W\d_]+", rtoken)
    if rtoken[0].isdigit() or rtoken[0].isupper() or not rtoken[0].isalpha():
        return True  # mbo-2, Noord-Brabant, re-START, 15-/ 25-jarigen
    rpart = rword_match.group() if rword_match else rtoken
    if rpart.lower() in _SUSPENSION_WORDS or rtoken.lower() in _SUSPENSION_WORDS:
        return True  # zorg- en welzijnsbeleid
    if any(ch.isdigit() for ch in lpart) or (len(lpart) >= 2 and lpart.isupper()):
        return True  # 25-jarigen, MBO-studenten
    lower_l, lower_r = lpart.lower(), rpart.lower()
    if vocab is not None:
        if vocab.hyphenated.get(f"{lower_l}-{lower_r}", 0) > vocab.words.get(lower_l + lower_r, 0):
            return True  # the document writes it with a hyphen elsewhere
        if vocab.words.get(lower_l + lower_r, 0) > 0:
            return False  # the document writes it as one word elsewhere
    joined = lower_l + lower_r
    if _is_dutch_word(joined):
        return False
    if lower_l in _HYPHEN_PREFIXES and _is_dutch_word(lower_r):
        return True  # mbo-opleiding, niet-westerse, ex-partner (but wo-/ning, pro-/ject join)
    # politie-inzet, zee-egel, auto-ongeluk
    return (lower_l[-1] + lower_r[0]) in _VOWEL_DIGRAPHS


def is_suspension(right: str) -> bool:
    """Whether the next line starts with a word that makes ``X-`` a suspended compound."""
    match = re.match(r"\s*([^\W\d_]+(?:/[^\W\d_]+)?)", right)
    return match is not None and match.group(1).lower() in _SUSPENSION_WORDS
