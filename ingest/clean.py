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
# Endings of Dutch adjectives, which join another adjective with a hyphen (sociaal-economisch);
# two nouns are written closed (loopbaankeuzes), so a noun before a line-end hyphen is rejoined.
_ADJECTIVE_ENDINGS = ("aal", "eel", "isch", "lijk", "ig", "ief", "air", "iek", "ueel", "baar")
# English particles after a hyphen in loanwords that Dutch writes with one (follow-up).
_ENGLISH_PARTICLES = frozenset({"up", "ups"})
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

    A line within ``edge`` lines of the top or bottom of a page is removed when it is only a
    page number (``7``, ``- 7 -``, ``Pagina 7 van 20``) or when its key (digits masked) is
    running: it occurs near the edge of at least ``min_share`` of the pages (and of at least 3),
    or near the edge of two neighbouring pages (or of pages two apart: facing-page headers).
    A header that names the chapter changes per chapter; an edge line that shares its first
    words with a running line is one of its family and goes too, so that the header of a
    one-page chapter does not leak.
    """
    edge_keys: list[set[str]] = []
    counts: Counter[str] = Counter()
    for lines in pages:
        content = [ln for ln in lines if ln.strip()]
        keys = {k for k in (_line_key(ln) for ln in content[:edge] + content[-edge:]) if k}
        edge_keys.append(keys)
        counts.update(keys)
    threshold = max(3, int(min_share * len(pages) + 0.5))
    running = {k for k, n in counts.items() if n >= threshold and len(pages) >= 3}
    for step in (1, 2):  # the next page, or the next facing page (left and right headers)
        for a, b in zip(edge_keys, edge_keys[step:], strict=False):
            running |= {k for k in a & b if len(k) >= _MIN_RUNNING_CHARS}
    families = {_family(k) for k in running if len(k.split()) >= _FAMILY_WORDS + 1}

    cleaned: list[list[str]] = []
    for lines in pages:
        idx = [i for i, ln in enumerate(lines) if ln.strip()]
        edge_idx = set(idx[:edge] + idx[-edge:])
        keep = []
        for i, ln in enumerate(lines):
            key = _line_key(ln)
            if i in edge_idx and (
                key in running
                or _family(key) in families
                or _PAGE_NUMBER_RE.match(ln.strip()) is not None
            ):
                continue
            keep.append(ln)
        cleaned.append(keep)
    return cleaned


# A running line is at least this long (two pages that both start with "•" share no header),
# and a family of running lines shares this many first words ("reflectie platform jongeren").
_MIN_RUNNING_CHARS = 12
_FAMILY_WORDS = 3


def _family(key: str) -> str:
    words = key.split()
    return " ".join(words[:_FAMILY_WORDS]) if len(words) > _FAMILY_WORDS else ""


class Vocabulary:
    """Word forms seen in a document, to decide line-break hyphens by the document's own usage.

    ``words`` and ``hyphenated`` count lower-cased forms. ``proper`` counts words written with a
    capital inside a sentence and never in lower case (``Nijmegen``, ``Sparta``): names, which
    keep their hyphen in a compound (``Nijmegen-route``). ``acronyms`` holds words written in
    capitals (``ROC``), so that ``roc-docenten`` keeps its hyphen too.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        self.words: Counter[str] = Counter()
        self.hyphenated: Counter[str] = Counter()
        self.proper: Counter[str] = Counter()
        self.hyphen_left: Counter[str] = Counter()  # "meta" from meta-studies, meta-analyses
        self.acronyms: set[str] = set()
        lower: set[str] = set()
        for line in lines:
            broken = line.rstrip().endswith("-")
            body = line.rstrip()[:-1] if broken else line
            for match in _WORD_RE.finditer(body):
                raw = match.group()
                fragment = broken and match.end() == len(body)  # "Doorstroomprogram-"
                word = raw.lower()
                if "-" in word:
                    self.hyphenated[word] += 1
                    self.hyphen_left[word.split("-")[0]] += 1
                    self.words.update(word.split("-"))
                else:
                    self.words[word] += 1
                for part in raw.split("-"):
                    if part[:1].islower():
                        lower.add(part.lower())
                    elif len(part) >= 2 and part.isupper():
                        self.acronyms.add(part.lower())
                first = raw.split("-")[0]
                if fragment:
                    continue
                k = match.start()  # the last non-space character before the word (no copy of
                while k > 0 and body[k - 1].isspace():  # the line: a long line stays linear)
                    k -= 1
                if first[:1].isupper() and k > 0 and body[k - 1] not in ".!?:;•\"'(":
                    self.proper[first.lower()] += 1
        for word in lower:
            self.proper.pop(word, None)


@lru_cache(maxsize=65536)
def _is_dutch_word(word: str) -> bool:
    """A word form of the simplemma Dutch lexicon (lemmas and their inflections)."""
    import simplemma

    return bool(word) and simplemma.is_known(word, lang="nl")


