"""Answer typing: does the evidence hold the kind of answer the question asks for?

Classic question-answering checks, each general and each explained in the refusal note:

- "Hoeveel X ..." needs a sentence that gives a quantity of X ("70 jongeren", "negen
  allianties"); "hoeveel procent / welk deel" needs a percentage or share; a question about
  cost, budget, subsidy or salary needs an amount of money;
- "wanneer / in welk jaar / tot welk jaar" needs a date or year;
- a year or number named in the question must occur in the reports (they do not cover 2022
  because a question mentions 2022);
- a proper name in a Dutch question (Duitsland, an organisation) must occur in the reports:
  they cannot answer about what they never mention.

The rules are of two families (``rule_family``): the **answer type** (the evidence lacks the
kind of answer asked for: a number, share, amount, duration or date) and **never mentioned**
(the question names a year, number, name or thing the reports never use). The trained model
(rag/answer_model.py) says per family whether its rules refuse before it or are one of its
inputs (``AnswerModel.vetoes``), as measured by benchmarks/train_answer_model.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache

from .bm25 import dutch_stopwords

_NUMBER_WORDS = (
    "één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|"
    "vijftien|twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|"
    "honderden|duizend|duizenden|tientallen"
)
_QUANTITY = re.compile(rf"(?<![\w,.])(\d+(?:[.,]\d+)?|{_NUMBER_WORDS})(?![\w])", re.I)
_HOW_MANY = re.compile(r"\b(?:hoeveel|how\s+many|how\s+much)\b\s*(.*)", re.I)
_PERCENT_Q = re.compile(
    r"\b(procent|percentage|welk\s+deel|welk\s+aandeel|aandeel|"
    r"what\s+share|what\s+percentage|rapportcijfer|cijfer)\b",
    re.I,
)
_PERCENT_A = re.compile(
    r"\d\s*%|\bprocent\b|\b(helft|derde|kwart|meerderheid|minderheid|"
    r"merendeel|gros)\b|\b\d+(?:[.,]\d+)?\s+van\s+de\b",
    re.I,
)
_MONEY_Q = re.compile(
    r"\b(kost|kosten|kostte|kostten|\w*budget\w*|\w*subsidie|\w*subsidies|\w*salaris\w*|"
    r"\w*loon|\w*lonen|euro|geld|\w*vergoeding\w*|\w*bedrag\w*|kosten-baten\w*|fee|"
    r"costs?|salar\w*|paid|price|prijs)\b",
    re.I,
)
_MONEY_A = re.compile(r"€|\beuro\b|\bmiljoen\b|\bmln\b|\b\d+(?:[.,]\d+)?\s*(?:k|dzd)\b", re.I)
_WHEN_Q = re.compile(
    r"\b(wanneer|in\s+welk\s+jaar|tot\s+welk\s+jaar|sinds\s+wanneer|"
    r"vanaf\s+wanneer|in\s+what\s+year|until\s+when|(?:op\s+)?welke\s+datum|"
    r"in\s+welke\s+maand|op\s+welke\s+dag|on\s+what\s+date)\b|^\s*when\b",
    re.I,
)
_WHEN_A = re.compile(
    r"\b(19|20)\d\d\b|\b(januari|februari|maart|april|mei|juni|juli|augustus|"
    r"september|oktober|november|december)\b",
    re.I,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_NUMBER_IN_Q = re.compile(r"(?<![\w,.-])\d+(?:[.,]\d+)?(?![\w-])")  # not COVID-19, mbo-2
_DATE_Q = re.compile(r"\b(welke\s+datum|op\s+welke\s+dag|on\s+what\s+date)\b", re.I)
_DATE_A = re.compile(
    r"\b\d{1,2}\s+(januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
    r"november|december)\b|\b\d{1,2}[-/]\d{1,2}[-/]\d{2,4}\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![\w-])([A-Z][\w-]{2,})")
_QUESTION_VERBS = frozenset(
    [
        "zijn",
        "is",
        "was",
        "waren",
        "heeft",
        "hebben",
        "had",
        "hadden",
        "kost",
        "kosten",
        "krijgt",
        "kregen",
        "deden",
        "doen",
        "werd",
        "worden",
        "werden",
        "er",
        "de",
        "het",
        "een",
        "van",
        "per",
        "procent",
    ]
)
_COMPARATIVES = frozenset(
    [
        "hoger",
        "lager",
        "meer",
        "minder",
        "groter",
        "kleiner",
        "vaker",
        "langer",
        "korter",
        "eerder",
        "later",
        "sneller",
    ]
)
_ASKS_AMOUNT = re.compile(
    r"\b(hoeveel|wat\s+(?:is|was|zijn|waren|kost|kosten|bedraagt|"
    r"bedroeg)|hoe\s+(?:hoog|groot)|welk\s+bedrag|how\s+much|"
    r"what\s+(?:is|was|are)\s+the)\b",
    re.I,
)
_DURATION_Q = re.compile(
    r"\bhoeveel\s+(tijd|jaren|maanden|weken|dagen|uur|uren)\b|"
    r"\bhoe\s+lang\b|\bhow\s+long\b",
    re.I,
)
_TIME_WORDS = re.compile(
    r"\b(tijd|jaren|jaar|maanden|maand|weken|week|dagen|dag|uur|uren|time|years)\b", re.I
)
# "Wat werkt voor X", "Helpt X ...", "Is X effectief": the group or the intervention asked about.
_EFFECT_Q = re.compile(
    r"\b(wat\s+werkt|welke\s+aanpak|werkt|werken|helpt|helpen|effect|effecten|effectief|"
    r"effectiever|effectieve|zinvol|succesvol|verbetert|verbeteren|vergroot|vergroten|"
    r"verhoogt|verhogen|bevordert|bevorderen|vermindert|verminderen)\b",
    re.I,
)
_TARGET = re.compile(
    r"\b(?:voor|bij|om)\s+(.+)$|\beffect(?:en)?\s+van\s+(.+)$|\b(?:jongeren|studenten|leerlingen|scholieren|mensen)\s+"
    r"((?:met|die|zonder|uit|in|op)\b.+)$",
    re.I,
)
_SUBJECT = re.compile(
    r"^\s*(?:hoe\s+(?:effectief|goed|succesvol|zinvol)\s+)?(?:is|zijn|werkt|werken|helpt|"
    r"helpen|verbetert|verbeteren|vergroot|vergroten|verhoogt|verhogen|bevordert|bevorderen|"
    r"vermindert|verminderen)\s+(.+?)(?=\b(?:effectief\w*|beter|goed|"
    r"zinvol|succesvol|jongeren|werkgevers|voor|om|bij|tegen|dan)\b|\?|$)",
    re.I,
)


_ENGLISH = frozenset(
    [
        "the",
        "what",
        "which",
        "who",
        "how",
        "why",
        "does",
        "do",
        "did",
        "is",
        "are",
        "was",
        "were",
        "of",
        "for",
        "to",
        "and",
        "in",
        "with",
        "young",
        "people",
        "many",
        "much",
        "when",
        "where",
        "their",
        "they",
        "it",
        "this",
        "that",
        "there",
        "be",
        "been",
        "has",
        "have",
        "should",
        "can",
        "work",
        "works",
        "an",
        "on",
        "at",
        "by",
        "from",
        "or",
        "not",
    ]
)
_DUTCH = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "wat",
        "welke",
        "wie",
        "hoe",
        "waarom",
        "is",
        "zijn",
        "was",
        "voor",
        "met",
        "op",
        "in",
        "te",
        "die",
        "dat",
        "er",
        "niet",
        "jongeren",
        "bij",
        "aan",
        "door",
        "of",
        "ook",
        "wordt",
        "worden",
        "kan",
        "hebben",
        "heeft",
    ]
)


def is_english(question: str) -> bool:
    words = re.findall(r"[a-z]+", question.lower())
    return sum(w in _ENGLISH for w in words) > sum(w in _DUTCH for w in words)


@lru_cache(maxsize=1)
def _stem():
    import Stemmer

    return Stemmer.Stemmer("dutch_porter").stemWord


def _duration_unit(question: str) -> str | None:
    """The time unit a question asks a number of ("hoeveel uur" -> "uur"; "hoe lang" -> "")."""
    match = re.search(r"\bhoeveel\s+(tijd|jaren|maanden|weken|dagen|uur|uren)\b", question, re.I)
    if match:
        return "" if match.group(1).lower() == "tijd" else match.group(1).lower()
    return "" if re.search(r"\bhoe\s+lang\b", question, re.I) else None


def _counted(question: str) -> str | None:
    """The word a "hoeveel" question counts: the first content word after it."""
    match = _HOW_MANY.search(question)
    if not match:
        return None
    for word in re.findall(r"[\w-]+", match.group(1).lower())[:4]:
        if word in _COMPARATIVES or _TIME_WORDS.fullmatch(word):
            return None  # "hoeveel hoger", "hoeveel tijd": a difference or a duration
        if word not in _QUESTION_VERBS and word not in dutch_stopwords() and not word.isdigit():
            return word
    return None


def _counts(sentence: str, focus: str, given: frozenset[str] = frozenset()) -> bool:
    """Whether ``sentence`` gives a number of ``focus`` ("70 jongeren", "340 studenten").

    The counted word may be the head of a compound on either side ("259 leerlingen" counts
    "basisschoolleerlingen"). A number the question itself names ("hoeveel van de 131 ...")
    is given, not an answer."""
    stem = _stem()
    focus = focus.split("-")[-1]
    target = stem(focus)
    words = re.findall(r"[\w-]+", sentence.lower())
    for i, word in enumerate(words):
        if not _QUANTITY.fullmatch(word) or word in given:
            continue
        for nxt in words[i + 1 : i + 4]:
            last = nxt.split("-")[-1]
            other = stem(last)
            if other == target or (
                min(len(other), len(target)) >= 4
                and (other.endswith(target) or target.endswith(other))
            ):
                return True  # basisschoolleerlingen ~ leerlingen (the head of the compound)
            if min(len(last), len(focus)) >= 5 and (focus.endswith(last) or last.endswith(focus)):
                return True  # the stemmer cuts compounds differently: compare the words
    return False


def _duration(sentence: str, unit: str, given: frozenset[str]) -> bool:
    """Whether ``sentence`` gives a number of time units ("10 maanden", "twee jaar")."""
    stem = _stem()
    for match in re.finditer(rf"{_QUANTITY.pattern}\s+([\w-]+)", sentence, re.I):
        if match.group(1).lower() in given:
            continue
        if _TIME_WORDS.fullmatch(match.group(2)) and (
            not unit or stem(match.group(2).lower())[:3] == stem(unit)[:3]
        ):
            return True
    return False


def known_word(word: str, known: Callable[[str], bool]) -> bool:
    """Whether the reports use ``word``, or both halves of it as a compound (Dutch
    "basisschoolleerlingen" = "basisschool" + "leerlingen", with a linking s or e)."""
    if known(word):
        return True
    lower = word.lower().replace("-", "")
    for cut in range(3, len(lower) - 2):
        head, tail = lower[:cut], lower[cut:]
        heads = [head] + ([head[:-1]] if head[-1] in "se" and len(head) > 3 else [])
        if known(tail) and any(known(h) for h in heads):
            return True
    return False


@lru_cache(maxsize=20_000)
def specificity(word: str) -> float:
    """How specific a word is in Dutch at large, 0 (everyday: "zitten") to 1 (rare: "autisme");
    a capitalised name counts as fully specific. From wordfreq's Zipf frequency."""
    if word[:1].isupper():
        return 1.0
    from wordfreq import zipf_frequency

    return min(1.0, max(0.0, (5.5 - zipf_frequency(word, "nl")) / 3.0))


