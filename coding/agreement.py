"""Intercoder agreement: the figures QDA tools report, as pure functions, and a project's report.

* Percentage agreement and Cohen's kappa at character level, as NVivo's Coding Comparison query
  computes them: for one code and one source every character is a unit, coded by A or not and
  by B or not; agreement = (both + neither) / characters; kappa = (agreement - chance) /
  (1 - chance) with chance = P(A) P(B) + (1 - P(A)) (1 - P(B)) (NVivo's help, "Run a Coding
  Comparison query": a 1000-character source, 50 coded by both, 150 by one, 800 by neither,
  gives 85 %).
* Krippendorff's alpha (nominal) over units with two or more coders and missing values.
* Brennan-Prediger kappa (free-marginal, chance 1/q) as MAXQDA reports it for segments: chance
  agreement is one over the number of codes in the table.
* Precision, recall and F1 of one coder's codes against another's (the assistant against the
  codings a human kept).

``project_agreement`` turns a project's codings into all of these, the assistant being a coder
("watwerkt-suggester <model>") like any other.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import CodingError


# -- pure figures --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Table2x2:
    """Units (characters) coded by both, by A only, by B only, by neither."""

    both: int
    a_only: int
    b_only: int
    neither: int

    @property
    def total(self) -> int:
        return self.both + self.a_only + self.b_only + self.neither

    def __add__(self, other: Table2x2) -> Table2x2:
        return Table2x2(
            self.both + other.both,
            self.a_only + other.a_only,
            self.b_only + other.b_only,
            self.neither + other.neither,
        )


def percentage_agreement(t: Table2x2) -> float:
    if t.total == 0:
        raise ValueError("no units to compare")
    return (t.both + t.neither) / t.total


def cohen_kappa(t: Table2x2) -> float:
    """Cohen's kappa of a 2x2 table; 1.0 when both coders agree on every unit (NVivo shows 1)."""
    n = t.total
    po = percentage_agreement(t)
    pa, pb = (t.both + t.a_only) / n, (t.both + t.b_only) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def char_table(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]], size: int) -> Table2x2:
    """The 2x2 character table of two coders' spans (start, end) over a text of ``size``."""
    mask_a, mask_b = bytearray(size), bytearray(size)
    for spans, mask in ((a, mask_a), (b, mask_b)):
        for start, end in spans:
            if not 0 <= start <= end <= size:
                raise ValueError(f"span {start}-{end} outside a text of {size} characters")
            mask[start:end] = b"\x01" * (end - start)
    both = sum(1 for x, y in zip(mask_a, mask_b, strict=True) if x and y)
    in_a, in_b = sum(mask_a), sum(mask_b)
    return Table2x2(both, in_a - both, in_b - both, size - in_a - in_b + both)


