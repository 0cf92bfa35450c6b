"""Context rules and gazetteer look-ups that find what deduce's Dutch lists miss.

Each finding is a span with a kind, a priority (the higher wins an overlap), its evidence and a
confidence. Evidence is one of:

- ``list``: a name or place of the gazetteers (``coding.gazetteers``), where the word is not
  also an everyday Dutch word;
- ``context``: a person cue before the word ("tegen", "met", "heet", "meneer", "mijn broer"),
  the subject position of a verb of saying or doing ("Mo zei"), an addressed name ("Mo, ..."),
  a place cue ("in", "uit", "naar") or an employer cue ("stage bij"); an unknown capitalised
  word without any of these is kept as a low-confidence person (to be checked by the coder);
- ``pattern``: streets with or without a house number, postcodes, phone numbers, e-mail
  addresses, dates, BSN numbers and organisations named by a head word ("Yilmaz Bouw").

Whether a word is "an everyday Dutch word" is its Zipf frequency in wordfreq when simplemma
knows it as a Dutch word (names such as "Kevin" are frequent but no Dutch words).
"""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma
from wordfreq import zipf_frequency

from .gazetteers import Gazetteers, tokens

Span = tuple[int, int, str, int, str, float]  # start, end, kind, priority, evidence, confidence

# fmt: off
PARTICLES = frozenset(("van", "de", "der", "den", "el", "al", "ben", "bin", "ter", "ten", "'t",
    "da", "dos", "do", "das", "la", "le", "von", "op", "in", "abu", "ibn", "ould"))
_WEAK_CUES = frozenset(("tegen", "met", "zei", "vroeg", "aan", "voor", "bij", "van", "en",
    "of", "naast", "zonder", "via", "over", "belde", "appte", "zag", "ken", "kende", "kent"))
_STRONG_CUES = frozenset(("heet", "heette", "heten", "genaamd", "noemen", "noemt", "noemde",
    "noem", "bijnaam", "meneer", "mevrouw", "mw", "dhr", "juf", "meester", "mister", "miss",
    "hoi", "hey", "hallo", "dag", "doei", "groetjes", "liefs"))
_ROLE_CUES = frozenset(("broer", "broertje", "zus", "zusje", "neef", "nicht", "neefje",
    "nichtje", "vriend", "vriendin", "vriendje", "moeder", "vader", "oom", "tante", "opa", "oma",
    "collega", "baas", "leidinggevende", "manager", "coach", "jobcoach", "mentor", "docent",
    "leraar", "lerares", "klasgenoot", "buurman", "buurvrouw", "zoon", "dochter", "man", "vrouw",
    "ex", "leerling", "stagebegeleider", "begeleider", "consulent", "klantmanager", "chef",
    "teamleider", "trainer", "schoonmoeder", "schoonvader", "stiefvader", "stiefmoeder",
    "halfbroer", "halfzus", "partner", "verloofde", "vriendinnetje", "maat", "homie", "bro",
    "matties", "mattie", "nichtjes", "cliënt", "client", "werkgever", "contactpersoon"))
_VERBS = frozenset(("zei", "zegt", "vroeg", "vraagt", "vertelde", "vertelt", "belde", "belt",
    "appte", "appt", "riep", "roept", "kwam", "komt", "ging", "gaat", "heeft", "had", "is", "was",
    "wil", "wilde", "moet", "moest", "kan", "kon", "deed", "doet", "liet", "laat", "hielp",
    "helpt", "stuurde", "stuurt", "dacht", "denkt", "vond", "vindt", "lachte", "werkt", "werkte",
    "woont", "woonde", "zat", "zit", "regelde", "regelt", "zorgde", "zorgt", "gaf", "geeft",
    "bracht", "brengt", "nam", "neemt", "snapte", "begreep", "legde", "keek", "kijkt", "zag",
    "ziet", "wist", "weet", "loopt", "liep", "speelt", "speelde", "haalde", "haalt", "leerde",
    "leert", "zocht", "zoekt", "kreeg", "krijgt", "mailde", "mailt", "schreef", "schrijft",
    "antwoordde", "reageerde", "stond", "staat", "zou", "zal", "mag", "mocht", "begon", "begint",
    "stopte", "stopt", "bleef", "blijft", "appt", "sprak", "spreekt", "hoorde", "hoort", "wou",
    "en", "zelf", "ook", "die", "heb", "had", "hebben", "zeggen", "snapt", "gaf"))
