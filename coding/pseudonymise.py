"""Replace identifying names, places, organisations, contact details and dates by placeholders.

Detection is deduce (rule-based Dutch de-identification) plus rules for what deduce does not
cover: organisations named by a head word ("Bakkerij De Korenschoof", "VV Zwaluwen", "Da Vinci
College"), neighbourhoods after "wijk", street names without a house number, place names deduce
drops because they are also words ("UWV Leiden"), international phone numbers, speaker labels,
and the user's word list. A surface form found once is replaced everywhere it occurs.
Choices: every date deduce finds becomes [DATUM-n] (it cannot tell a birth date from another
date); ages ("19 jaar") are kept, they matter for coding youth and do not identify on their own.
deduce's lookup structures take 50-115 s to build; `warm_up` builds them once per machine into
the user cache directory (an ~80 MB pickle, not deduce's default in site-packages) and each later
process loads them in ~2 s; within a process they are loaded once.
"""

from __future__ import annotations

import bisect
import gc
import json
import logging
import os
import pickle
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import simplemma

from coding import deid_rules, gazetteers
from coding.deid_rules import Span as _Span
from coding.errors import CodingError

KINDS = ("PERSOON", "PLAATS", "ORGANISATIE", "EMAIL", "TELEFOON", "DATUM", "NUMMER", "URL")
# fmt: off
_DEDUCE_KIND = {  # deduce's tag -> our kind; "leeftijd" (age) deliberately absent: ages stay
    "persoon": "PERSOON", "patient": "PERSOON", "locatie": "PLAATS", "datum": "DATUM",
    "ziekenhuis": "ORGANISATIE", "zorginstelling": "ORGANISATIE", "telefoonnummer": "TELEFOON",
    "emailadres": "EMAIL", "bsn": "NUMMER", "id": "NUMMER", "url": "URL",
}
_ROLES = frozenset(("i", "r", "q", "a", "int", "resp", "interviewer", "interviewster",
    "interviewee", "respondent", "coach", "jobcoach", "moeder", "vader", "ouder", "docent",
    "mentor", "begeleider", "jongere", "deelnemer", "onderzoeker", "moderator", "gespreksleider",
    "spreker", "vraag", "antwoord"))
_TITLES = frozenset(("juf", "meester", "coach", "mentor", "trainer", "oom", "tante", "neef",
    "nicht", "opa", "oma", "broer", "zus"))
# fmt: on
_ALIASES = {"naam": "PERSOON", **{k.lower(): k for k in KINDS}}
_CAP = r"[A-ZÀ-ÖØ-Þİ][\w'’&-]*"
_NAME = rf"(?:(?:[Dd]e|[Hh]et|'t)\s+)?{_CAP}(?:\s+(?:(?:van|de|der|den)\s+)*{_CAP})*"
_HEAD_FIRST = re.compile(
    r"(?<!\w)(?P<head>(?i:bakkerij|slagerij|kapsalon|autobedrijf|garage|restaurant|café|snackbar|"
    r"supermarkt|stichting|vereniging|voetbalclub|sportclub|basisschool|school|gemeente|"
    r"bouwbedrijf|uitzendbureau|buurthuis|jongerencentrum|moskee|wijk|buurt|stadsdeel)|"
    rf"VV|SV|RKSV|FC|SC|ROC|UWV|GGD),?\s+(?P<name>{_NAME})"
)
_HEAD_LAST = re.compile(  # not starting at "Het" in "Het Da Vinci College"
    rf"(?<!\w)(?!(?:De|Het|Een|Op|In|Bij|Naar|Via|Van)\s)(?:{_CAP}\s+){{1,3}}"
    r"(?:College|Lyceum|Gymnasium|Academie|Ziekenhuis|Groep|B\.?V\.?)(?!\w)"
)
_STREET = re.compile(
    r"[A-Z][a-z]+(?:baan|dam|dijk|dreef|gracht|hof|kade|laan|markt|park|plein|singel|steeg|straat|weg)"
)
_INTL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)\d{2}(?:[ -]?\(0\))?(?:[ -]?\d){8,10}(?!\d)")
_LABEL = re.compile(r"^(?:\[(?P<b>[^\]\n]{1,40})\]|(?P<c>[^\s:\[\]][^:\n]{0,39}):)", re.M)
_LABEL_WORD = re.compile(rf"{_CAP}|van|de|der|den|el|al|ter|ten")
_PLACEHOLDER = re.compile(r"\[([A-Z]+)-(\d+)\]")
_BUILDING = "watwerkt: building the Dutch name lists once (about a minute)..."
_CONTACT = ("EMAIL", "TELEFOON", "NUMMER", "DATUM", "URL")  # never kept for a public term inside
UNCERTAIN = 0.7  # a replacement below this confidence is shown to the coder to confirm
_DEDUCE_CONFIDENCE = {"PERSOON": 0.8, "PLAATS": 0.8, "ORGANISATIE": 0.8, "DATUM": 0.9}