@lru_cache(maxsize=65536)
def _is_known_compound(word: str) -> bool:
    """A closed word that Dutch writes often enough to be in wordfreq's counts."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "nl") >= _MIN_ZIPF


@lru_cache(maxsize=65536)
def _is_common_word(word: str, lang: str = "nl") -> bool:
    """A word common enough in wordfreq's counts to stand for itself (``gedetineerden``).

    ``lang="en"`` for the English half of a loanword after a prefix (``non-profit``).
    """
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang) >= _MIN_ZIPF_ALONE


# wordfreq also counts fragments of words hyphenated in its sources ("opge" 2.0, "denen" 3.3);
# a closed compound is trusted from this frequency up, a stand-alone part only from the lexicon.
_MIN_ZIPF = 1.0
_MIN_ZIPF_ALONE = 2.5
_MAX_WORD_CHARS = 60  # longer "words" (a hostile single-token line) are not looked up part by part


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
        return is_suspension(right, left)  # zorg- en welzijnsbeleid, but partij-/en bij
    if any(ch.isdigit() for ch in lpart) or (len(lpart) >= 2 and lpart.isupper()):
        return True  # 25-jarigen, MBO-studenten
    if len(lpart) == 1:
        return True  # e-mail, e-learning: hyphenation never leaves one letter behind
    lower_l, lower_r = lpart.lower(), rpart.lower()
    joined = lower_l + lower_r
    if lower_r in _ENGLISH_PARTICLES and rpart == rtoken.rstrip(".,;:!?)"):
        return True  # follow-up, start-ups, meet-ups: Dutch keeps the English hyphen
    if vocab is not None:
        if vocab.hyphenated.get(f"{lower_l}-{lower_r}", 0) > vocab.words.get(joined, 0):
            return True  # the document writes it with a hyphen elsewhere
        if vocab.words.get(joined, 0) > 0:
            return False  # the document writes it as one word elsewhere
        if lower_l in vocab.acronyms and lower_l not in vocab.words:
            return True  # roc-docenten where the document writes ROC
    if _is_dutch_word(joined):
        return False
    if (lower_l[-1] + lower_r[0]) in _VOWEL_DIGRAPHS and (
        _is_dutch_word(lower_l) or not _is_known_compound(joined)
    ):
        return True  # politie-inzet, zee-egel, auto-industrie (not geli-/eerde)
    right_is_word = _is_dutch_word(lower_r) or _is_common_word(lower_r)
    if lower_l in _HYPHEN_PREFIXES and (right_is_word or _is_common_word(lower_r, "en")):
        return True  # mbo-opleiding, ex-gedetineerden, non-profit (but wo-/ning, pro-/ject join)
    if lower_l.endswith(_ADJECTIVE_ENDINGS) and _is_dutch_word(lower_l) and _is_dutch_word(lower_r):
        return True  # sociaal-economische, christelijk-sociale: two adjectives side by side
    if _is_known_compound(joined):
        return False
    if vocab is not None and lpart[0].isupper() and vocab.proper.get(lower_l, 0) and right_is_word:
        return True  # Nijmegen-route, Sparta-spelers: a name in a compound keeps its hyphen
    # meta-review where the document writes meta-studies and meta-analyses
    return vocab is not None and vocab.hyphen_left.get(lower_l, 0) > 0


def is_suspension(right: str, left: str = "") -> bool:
    """Whether the next line starts with a word that makes ``X-`` a suspended compound.

    With ``left`` (the line that ends in ``X-``), a break such as ``partij-``/``en bij`` is told
    from ``wet-``/``en regelgeving``: where ``X`` + ``en`` is itself a word, the hyphen is a
    suspension only when the word after ``en`` ends in a tail that completes ``X``
    (``wet`` + ``geving``).
    """
    match = re.match(r"\s*([^\W\d_]+(?:/[^\W\d_]+)?)\s*([^\W\d_]*)", right)
    if match is None or match.group(1).lower() not in _SUSPENSION_WORDS:
        return False
    left_match = re.search(r"([^\W\d_]+)-?$", left.rstrip())
    if not left_match:
        return True
    lpart = left_match.group(1).lower()
    conj, nxt = match.group(1).lower(), match.group(2).lower()
    if len(nxt) > _MAX_WORD_CHARS or len(lpart) > _MAX_WORD_CHARS:
        return True  # no Dutch word is this long: leave the line as written (and stay linear)
    if not (_is_dutch_word(lpart + conj) or _is_known_compound(lpart + conj)):
        return True  # aanvraag- en verantwoordingsproces: "aanvraagen" is no word
    return any(
        _is_dutch_word(lpart + nxt[i:]) or _is_known_compound(lpart + nxt[i:])
        for i in range(1, len(nxt) - 2)
    )