_PLACE_CUES = frozenset(("in", "uit", "naar", "vanuit", "richting", "rond", "woon", "woont",
    "woonde", "geboren", "opgegroeid", "wijk", "buurt", "stadsdeel", "dorp", "stad", "regio"))
_COMPASS = frozenset(("noord", "oost", "zuid", "west", "zuidoost", "noordwest", "zuidwest"))
_SCHOOL = re.compile(r"[A-Z][a-zà-ÿ]{2,}(?:college|lyceum|gymnasium|academie|campus)")
_PROGRAMME_CUES = frozenset(("alliantie", "allianties", "programma", "platform", "project"))
_EMPLOYER = re.compile(
    r"(?i:(?:werk(?:t|te|en)?|stage(?:\s+gelopen|\s+lopen|\s+liep)?|baan(?:tje)?|"
    r"in\s+dienst|aangenomen|gesolliciteerd|solliciteren|solliciteerde|bijbaan(?:tje)?|"
    r"leerbaan|leerwerkplek|werkplek|vakantiewerk|contract)(?:\s+[a-z]+){0,3}?\s+bij"
    r"(?:\s+(?:de|het))?)[ \t]+"
    r"(?P<org>[A-Z][\w&'’-]*(?:[ \t]+(?:[A-Z][\w&'’-]*|&|van|de|der)){0,3})"
)
_ORG_SUFFIX = re.compile(
    r"(?<!\w)(?P<org>(?:[A-Z][\w'’-]*\s+(?:(?:van|de|der|den|el|&)\s+)*){1,3}"
    r"(?:Bouw|Transport|Installatietechniek|Installatie|Techniek|Schoonmaak|Schoonmaakdiensten|"
    r"Logistiek|Catering|Services|Service|Holding|Groep|Group|B\.V\.|BV|VOF|V\.O\.F\.|"
    r"Makelaardij|Autoservice|Metaal|Elektro|Bakkerij|Advies|Kinderopvang|Uitzendbureau|"
    r"Personeelsdiensten|Automotive|Infra|Vastgoed|Fashion|Food|Foods|Supermarkt|Market|Shop|"
    r"Kappers|Hair|Barbershop|Beauty|Fitness|Gym|Security|Beveiliging|Zonen|Zn\.?)(?!\w))"
)
# fmt: on
_STREET_WORD = (
    r"[A-Z][\w'’-]*?(?:straat|laan|weg|plein|gracht|kade|singel|dijk|dreef|hof|park|steeg|"
    r"pad|baan|dam|markt|boulevard|plantsoen|erf|wal|burgwal|haven|kwartier|passage)"
)
_STREET = re.compile(
    rf"(?<![\w-])(?:[A-Z][\w.'’-]*\s+(?:(?:[A-Z][\w.'’-]*|van|de|der|den|het|'t|la)\s+){{0,3}})?"
    rf"{_STREET_WORD}(?P<nr>\s+\d{{1,4}}(?:\s?[a-zA-Z](?![\w]))?(?:[-/]\d{{1,4}})?)?(?![\w-])"
)
_POSTCODE = re.compile(r"(?<!\w)[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}(?!\w)")
_PHONE_NL = re.compile(r"(?<![\w+])(?:\+31|0031|0)(?:\s?\(0\))?(?:[ -]{0,3}\d){9}(?!\d)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATE = re.compile(
    rf"(?<![\w-])(?:\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:19|20)?\d{{2}}|"
    rf"\d{{1,2}}\s+(?i:{_MONTHS})\.?\s+(?:19|20)\d{{2}}|(?:19|20)\d{{2}}-\d{{2}}-\d{{2}})(?![\w-])"
)
_NINE = re.compile(r"(?<![\d.,-])(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}[ .]\d{3}[ .]\d{3})(?![\d,-])")


@lru_cache(maxsize=200_000)
def dutchness(word: str) -> float:
    """The Zipf frequency of a word that simplemma knows as Dutch, else 0 (names are no words)."""
    low = word.lower()
    return zipf_frequency(low, "nl") if simplemma.is_known(low, lang="nl") else 0.0