@dataclass(frozen=True, slots=True)
class Replacement:
    original: str
    placeholder: str
    kind: str
    start: int  # offsets in the original text
    end: int
    evidence: str = "deduce"  # deduce | list | context | pattern | user | same-as (see deid_rules)
    confidence: float = 1.0

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN


@dataclass(frozen=True, slots=True)
class _Engine:
    deduce: Any
    titles: frozenset[str]  # casefolded words deduce puts in front of a name ("mevrouw")
    word_places: frozenset[str]  # place names deduce drops because they are also words
    common: frozenset[str]  # casefolded common Dutch words (deduce's whitelist)


_ENGINE: _Engine | None = None
_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("watwerkt", appauthor=False))


def warm_up(cache_dir: Path | None = None) -> None:
    """Load deduce once per process; build its lookup structures once per machine."""
    global _ENGINE
    with _LOCK:
        if _ENGINE is not None:
            return
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        import deduce  # its import calls logging.basicConfig(stream=sys.stdout): undo that
        from deduce.deduce import _LOOKUP_LIST_PATH
        from deduce.lookup_structs import load_raw_itemsets

        for handler in root.handlers[len(handlers) :]:
            root.removeHandler(handler)
        root.setLevel(level)
        # deduce's default cache is inside site-packages (may be read-only, shared by versions)
        where = (cache_dir or default_cache_dir()) / f"deduce-{deduce.__version__}"
        pickle_file = where / "cache" / "lookup_structs.pickle"
        gc.disable()  # unpickling millions of trie nodes is 4x faster without the collector
        try:
            if pickle_file.exists():
                try:
                    model = deduce.Deduce(cache_path=where)
                except (pickle.UnpicklingError, EOFError, ValueError):
                    pickle_file.unlink()  # a damaged cache: build it again below
            if not pickle_file.exists():
                print(_BUILDING, file=sys.stderr, flush=True)
                pickle_file.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=where) as tmp:  # no half-written cache
                    model = deduce.Deduce(cache_path=tmp)
                    os.replace(Path(tmp) / "cache" / "lookup_structs.pickle", pickle_file)
        except OSError as exc:
            raise CodingError(
                f"cannot build or read the name lists in {where}: {exc}. "
                "Free disk space or fix the permissions and try again."
            ) from exc
        finally:
            gc.enable()
        gc.freeze()  # later collections need not walk the lookup structures again
        gazetteers.load()  # the name and place lists (~0.2 s), after the freeze: no GC walks
        raw = load_raw_itemsets(_LOOKUP_LIST_PATH, ["locations/lst_placename", "whitelist"])
        common = frozenset(w.casefold() for w in raw["whitelist"])
        simplemma.is_known("de", lang="nl")  # loads its Dutch dictionary now, not mid-run
        _ENGINE = _Engine(
            deduce=model,
            titles=_TITLES | {t.casefold() for t in model.lookup_structs["prefix"].items()},
            word_places=frozenset(p for p in raw["placename"] if p.casefold() in common),
            common=common,
        )


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“‘")
    return not before or before[-1] in ".!?:\n]"