def krippendorff_alpha(units: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha, nominal. ``units[u]`` holds each coder's value for unit u, None
    where that coder gave none; units with fewer than two values are not pairable and left out.
    """
    coincidence: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in units:
        present = [v for v in values if v is not None]
        m = len(present)
        if m < 2:
            continue
        for i, j in itertools.permutations(range(m), 2):
            coincidence[(present[i], present[j])] += 1 / (m - 1)
    marginals: dict[Hashable, float] = defaultdict(float)
    for (c, _), w in coincidence.items():
        marginals[c] += w
    n = sum(marginals.values())
    if n == 0:
        raise ValueError("no pairable values (each unit needs two coders)")
    observed = sum(w for (c, k), w in coincidence.items() if c != k)
    expected = sum(marginals[c] * marginals[k] for c in marginals for k in marginals if c != k)
    if expected == 0:
        return 1.0  # one value throughout: no variation to disagree on
    return 1 - (n - 1) * observed / expected


def brennan_prediger(agreement: float, categories: int) -> float:
    """Free-marginal kappa: chance agreement is 1 / categories."""
    if categories < 2:
        raise ValueError("Brennan-Prediger kappa needs at least two categories")
    chance = 1 / categories
    return (agreement - chance) / (1 - chance)


def maxqda_segment_kappa(a: Mapping[Hashable, set[str]], b: Mapping[Hashable, set[str]]) -> dict:
    """MAXQDA's segment-level figure: over every (segment, code) either coder applied, agreement
    = pairs both applied / all such pairs; kappa by Brennan-Prediger with q = codes compared."""
    pairs = {(u, c) for side in (a, b) for u, codes in side.items() for c in codes}
    if not pairs:
        raise ValueError("neither coder applied a code")
    agree = sum(1 for u, c in pairs if c in a.get(u, set()) and c in b.get(u, set()))
    codes = {c for _, c in pairs}
    po = agree / len(pairs)
    q = max(len(codes), 2)
    return {"agreement": po, "codes": len(codes), "kappa_bp": brennan_prediger(po, q)}


def precision_recall_f1(predicted: int, gold: int, hits: int) -> dict[str, float | None]:
    p = hits / predicted if predicted else None
    r = hits / gold if gold else None
    f1 = 2 * p * r / (p + r) if p is not None and r is not None and (p + r) > 0 else None
    if p is not None and r is not None and p + r == 0:
        f1 = 0.0
    return {"precision": p, "recall": r, "f1": f1}


# -- a project's report --------------------------------------------------------------------------
def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _coder_codes(store: Any) -> tuple[dict[str, dict[int, set[str]]], str | None]:
    """coder -> segment id -> kept codes (a reviewed segment without codes maps to an empty
    set); the assistant's name (None without suggestions)."""
    from .project import assistant_coder
    from .refi import THEME_THRESHOLD

    out: dict[str, dict[int, set[str]]] = defaultdict(dict)
    for c in store.codings():
        codes = out[c.coder].setdefault(c.segment_id, set())
        if c.kept:
            codes.add(c.code)
    models = store.models()
    assistant = None
    if models:
        assistant = assistant_coder(models[0])
        for sid, sug in store.suggestions(models[0]).items():
            out[assistant][sid] = set(sug.codes(THEME_THRESHOLD))
    return dict(out), assistant


def project_agreement(store: Any, coders: Sequence[str] | None = None) -> dict[str, Any]:
    """All agreement figures of a project, ready for ``--json``."""
    by_coder, assistant = _coder_codes(store)
    humans = sorted(c for c in by_coder if c != assistant)
    chosen = list(coders) if coders else [*humans, *([assistant] if assistant else [])]
    missing = [c for c in chosen if c not in by_coder]
    if missing:
        names = ", ".join([*humans, *([assistant] if assistant else [])]) or "none yet"
        raise CodingError(f"coder {missing[0]!r} has no codings in this project; coders: {names}")
    if len(chosen) < 2:
        raise CodingError("agreement needs two coders; code the transcripts as a second coder")
    transcripts = store.transcripts()
    segments = store.segments()
    by_transcript: dict[int, list[Any]] = defaultdict(list)
    for s in segments:
        by_transcript[s.transcript_id].append(s)
    codes = sorted({c for name in chosen for cs in by_coder[name].values() for c in cs})

    pairs = []
    for a, b in itertools.combinations(chosen, 2):
        pairs.append(_pair(a, b, by_coder, transcripts, by_transcript, codes))

    # Krippendorff's alpha on segments: per code (applied or not) and on the CIMO dimension
    units = [s.id for s in segments]
    alpha: dict[str, float | None] = {}
    for code in codes:
        rows = [
            [None if u not in by_coder[c] else int(code in by_coder[c][u]) for c in chosen]
            for u in units
        ]
        alpha[code] = _alpha_or_none(rows)
    cimo_rows = [[_cimo_value(by_coder[c].get(u)) for c in chosen] for u in units]
    report: dict[str, Any] = {
        "project": store.name,
        "coders": chosen,
        "assistant": assistant,
        "codes": codes,
        "pairs": pairs,
        "alpha": {
            "cimo": _r(_alpha_or_none(cimo_rows)),
            "per_code": {k: _r(v) for k, v in alpha.items()},
            "units": sum(1 for row in cimo_rows if sum(v is not None for v in row) >= 2),
        },
        "assistant_vs_humans": [],
        "disagreements": _disagreements(chosen, by_coder, transcripts, segments),
    }
    if assistant in chosen:
        for human in (h for h in chosen if h != assistant):
            report["assistant_vs_humans"].append(_assistant_scores(assistant, human, by_coder))
    return report


def _cimo_value(codes: set[str] | None) -> str | None:
    """A segment's value on the CIMO dimension: its CIMO code(s), "geen", or None (not seen)."""
    from .codebook import CIMO

    if codes is None:
        return None
    return "+".join(sorted(c for c in codes if c in CIMO)) or "geen"


def _alpha_or_none(rows: list[list[Any]]) -> float | None:
    try:
        return krippendorff_alpha(rows)
    except ValueError:
        return None


def _pair(a, b, by_coder, transcripts, by_transcript, codes) -> dict[str, Any]:
    """NVivo-style character figures per code x transcript (over the transcripts both coders
    reviewed) and pooled; MAXQDA's segment figure."""
    rows = []
    pooled: dict[str, Table2x2] = {}
    both_reviewed = set(by_coder[a]) & set(by_coder[b])
    for t in transcripts:
        segs = [s for s in by_transcript[t.id] if s.id in both_reviewed]
        if not segs:
            continue
        for code in codes:
            spans_a = [(s.start, s.end) for s in segs if code in by_coder[a][s.id]]
            spans_b = [(s.start, s.end) for s in segs if code in by_coder[b][s.id]]
            table = char_table(spans_a, spans_b, len(t.text))
            pooled[code] = pooled.get(code, Table2x2(0, 0, 0, 0)) + table
            rows.append(
                {
                    "code": code,
                    "transcript": t.name,
                    "characters": table.total,
                    "both": table.both,
                    "a_only": table.a_only,
                    "b_only": table.b_only,
                    "agreement": _r(percentage_agreement(table)),
                    "kappa": _r(cohen_kappa(table)),
                }
            )
    total = sum(pooled.values(), Table2x2(0, 0, 0, 0))
    seg_a = {u: by_coder[a][u] for u in both_reviewed}
    seg_b = {u: by_coder[b][u] for u in both_reviewed}
    try:
        maxqda = {k: _r(v) for k, v in maxqda_segment_kappa(seg_a, seg_b).items()}
    except ValueError:
        maxqda = None
    cimo_rows = [[_cimo_value(seg_a[u]), _cimo_value(seg_b[u])] for u in sorted(both_reviewed)]
    return {
        "a": a,
        "b": b,
        "segments_compared": len(both_reviewed),
        "alpha_cimo": _r(_alpha_or_none(cimo_rows)),
        "per_code_transcript": rows,
        "per_code": {
            code: {"agreement": _r(percentage_agreement(t)), "kappa": _r(cohen_kappa(t))}
            for code, t in pooled.items()
        },
        "pooled": (
            {"agreement": _r(percentage_agreement(total)), "kappa": _r(cohen_kappa(total))}
            if total.total
            else None
        ),
        "maxqda_segments": maxqda,
    }


def _assistant_scores(assistant: str, human: str, by_coder) -> dict[str, Any]:
    """Precision/recall/F1 per code of the assistant against the codes ``human`` kept, over the
    segments the human reviewed."""
    reviewed = set(by_coder[human]) & set(by_coder[assistant])
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # predicted, gold, hits
    for u in reviewed:
        mine, theirs = by_coder[assistant][u], by_coder[human][u]
        for c in mine:
            counts[c][0] += 1
        for c in theirs:
            counts[c][1] += 1
        for c in mine & theirs:
            counts[c][2] += 1
    per_code = {c: {**precision_recall_f1(*v), "support": v[1]} for c, v in sorted(counts.items())}
    f1s = [v["f1"] for v in per_code.values() if v["support"] and v["f1"] is not None]
    return {
        "human": human,
        "segments": len(reviewed),
        "per_code": {
            c: {k: _r(x) if k != "support" else x for k, x in v.items()}
            for c, v in per_code.items()
        },
        "macro_f1": _r(sum(f1s) / len(f1s)) if f1s else None,
    }


def _disagreements(chosen, by_coder, transcripts, segments) -> list[dict[str, Any]]:
    """(code, segment) where the coders who reviewed the segment differ, sorted by code."""
    names = {t.id: t.name for t in transcripts}
    out = []
    for s in segments:
        present = [c for c in chosen if s.id in by_coder[c]]
        if len(present) < 2:
            continue
        for code in sorted({x for c in present for x in by_coder[c][s.id]}):
            applied = [c for c in present if code in by_coder[c][s.id]]
            if len(applied) != len(present):
                out.append(
                    {
                        "code": code,
                        "transcript": names[s.transcript_id],
                        "segment": s.key,
                        "start": s.start,
                        "text": s.text,
                        "applied_by": applied,
                        "not_by": [c for c in present if c not in applied],
                    }
                )
    return sorted(out, key=lambda d: (d["code"], d["transcript"], d["start"]))


def render_report(report: Mapping[str, Any]) -> str:
    """The report as a few readable lines."""
    lines = [f"Project {report['project']}: {', '.join(report['coders'])}"]
    for p in report["pairs"]:
        pooled = p["pooled"] or {}
        mx = p["maxqda_segments"] or {}
        lines.append(
            f"{p['a']} vs {p['b']} ({p['segments_compared']} segments): agreement "
            f"{pooled.get('agreement')}, kappa {pooled.get('kappa')} (characters); "
            f"Brennan-Prediger {mx.get('kappa_bp')} (segments)"
        )
        for code, v in p["per_code"].items():
            lines.append(f"    {code:<16} agreement {v['agreement']}  kappa {v['kappa']}")
    alpha = report["alpha"]
    lines.append(f"Krippendorff's alpha, CIMO on {alpha['units']} segments: {alpha['cimo']}")
    for v in report["assistant_vs_humans"]:
        lines.append(f"assistant vs {v['human']}: macro-F1 {v['macro_f1']}")
        for code, s in v["per_code"].items():
            lines.append(
                f"    {code:<16} P {s['precision']}  R {s['recall']}  F1 {s['f1']}  "
                f"(n {s['support']})"
            )
    lines.append(f"{len(report['disagreements'])} disagreements:")
    for d in report["disagreements"]:
        lines.append(
            f"  {d['code']:<12} {d['transcript']} {d['segment']}: "
            f"{', '.join(d['applied_by'])} yes, {', '.join(d['not_by'])} no — {d['text'][:70]}"
        )
    return "\n".join(lines)