@lru_cache(maxsize=200_000)
def everyday(word: str) -> float:
    """Like ``dutchness``, but a compound of two Dutch words ("Talentontwikkeling",
    "Hoveniersbedrijf", "BBL-traject") counts as a Dutch word too (Zipf 3)."""
    if found := dutchness(word):
        return found
    low = word.lower()
    if "-" in low:
        parts = [p for p in low.split("-") if p]
        if len(parts) > 1 and everyday(parts[-1]) >= 3.0:
            return 3.0  # "BBL-traject", "MBO-studenten"
        return 0.0
    for i in range(3, len(low) - 2):
        head, tail = low[:i], low[i:]
        if dutchness(tail) < 2.5 or len(tail) < 3:
            continue
        stem = head[:-1] if head.endswith("s") and len(head) > 3 else head
        if dutchness(head) >= 2.5 or dutchness(stem) >= 2.5 or everyday_prefix(head):
            return 3.0
    return 0.0


def everyday_prefix(head: str) -> bool:
    return head in ("on", "her", "ver", "be", "ont", "mee", "door", "over", "weg", "uit", "in")


def _elfproef(digits: str) -> bool:
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def patterns(text: str) -> list[Span]:
    """Streets, postcodes, phone numbers, e-mail, dates, BSN and organisations by head word."""
    spans: list[Span] = []
    for m in _STREET.finditer(text):
        words = m.group(0).split()
        street = words[-1] if not m.group("nr") else words[-2] if len(words) > 1 else words[-1]
        single = m.group("nr") is None and len(words) == 1
        if single and dutchness(street) >= 2.5:
            continue  # "Arbeidsmarkt", "Snelweg": everyday words, no street
        conf = 0.95 if m.group("nr") else 0.8 if not single else 0.7
        rank = 7 if m.group("nr") else 2 if single else 5  # "Rotterdam" is a place, no street
        spans.append((m.start(), m.end(), "PLAATS", rank, "pattern", conf))
    spans += [(m.start(), m.end(), "PLAATS", 7, "pattern", 0.95) for m in _POSTCODE.finditer(text)]
    spans += [
        (m.start(), m.end(), "TELEFOON", 6, "pattern", 0.95) for m in _PHONE_NL.finditer(text)
    ]
    spans += [(m.start(), m.end(), "EMAIL", 9, "pattern", 0.99) for m in _EMAIL.finditer(text)]
    spans += [(m.start(), m.end(), "DATUM", 6, "pattern", 0.9) for m in _DATE.finditer(text)]
    for m in _NINE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        cue = re.search(r"(?i)bsn|burgerservice|sofi", text[max(0, m.start() - 40) : m.start()])
        if _elfproef(digits) or cue:
            spans.append((m.start(), m.end(), "NUMMER", 7, "pattern", 0.95 if cue else 0.85))
    for m in _ORG_SUFFIX.finditer(text):
        first = m.group("org").split()[0]
        if not _sentence_start(text, m.start()) or dutchness(first) < 3.0:
            spans.append((m.start(), m.end(), "ORGANISATIE", 7, "pattern", 0.85))
    for m in _EMPLOYER.finditer(text):
        org = m.group("org")
        if org.split()[-1] in ("&", "van", "de", "der"):
            continue
        if dutchness(org.split()[0]) < 4.0:
            spans.append((m.start("org"), m.end("org"), "ORGANISATIE", 5, "context", 0.75))
    return spans


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?:\n]…"