# What people say between words, and words that open a spoken sentence: "Eh, ja.", "Oké, dus
# ...", "Anders had ze het niet gered." A name list holds some of them (Eh, Anders, Nou); where
# they open a sentence or stand alone before a comma or a full stop they are no name.
_SPOKEN_WORDS = (
    "eh ehm euh uh uhm hm hmm mm oké oke okee ok okay nou tja ja jawel nee neuh hè he zeg "
    "goh joh ach och oh ah oei jee anders erbij precies inderdaad sowieso trouwens kortom "
    "enfin goed prima mooi klopt"
)
_SPOKEN = frozenset(_SPOKEN_WORDS.split())


def _spoken_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a spoken filler or sentence opener, not a name."""
    word = text[start:end]
    if word.casefold() not in _SPOKEN:
        return False
    return _sentence_start(text, start) or text[end : end + 1] in {",", ".", "!", "?", "…"}


def _phrase(phrase: str) -> re.Pattern[str]:
    """Whole words, case-insensitive, any run of white space between the words."""
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)", re.I)


def _word_list(text: str, word_list: Sequence[str]) -> list[_Span]:
    spans: list[_Span] = []
    for number, entry in enumerate(word_list, start=1):
        phrase, _, kind_word = entry.partition("=")
        kind = _ALIASES.get((kind_word.strip() or "naam").lower())
        if kind is None or not phrase.strip():  # the entry itself is a name: never in a message
            raise CodingError(
                f"word list entry {number}: write 'Name' or 'Name=KIND', KIND one "
                f"of naam, {', '.join(KINDS)}"
            )
        spans += [
            (m.start(), m.end(), kind, 10, "user", 1.0) for m in _phrase(phrase).finditer(text)
        ]
    return spans


def _detect(engine: _Engine, text: str) -> list[_Span]:
    spans: list[_Span] = []
    for label in _LABEL.finditer(text):
        group = "b" if label.group("b") else "c"
        words = label.group(group).split()
        if (
            words
            and words[0].casefold() not in _ROLES | engine.common
            and all(map(_LABEL_WORD.fullmatch, words))
        ):  # "[Kevin]" becomes "[PERSOON-2]", not "[[PERSOON-2]]"
            end = (
                label.end()
                if group == "b"
                else label.start(group) + len(label.group(group).rstrip())
            )
            spans.append((label.start(), end, "PERSOON", 8, "pattern", 0.95))
    # without deduce's post-processing: no merging of "Sanne Visser. Sanne", our overlap rules
    doc = engine.deduce.deidentify(text, disabled={"remove_street_tags", "post_processing"})
    for ann in doc.annotations:
        kind, start, end = _DEDUCE_KIND.get(ann.tag), ann.start_char, ann.end_char
        if ann.tag == "straat":  # deduce drops bare street names (its list is noisy): keep clear
            if _STREET.fullmatch(ann.text) and not _sentence_start(text, start):
                spans.append((start, end, "PLAATS", 2, "deduce", 0.7))
            continue
        if kind == "PERSOON":
            while (m := re.match(r"(\S+?)\.?\s+", text[start:end])) and (
                m.group(1).casefold() in engine.titles
            ):
                start += m.end()  # "mevrouw Van der Berg": keep the title, hide the name
            if start == ann.start_char and ann.text.casefold() in engine.common:
                kind = None if _sentence_start(text, start) else kind  # "Pas toen ..."
        if kind:
            spans.append((start, end, kind, 4, "deduce", _DEDUCE_CONFIDENCE.get(kind, 0.95)))
    for m in _HEAD_FIRST.finditer(text):
        head = m.group("head")
        if head[0].isupper() and head.lower() not in ("wijk", "buurt", "stadsdeel"):
            spans.append((m.start(), m.end(), "ORGANISATIE", 6, "pattern", 0.9))
        else:  # "de basisschool De Regenboog", "de wijk Groenoord"
            kind = "PLAATS" if head.lower() in ("wijk", "buurt", "stadsdeel") else "ORGANISATIE"
            spans.append((m.start("name"), m.end("name"), kind, 2, "pattern", 0.85))
    spans += [
        (m.start(), m.end(), "ORGANISATIE", 6, "pattern", 0.9) for m in _HEAD_LAST.finditer(text)
    ]
    spans += [
        (m.start(), m.end(), "TELEFOON", 6, "pattern", 0.95) for m in _INTL_PHONE.finditer(text)
    ]
    spans += [
        (m.start(), m.end(), "PLAATS", 2, "deduce", 0.6)
        for m in re.finditer(r"(?<!\w)\w+(?!\w)", text)
        if m.group() in engine.word_places and not _sentence_start(text, m.start())
    ]
    spans += deid_rules.patterns(text)
    spans += deid_rules.names_and_places(text, gazetteers.load(), _ROLES | engine.titles)
    return [s for s in spans if not (s[2] == "PERSOON" and _spoken_word(text, s[0], s[1]))]


# Between two readings of the same words at the same strength, the organisation or place
# wins over the person ("ROC Mondriaan", "Den Haag"), then the stronger evidence: without it,
# the order of a set, which changes with each process's hash seed, decided.
_KIND_ORDER = {"ORGANISATIE": 0, "PLAATS": 1, "PERSOON": 2}
_EVIDENCE_ORDER = {"user": 0, "pattern": 1, "list": 2, "deduce": 3, "context": 4, "same-as": 5}


def _precedence(span: _Span) -> tuple:
    start, end, kind, rank, evidence, confidence = span
    return (
        -rank,
        start - end,
        -confidence,
        start,
        _KIND_ORDER.get(kind, 0),
        _EVIDENCE_ORDER.get(evidence, 9),
        span,
    )


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Non-overlapping spans in text order: higher priority first, then the longer span."""
    starts: list[int] = []
    chosen: list[_Span] = []
    for span in sorted(set(spans), key=_precedence):
        i = bisect.bisect(starts, span[0])
        if (i == 0 or chosen[i - 1][1] <= span[0]) and (i == len(starts) or span[1] <= starts[i]):
            starts.insert(i, span[0])
            chosen.insert(i, span)
    return chosen