def _everyday(word: str) -> bool:
    """One of the most frequent Dutch words in its base form ("bijna", "klaar"): no topic of
    its own. An inflected form ("vrouwen", a plural) still names a group."""
    from .bm25 import _lemma

    lower = word.lower()
    return not word[:1].isupper() and _lemma(lower) == lower and specificity(lower) == 0.0


def verb_like(word: str) -> bool:
    """A verb form ("komen", "willen"): a word simplemma knows whose lemma is an infinitive.
    A word it does not know ("praktijkverklaringen") is left in: it may be what is asked."""
    import simplemma

    from .bm25 import _lemma

    return simplemma.is_known(word, lang="nl") and _lemma(word).endswith("en")


# Words of the question form, not of its content: they are no evidence of an answer.
QUESTION_WORDS = frozenset(
    """hoeveel waarom wanneer waar wie wat welk welke hoe hoelang waardoor waarmee waarin
    waarop waaraan waarvoor waarover kun kan kunnen moet moeten mag volgens verslag rapport
    rapporten je jij u we wij zij ze mijn ons onze eigenlijk precies gemiddeld concreet
    what which who whom whose when where why how many much does do did is are was were the
    a an of for to in on at by with and or from that this these those there their it its be
    been has have had can could should would will not any""".split()  # noqa: SIM905
)


WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")  # a word: letters, inner - or '
_DETERMINERS = frozenset(
    ["zulke", "zulk", "dergelijke", "dergelijk", "zo'n", "sommige", "alle", "elke", "iedere"]
)


def asked_about(question: str) -> list[str]:
    """The content words naming the group or intervention of a "what works" question:
    after "voor"/"bij", after "jongeren met/die ...", or the subject of "Helpt/Is X ..."."""
    if not _EFFECT_Q.search(question):
        return []
    phrases = []
    target = _TARGET.search(question)
    if target:
        phrases.append(next(g for g in target.groups() if g))
    subject = _SUBJECT.search(question)
    dummy = r"het\s+(?:als|om|dat|wanneer|indien|of)\b"  # "helpt het als ...": no subject
    if subject and not re.match(dummy, subject.group(1), re.I):
        phrases.append(subject.group(1))
    stop = dutch_stopwords()
    words = WORD.findall(" ".join(phrases))
    return [
        w
        for w in dict.fromkeys(words)
        if len(w) > 2
        and w.lower() not in stop
        and w.lower() not in QUESTION_WORDS
        and w.lower() not in _DETERMINERS
        and not _EFFECT_Q.fullmatch(w)
        and not verb_like(w.lower())
    ]


def topic_words(question: str) -> list[str]:
    """The question's content words, situation included: no question words, stop words or
    everyday words ("bijna", "klaar")."""
    stop = dutch_stopwords()
    return [
        w
        for w in dict.fromkeys(WORD.findall(question))
        if len(w) > 2
        and w.lower() not in QUESTION_WORDS
        and w.lower() not in stop
        and not _everyday(w)
    ]