def names_and_places(text: str, gaz: Gazetteers, skip: frozenset[str]) -> list[Span]:
    """Persons and places from the gazetteers and the context around each word.

    ``skip``: casefolded words that are never a name here (role labels, titles).
    """
    spans: list[Span] = []
    offs = list(tokens(text))
    words = [text[s:e] for s, e in offs]
    n = len(words)
    i = 0
    while i < n:
        start, end = offs[i]
        word = words[i]
        low = word.lower()
        prev = words[i - 1].lower() if i else ""
        prev2 = words[i - 2].lower() if i > 1 else ""
        nxt = words[i + 1].lower() if i + 1 < n else ""
        between_prev = text[offs[i - 1][1] : start] if i else "\n"
        after = text[end : offs[i + 1][0]] if i + 1 < n else "\n"
        at_start = _sentence_start(text, start)
        cap = word[0].isupper()
        acronym = word.isupper() and len(word) > 1
        dutch = dutchness(word)
        common = everyday(word)  # compounds too: for the rules without a list behind them
        if low in skip or (acronym and len(word) <= 4) or prev in _PROGRAMME_CUES:
            i += 1
            continue
        # a place of the gazetteers, "Bos en Lommer" before "Bos"
        place = gaz.place_at(words, i)
        if place and (cap or (prev in _PLACE_CUES and dutch == 0.0)):
            last = offs[i + place - 1][1]
            cue = prev in _PLACE_CUES or prev2 in _PLACE_CUES
            if place > 1 or dutch < 3.0 or cue:
                conf = 0.9 if place > 1 or dutch < 3.0 else 0.75
                if not at_start or dutch < 3.0 or place > 1:
                    rank = 3 if gaz.is_first_name(word) else 4  # "Asmara" is no person
                    spans.append((start, last, "PLAATS", rank, "list", conf))
        # a full name: first name + surname, particles in between ("Fatima el Amrani")
        if cap and gaz.is_first_name(word) and dutch < 4.5 and i + 1 < n:
            j, k = i + 1, i + 1
            while (
                k < n and words[k].lower() in PARTICLES and text[offs[k - 1][1] : offs[k][0]] == " "
            ):
                k += 1
            if (
                k < n
                and words[k][0].isupper()
                and text[offs[k - 1][1] : offs[k][0]] == " "
                and words[k].lower() not in skip
                and (gaz.is_name(words[k]) or dutchness(words[k]) < 3.5)
                and not (words[k].isupper() and len(words[k]) <= 4)
            ):
                j = k + 1
                if (
                    j < n
                    and words[j][0].isupper()
                    and gaz.is_surname(words[j])
                    and (text[offs[j - 1][1] : offs[j][0]] == " ")
                ):
                    j += 1  # "Mehmet Ali Yılmaz"
                spans.append((start, offs[j - 1][1], "PERSOON", 5, "list", 0.95))
        if cap and low in _COMPASS and (prev in ("op", "in", "naar", "uit") and not at_start):
            spans.append((start, end, "PLAATS", 3, "context", 0.75))  # "op Zuid", "in Noord"
        if cap and _SCHOOL.fullmatch(word) and low not in skip:
            spans.append((start, end, "ORGANISATIE", 5, "pattern", 0.8))  # "Mediacollege"
        name_listed = gaz.is_name(word)
        evidence: tuple[str, float] | None = None
        if cap and not acronym:
            if prev in _STRONG_CUES or (prev in _ROLE_CUES and between_prev.strip() in ("", ",")):
                evidence = ("context", 0.9) if dutch < 5.0 else None
            elif name_listed and not at_start and dutch < 4.0:
                evidence = ("list", 0.85)
            elif name_listed and at_start and dutch == 0.0:
                evidence = ("list", 0.8)
            elif prev in _WEAK_CUES and not at_start and common < 3.0:
                evidence = ("context", 0.8 if common == 0.0 else 0.65)
            elif nxt in _VERBS and after == " " and common < (3.0 if at_start else 4.0):
                evidence = ("context", 0.8 if name_listed or common == 0.0 else 0.6)
            elif after.startswith(",") and at_start and common == 0.0:
                evidence = ("context", 0.8)  # "Mo, kom je?"
            elif between_prev.rstrip().endswith(",") and after[:1] in "!?." and common == 0.0:
                evidence = ("context", 0.8)  # "Dank je, Mo!"
            elif (
                not at_start
                and common == 0.0
                and zipf_frequency(low, "nl") < 3.5
                and zipf_frequency(low, "en") < 4.0
            ):  # an unknown capitalised word: a low-confidence person, for the coder to check
                kind = "PLAATS" if prev in _PLACE_CUES else "PERSOON"
                spans.append((start, end, kind, 1, "context", 0.45))
        elif not cap and common == 0.0 and len(word) >= 2 and zipf_frequency(low, "en") < 4.5:
            if prev in _STRONG_CUES or (prev in _ROLE_CUES and between_prev.strip() in ("", ",")):
                evidence = ("context", 0.75)  # "heet mo", "mijn broer bilal"
            elif (
                name_listed
                and (nxt in _VERBS or prev in _WEAK_CUES)
                and zipf_frequency(low, "nl") < 4.5
            ):
                evidence = ("context", 0.65)  # "mo zei", "tegen mo"
        if evidence:
            spans.append((start, end, "PERSOON", 4, evidence[0], evidence[1]))
        i += 1
    return spans