def _norm(surface: str) -> str:
    """The mapping key: case and white space folded, a label's brackets dropped."""
    if surface.startswith("[") and surface.endswith("]"):
        surface = surface[1:-1]
    return gazetteers.fold(surface)  # "Ayşe Yılmaz" and "Ayse Yilmaz" are one person


def _kind(placeholder: str) -> str:
    return m.group(1) if (m := _PLACEHOLDER.fullmatch(placeholder)) else "PERSOON"


def _protected(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Where the public vocabulary (and the coder's "not a name" words) occurs in the text."""
    present = {w.casefold() for w in re.findall(r"[^\W_]+", text)}
    wanted = [t for t in terms if t.strip() and re.findall(r"[^\W_]+", t.casefold())[0] in present]
    return [(m.start(), m.end()) for t in wanted for m in _phrase(t).finditer(text)]


def _more_than(text: str, s: int, e: int, ps: int, pe: int) -> bool:
    """Does span s:e hold a name beside the protected term ps:pe ("ROC Mondriaan": yes; "van
    Jong Ondernemen": no)?"""
    rest = (text[s:ps] + " " + text[pe:e]).split()
    return any(w[:1].isupper() and w.casefold() not in deid_rules.PARTICLES for w in rest)


def _unprotected(text: str, spans: list[_Span], protected: list[tuple[int, int]]) -> list[_Span]:
    """Drop a span inside or partly over a protected term ("MBO & [PLAATS-1]"); a longer span
    that holds the whole term stays ("ROC Mondriaan")."""
    if not protected:
        return spans
    kept = []
    protected = sorted(protected)
    starts = [ps for ps, _ in protected]
    longest = max(pe - ps for ps, pe in protected)
    for span in spans:
        s, e = span[0], span[1]
        near = protected[bisect.bisect_left(starts, s - longest) : bisect.bisect_left(starts, e)]
        clash = any(
            s < pe and ps < e and not (s <= ps and pe <= e and _more_than(text, s, e, ps, pe))
            for ps, pe in near
        )
        if not clash or span[4] == "user" or span[2] in _CONTACT:
            kept.append(span)
    return kept


def _name_parts(full: str) -> list[str]:
    """The first name and the surname (with its particles) of a full name."""
    words = full.split()
    rest = words[1:]
    while rest and rest[0].casefold() in deid_rules.PARTICLES and len(rest) > 1:
        rest = rest[1:]
    parts = [words[0], " ".join(words[1:]), rest[-1] if rest else ""]
    if len(rest) > 1:
        parts.append(" ".join(rest))
    particles = deid_rules.PARTICLES
    return [p for p in dict.fromkeys(parts) if len(p) > 1 and p.casefold() not in particles]


def _replace_here(
    match: re.Match[str], form: str, text: str, kind: str, common: frozenset[str]
) -> bool:
    """Is this occurrence of a known form the same identity? Lower case only when the form is
    no everyday word ("noor" yes, "bakker" no); a capitalised everyday word not at a sentence
    start ("Roos" yes, "Bij" no)."""
    word = match.group()
    dutch = deid_rules.dutchness(form) if " " not in form else 0.0
    if word[0].isupper():
        return dutch < 4.5 or not _sentence_start(text, match.start())
    if kind not in ("PERSOON", "PLAATS", "ORGANISATIE"):
        return True
    if " " in form:
        return True
    compound = dutch == 0.0 and deid_rules.everyday(form) >= 3.0  # "talentontwikkeling"
    return dutch < 3.8 and not compound and form not in common and len(form) > 2


def pseudonymise(
    text: str,
    *,
    word_list: Sequence[str] = (),
    mapping: dict[str, str] | None = None,
    keep: Sequence[str] = (),
) -> tuple[str, list[Replacement], dict[str, str]]:
    """Return the text with placeholders, what was replaced, and the (extended) mapping.

    Look-up is case-insensitive; a surface form keeps the placeholder (and kind) it got first;
    a first name or surname alone shares the placeholder of the one full name it belongs to.
    ``keep``: words the coder marked as no name; with the platform's public terms they are
    never replaced (the word list wins over both).
    """
    if _ENGINE is None:
        warm_up()
    assert _ENGINE is not None
    new_mapping, common = dict(mapping or {}), _ENGINE.common
    keep_keys = {_norm(k) for k in keep}
    index = {_norm(k): v for k, v in new_mapping.items() if _norm(k) not in keep_keys}
    kinds = {key: _kind(v) for key, v in index.items()}
    confidence: dict[str, tuple[str, float]] = {key: ("same-as", 1.0) for key in index}
    protected = _protected(text, [*gazetteers.load().public_terms, *keep])
    chosen = _resolve(
        _unprotected(text, _word_list(text, word_list) + _detect(_ENGINE, text), protected)
    )
    for s, e, k, _, ev, conf in sorted(chosen, key=lambda c: (-c[3], c[0])):
        key = _norm(text[s:e])
        kinds.setdefault(key, k)
        if conf > confidence.get(key, ("", -1.0))[1]:
            confidence[key] = (ev, conf)
    surfaces = {" ".join(text[c[0] : c[1]].split()) for c in chosen}
    surfaces |= {" ".join(k.removeprefix("[").removesuffix("]").split()) for k in index}
    # "Noor Haddou" found: "Noor", "Haddou" are her too. In the order the text names them (not
    # a set's order, which changes with each process's hash seed: a part's kind must not).
    first_seen = {f: (text.find(f) % (len(text) + 1), f) for f in surfaces}
    for surface in sorted(surfaces, key=first_seen.__getitem__):
        key = _norm(surface)
        if kinds.get(key) == "PERSOON" and len(key.split()) > 1 and key not in keep_keys:
            for part in _name_parts(surface):
                if _norm(part) not in keep_keys and _norm(part) not in kinds:
                    kinds[_norm(part)] = "PERSOON"
                    confidence[_norm(part)] = ("same-as", confidence.get(key, ("", 0.9))[1])
                    surfaces.add(part)
    extra: list[_Span] = []
    forms = sorted({f.casefold() for f in surfaces if _norm(f) in kinds}, key=len, reverse=True)
    if forms:  # a form found once (here or in an earlier transcript) is replaced everywhere
        alternation = "|".join(r"\s+".join(map(re.escape, f.split())) for f in forms)
        for m in re.finditer(rf"(?<!\w)(?:{alternation})(?!\w)", text, re.I):
            key = _norm(m.group())
            kind = kinds.get(key)
            if kind and _replace_here(m, key, text, kind, common):  # "bakker" stays
                extra.append(
                    (m.start(), m.end(), kind, 0, "same-as", confidence.get(key, ("", 0.9))[1])
                )
        persons = [f for f in forms if kinds.get(_norm(f)) == "PERSOON" and " " not in f]
        fused = "|".join(re.escape(f) for f in persons if len(f) > 2 and f[-1] not in "sxz")
        for m in re.finditer(rf"(?<!\w)(?:{fused})s(?!\w)", text, re.I) if fused else ():
            if m.group()[0].isupper() and deid_rules.dutchness(m.group()) == 0.0:
                key = _norm(m.group()[:-1])  # a fused genitive: "Fatoes moeder"
                extra.append(
                    (m.start(), m.end(), "PERSOON", 0, "same-as", confidence.get(key, ("", 0.9))[1])
                )
    chosen = _resolve(_unprotected(text, chosen + extra, protected))
    counters: dict[str, int] = {}
    for m in filter(None, map(_PLACEHOLDER.fullmatch, index.values())):
        counters[m.group(1)] = max(counters.get(m.group(1), 0), int(m.group(2)))
    full_names = [f.split() for f, k in kinds.items() if k == "PERSOON" and len(f.split()) > 1]

    def placeholder(key: str, kind: str) -> str:
        if key not in index:
            counters[kind] = counters.get(kind, 0) + 1
            index[key] = f"[{kind}-{counters[kind]}]"
        return index[key]

    seen = set(index)
    out: list[str] = []
    replacements: list[Replacement] = []
    pos = 0
    for start, end, kind, _, evidence, conf in chosen:
        surface, key = text[start:end], _norm(text[start:end])
        if key not in index and kind == "PERSOON":  # "Fatima", "Van der Berg" in one full name
            n = len(words := key.split())
            owners = [f for f in full_names if len(f) > n and words in (f[:n], f[-n:])]
            if len(owners) == 1:
                index[key] = placeholder(" ".join(owners[0]), kind)
        ph = placeholder(key, kind)
        if key not in seen:
            seen.add(key)
            new_mapping[surface.removeprefix("[").removesuffix("]")] = ph
        out += [text[pos:start], ph]
        if evidence == "same-as" and key in confidence:
            evidence, conf = "same-as", max(conf, confidence[key][1])
        replacements.append(Replacement(surface, ph, _kind(ph), start, end, evidence, conf))
        pos = end
    out.append(text[pos:])
    return "".join(out), replacements, new_mapping


def save_mapping(mapping: dict[str, str], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(mapping, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def load_mapping(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CodingError(f"cannot read the name mapping {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and _PLACEHOLDER.fullmatch(v)
        for k, v in data.items()
    ):
        raise CodingError(f"{path} is not a name mapping (a JSON object of name -> [KIND-n])")
    return data


def release() -> None:
    """Drop deduce's lookup structures (about 1 GB) once a transcript is pseudonymised, so the
    models loaded after it do not add to the peak memory."""
    global _ENGINE
    with _LOCK:
        _ENGINE = None
    gc.unfreeze()
    gc.collect()