def off_topic(question: str, known: Callable[[str], bool]) -> list[str]:
    """The content words of a Dutch question when the reports use none of them, even as a
    compound part ("recept", "appeltaart"); empty otherwise. Two or more are needed: a lone
    word ("Wat is dan het alternatief?") may be a follow-up that leans on the chat."""
    words = topic_words(question)
    if len(words) < 2 or any(known_word(w, known) for w in words):
        return []
    return words


def focus(question: str) -> str:
    """The question itself when a user first describes their situation ("Ik ben coach van
    mbo-studenten. Vanaf wanneer ...?"): the last sentence that asks, else the last sentence."""
    parts = [p for p in re.split(r"(?<=[.!?])\s+(?=[^\W\d_])", question.strip()) if p]
    if len(parts) <= 1:
        return question
    asking = [p for p in parts if p.rstrip().endswith("?")]
    return asking[-1] if asking else parts[-1]


def problems(
    question: str, sentences: Sequence[str], known: Callable[[str], bool], english: bool
) -> list[str]:
    """Why the evidence cannot answer the question (empty when nothing is wrong).

    ``sentences``: the best evidence sentences, which share words with the question;
    ``known``: whether a word (a name, a year, a number) occurs anywhere in the indexed reports.
    Only the question proper counts, not a situation described before it. (A question none of
    whose words the reports use is refused before: ``off_topic``.)
    """
    question = focus(question)
    found: list[str] = []
    money_word = _MONEY_Q.search(question)
    money = money_word is not None and _ASKS_AMOUNT.search(question) is not None
    if money and _DURATION_Q.search(question):
        money = False  # "hoeveel tijd kost het": time, not money
    if money and not any(_MONEY_A.search(s) for s in sentences):
        found.append("asks for an amount of money; no amount in the evidence")
    elif _PERCENT_Q.search(question) and _HOW_MANY.search(question) is None:
        if not any(_PERCENT_A.search(s) for s in sentences):
            found.append("asks for a share; no percentage in the evidence")
    elif _HOW_MANY.search(question):
        if _PERCENT_Q.search(question):
            if not any(_PERCENT_A.search(s) for s in sentences):
                found.append("asks for a share; no percentage in the evidence")
        else:
            counted = _counted(question)
            given = frozenset(n.lower() for n in _QUANTITY.findall(question))
            unit = _duration_unit(question)
            if unit is not None and not english:
                if not any(_duration(s, unit, given) for s in sentences):
                    found.append("asks how long; no duration in the evidence")
            elif counted and not english and not any(_counts(s, counted, given) for s in sentences):
                found.append(f"asks how many {counted}; no number of {counted} in the evidence")
            elif not any(_QUANTITY.search(s) for s in sentences):
                found.append("asks for a number; no number in the evidence")
    if _WHEN_Q.search(question) and not any(_WHEN_A.search(s) for s in sentences):
        found.append("asks when; no date in the evidence")
    elif _DATE_Q.search(question) and not any(_DATE_A.search(s) for s in sentences):
        found.append("asks for a date; no day and month in the evidence")
    for number in set(_NUMBER_IN_Q.findall(question)):
        if not known(number):
            found.append(f"the reports never mention {number}")
    if not english:
        for word in asked_about(question):
            if not known_word(word, known) and not _everyday(word):
                found.append(f"asks about {word}, which the reports never mention")
        starts = {m.group(1) for m in re.finditer(r"(?:^|[.?!]\s+)([\w-]+)", question)}
        for name in dict.fromkeys(_CAPITALISED.findall(question)):
            if name not in starts and not known(name):
                found.append(f"the reports never mention {name}")
    return found


ANSWER_TYPE = "answer type"
NEVER_MENTIONED = "never mentioned"
RULE_FAMILIES = (ANSWER_TYPE, NEVER_MENTIONED)


def rule_family(reason: str) -> str:
    """The family of a reason ``problems`` gave: ``NEVER_MENTIONED`` or ``ANSWER_TYPE``."""
    return NEVER_MENTIONED if "never mention" in reason else ANSWER_TYPE


def asks_type(question: str) -> bool:
    """Whether the question asks for a number, share, amount or date."""
    return bool(
        _HOW_MANY.search(question)
        or _WHEN_Q.search(question)
        or (_PERCENT_Q.search(question))
        or (_MONEY_Q.search(question) and _ASKS_AMOUNT.search(question))
    )


def fits_type(question: str, sentence: str, english: bool = False) -> bool:
    """Whether ``sentence`` gives the kind of answer ``question`` asks for."""
    return asks_type(question) and not [
        p for p in problems(question, [sentence], lambda _: True, english)
    ]
