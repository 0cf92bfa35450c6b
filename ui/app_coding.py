"""Tab "Coderen": upload a transcript, review the suggested codes, export REFI-QDA and CSV.

A transcript's project folder is ``WATWERKT_HOME/projects/<hash of the file>/``: the name
mapping (never exported) and ``review.sqlite`` with the coder's decisions, which are restored
when the same file is opened again.
"""

from __future__ import annotations

import csv
import dataclasses
import tempfile
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coding.codebook import CIMO, Codebook, load_codebook
from coding.models import CodedSegment, CodedTranscript
from coding.refi import THEME_THRESHOLD, write_qdc, write_qdpx
from coding.review import Decision, ReviewStore

from .app_common import esc, index_lock, ready
from .guard import check_transcript
from .wiring import App

CODE_NAMES = {"C": "Context", "I": "Interventie", "M": "Mechanisme", "O": "Uitkomst"}
KEYS = {"1": "C", "2": "I", "3": "M", "4": "O"}
ALL = "alle"
NO_CODE = "geen code"
STATE_LABELS = {"open": "Open", "accepted": "Geaccepteerd", "changed": "Gewijzigd"}
STATE_LABELS["rejected"] = "Verworpen"
Progress = Callable[[float, str], None]
_suggesters: weakref.WeakKeyDictionary[App, object] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True, eq=False)
class CodingSession:
    """One opened transcript: its coded segments, codebook and project folder. Hashed by
    identity: Gradio hashes session state after every event, and the records inside hold
    dicts (scores, replacement reports)."""

    coded: CodedTranscript
    codebook: Codebook
    project: Path
    restored: int = 0  # decisions found in the review store when it was opened
    replacements: tuple[dict[str, Any], ...] = ()  # the pseudonymiser's report: no original text
    confirmed: frozenset[str] = frozenset()  # uncertain placeholders the coder confirmed

    @property
    def store(self) -> ReviewStore:
        return ReviewStore(self.project / "review.sqlite", self.coded)

    def texts(self) -> dict[str, str]:
        return {cs.segment.id: cs.segment.text for cs in self.coded.segments}

    def decisions(self) -> dict[str, Decision]:
        return self.store.matching(self.texts())

    def segment(self, segment_id: str) -> CodedSegment | None:
        return next((cs for cs in self.coded.segments if cs.segment.id == segment_id), None)


def project_dir(app: App, path: Path) -> Path:
    from coding.pipeline import mapping_path_for

    return mapping_path_for(app.settings.home, path).parent


def neutral_name(path: str | Path) -> str:
    """The name an uploaded transcript gets in exports and projects: 'transcript-<hash>',
    never the file name (which is often 'interview-<name of the respondent>')."""
    from ingest.document import file_hash

    path = Path(path)
    return f"transcript-{file_hash(path)[:10]}{path.suffix.lower()}"


def _suggester(app: App, codebook: Codebook):
    """The trained suggester, built once per App (training is cached on disk as well)."""
    from coding.pipeline import make_suggester

    cached = _suggesters.get(app)
    if cached is None:
        cached = _suggesters[app] = make_suggester(
            codebook, app.index.embedder, app.settings.home / "models"
        )
    return cached


def open_transcript(
    app: App,
    path: str | Path,
    keep_names: bool = False,
    progress: Progress | None = None,
    name: str | None = None,
) -> CodingSession:
    """Check, import, pseudonymise (unless ``keep_names``), segment and code a transcript."""
    from coding.pipeline import code_loaded, mapping_path_for, pseudonymiser_for
    from coding.transcripts import load_transcript

    from .wiring import report_search_for

    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, text)

    path = check_transcript(path)
    project = project_dir(app, path)
    pseudonymiser = None
    if not keep_names:
        step(0.05, "Namen, plaatsen en contactgegevens vervangen…")
        pseudonymiser = pseudonymiser_for(mapping_path_for(app.settings.home, path))
    transcript = load_transcript(path, pseudonymiser, name=name or path.name)
    if pseudonymiser is not None:
        from coding.pseudonymise import release

        release()
    step(0.4, "Segmenten maken en codes voorstellen…")
    codebook = load_codebook()
    ready(app)
    with index_lock(app).read():
        suggester = _suggester(app, codebook)
        coded = code_loaded(transcript, suggester, report_search=report_search_for(app))
    step(1.0, "Klaar")
    report = tuple(pseudonymiser.report) if pseudonymiser is not None else ()
    session = CodingSession(coded, codebook, project, replacements=report)
    return dataclasses.replace(session, restored=len(session.decisions()))


def notice_markdown(session: CodingSession) -> str:
    t = session.coded.transcript
    n = len(session.coded.segments)
    if t.pseudonymised:
        privacy = (
            "🔒 **Gepseudonimiseerd.** Namen, plaatsen, organisaties, e-mailadressen, "
            "telefoonnummers en datums zijn vervangen door codes als `[PERSOON-1]`, vóórdat een "
            "model de tekst zag. De sleutel blijft op deze computer en wordt nooit geëxporteerd."
        )
    else:
        privacy = (
            "⚠️ **Namen behouden.** De tekst is niet gepseudonimiseerd; namen staan ook in de "
            "exports. Deel die alleen als dat mag."
        )
    restored = f" {session.restored} eerdere beslissing(en) hersteld." if session.restored else ""
    unsure = sum(1 for r in session.replacements if r["uncertain"])
    if t.pseudonymised and unsure:
        privacy += f" **{unsure} vervanging(en) onzeker**: gemarkeerd; controleer ze hieronder."
    return f"{privacy}\n\n**{esc(t.name)}**: {n} segmenten.{restored}"


def suggested_codes(cs: CodedSegment) -> list[str]:
    """What "accepteren" takes over: the CIMO code and the suggested themes."""
    codes = [cs.cimo] if cs.cimo else []
    return codes + [t.code for t in cs.themes if t.score >= THEME_THRESHOLD]


def decide(session: CodingSession, segment_id: str, action: str, code: str = "") -> None:
    """accept / reject / code (choose ``code`` instead of the suggestion) / undo."""
    cs = session.segment(segment_id)
    if cs is None:
        return
    store, text = session.store, cs.segment.text
    themes = [t.code for t in cs.themes if t.score >= THEME_THRESHOLD]
    if action == "accept":
        store.set_decision(segment_id, "accepted", suggested_codes(cs), text)
    elif action == "reject":
        store.set_decision(segment_id, "rejected", (), text)
    elif action == "code" and code in CIMO:
        kind = "accepted" if code == cs.cimo else "changed"
        store.set_decision(segment_id, kind, [code, *themes], text)
    elif action == "undo":
        store.clear(segment_id)


def _effective(cs: CodedSegment, decision: Decision | None) -> str | None:
    """The CIMO code a row shows: the coder's choice, else the suggestion."""
    if decision is None:
        return cs.cimo
    if decision.decision == "rejected":
        return None
    return next((c for c in decision.codes if c in CIMO), None)


def speaker_choices(session: CodingSession | None) -> list[str]:
    if session is None:
        return [ALL]
    return [ALL, *dict.fromkeys(cs.segment.speaker for cs in session.coded.segments)]


def _evidence(cs: CodedSegment) -> str:
    items = []
    for ev in cs.evidence:
        if ev.kind == "cue":
            items.append(f"<li>Signaalwoord <q>{esc(ev.text)}</q> ({esc(ev.detail)})</li>")
        elif ev.kind == "example":
            items.append(
                f"<li>Lijkt op voorbeeld ({esc(ev.detail)}, {ev.score:.2f}): "
                f"<q>{esc(ev.text)}</q></li>"
            )
        elif ev.kind == "report":
            items.append(f"<li>Rapport, {esc(ev.detail)}: <q>{esc(ev.text[:220])}</q></li>")
    if not items:
        return ""
    return f"<details><summary>Waarom?</summary><ul>{''.join(items)}</ul></details>"


def _row(
    cs: CodedSegment,
    decision: Decision | None,
    number: int,
    names: dict[str, str],
    marks: dict[str, dict[str, Any]] | None = None,
) -> str:
    from .app_deid import highlight

    seg = cs.segment
    sid = esc(seg.id)
    state = decision.decision if decision else "open"
    shown = _effective(cs, decision)
    if cs.cimo:
        confidence = cs.cimo_scores.get(cs.cimo, 0.0)
        suggestion = (
            f'<span class="ww-code code-{cs.cimo}">{cs.cimo} · {CODE_NAMES[cs.cimo]}</span> '
            f'<span class="ww-conf" title="zekerheid van het model">{confidence:.0%}</span>'
        )
    else:
        confidence = cs.cimo_scores.get("none", max(cs.cimo_scores.values(), default=0.0))
        suggestion = (
            '<span class="ww-code code-none">geen code</span> '
            f'<span class="ww-conf">{confidence:.0%}</span>'
        )
    themes = [t for t in cs.themes if t.score >= THEME_THRESHOLD]
    if themes:
        chips = "".join(
            f'<span class="ww-theme" title="{esc(t.code)}">{esc(names.get(t.code, t.code))} '
            f"{t.score:.0%}</span>"
            for t in themes
        )
        suggestion += f'<div class="ww-themes">{chips}</div>'
    chosen = ", ".join(decision.codes) if decision and decision.codes else ""
    status = STATE_LABELS[state] + (f": {esc(chosen)}" if chosen else "")
    options = '<option value="">kies code…</option>' + "".join(
        f'<option value="{c}"{" selected" if decision and c in decision.codes else ""}>'
        f"{k} · {c} {CODE_NAMES[c]}</option>"
        for k, c in KEYS.items()
    )
    return (
        f'<tr id="row-{sid}" class="ww-seg code-{shown or "none"} state-{state}" tabindex="0" '
        f'data-segment="{sid}" data-state="{state}" data-code="{shown or ""}">'
        f'<td class="ww-nr">{number}</td>'
        f'<td class="ww-speaker">{esc(seg.speaker)}</td>'
        f'<td class="ww-text">{highlight(seg.text, marks or {})}</td>'
        f'<td class="ww-suggestion">{suggestion}{_evidence(cs)}</td>'
        f'<td class="ww-decision"><span class="ww-state" id="state-{sid}">{status}</span>'
        f'<div class="ww-actions">'
        f'<button id="accept-{sid}" data-action="accept" title="Accepteren (a)">'
        "✓ Accepteer</button>"
        f'<button id="reject-{sid}" data-action="reject" title="Verwerpen (r)">'
        "✗ Verwerp</button>"
        f'<select id="code-{sid}" data-action="code" title="Andere code (1-4)">{options}</select>'
        f'<button id="undo-{sid}" data-action="undo" title="Ongedaan maken (u)">↺</button>'
        "</div></td></tr>"
    )


def segments_html(
    session: CodingSession | None, code_filter: str = ALL, speaker_filter: str = ALL
) -> str:
    """The review table, rows coloured by code, filtered by code and speaker."""
    if session is None:
        return (
            '<p class="ww-empty">Upload een transcript (.txt, .docx, .vtt of .srt) om te '
            "beginnen.</p>"
        )
    decisions = session.decisions()
    names = {c.id: c.name for c in session.codebook.codes}
    from .app_deid import uncertain

    marks = uncertain(session)  # highlighted before coding starts (ui/app_deid.py)
    counts = {"open": 0, "accepted": 0, "changed": 0, "rejected": 0}
    rows = []
    for number, cs in enumerate(session.coded.segments, start=1):
        decision = decisions.get(cs.segment.id)
        counts[decision.decision if decision else "open"] += 1
        shown = _effective(cs, decision)
        if code_filter not in (ALL, None, "") and (shown or NO_CODE) != code_filter:
            continue
        if speaker_filter not in (ALL, None, "") and cs.segment.speaker != speaker_filter:
            continue
        rows.append(_row(cs, decision, number, names, marks))
    summary = " · ".join(
        f"{counts[k]} {label.lower()}" for k, label in STATE_LABELS.items() if counts[k]
    )
    body = "".join(rows) or '<tr><td colspan="5">Geen segmenten bij dit filter.</td></tr>'
    return (
        f'<div class="ww-coding"><p class="ww-summary" id="coding-summary">'
        f"{len(session.coded.segments)} segmenten · {summary}</p>"
        '<table class="ww-segments"><thead><tr><th>#</th><th>Spreker</th><th>Segment</th>'
        "<th>Voorstel en bewijs</th><th>Beslissing</th></tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


def export_files(session: CodingSession, folder: Path | None = None) -> list[Path]:
    """The .qdpx (accepted codes only), the codebook .qdc and a .csv of all segments."""
    folder = Path(folder or tempfile.mkdtemp(prefix="watwerkt-export-"))
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(session.coded.transcript.name).stem or "transcript"
    texts = session.texts()
    accepted = session.store.accepted(texts)
    qdpx = write_qdpx(session.coded, session.codebook, folder / f"{stem}.qdpx", accepted=accepted)
    qdc = write_qdc(session.codebook, folder / f"{stem}-codeboek.qdc")
    decisions = session.decisions()
    path = folder / f"{stem}-codes.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["segment", "spreker", "start", "eind", "tekst", "voorstel", "zekerheid",
             "themas", "beslissing", "codes", "namen"]
        )  # fmt: skip
        names = (
            "gepseudonimiseerd"
            if session.coded.transcript.pseudonymised
            else "behouden (--keep-names)"
        )
        for cs in session.coded.segments:
            d = decisions.get(cs.segment.id)
            writer.writerow(
                [
                    cs.segment.id,
                    cs.segment.speaker,
                    cs.segment.start,
                    cs.segment.end,
                    cs.segment.text,
                    cs.cimo or "",
                    f"{cs.cimo_scores.get(cs.cimo, 0.0):.3f}" if cs.cimo else "",
                    " ".join(t.code for t in cs.themes if t.score >= THEME_THRESHOLD),
                    d.decision if d else "open",
                    " ".join(d.codes) if d else "",
                    names,
                ]
            )
    return [qdpx, qdc, path]


# The review table's keyboard shortcuts and buttons: a = accept, r = reject, 1-4 = C/I/M/O,
# u = undo, arrow keys or j/k move between segments. Each decision is sent to Python as a
# click event carrying {segment, action, code}; focus returns to the row (or the next one).
SEGMENTS_JS = """
const send = (row, action, code, next) => {
  if (!row) return;
  const target = next && row.nextElementSibling ? row.nextElementSibling : row;
  element.dataset.focus = target.dataset.segment || row.dataset.segment;
  const holder = element.querySelector('[data-token]');
  trigger('click', {segment: row.dataset.segment, action: action, code: code || '',
                    token: holder ? holder.dataset.token : ''});
};
element.addEventListener('click', (e) => {
  const btn = e.target.closest('button[data-action]');
  if (!btn) return;
  e.preventDefault();
  send(btn.closest('tr[data-segment]'), btn.dataset.action, '', false);
});
element.addEventListener('change', (e) => {
  const sel = e.target.closest('select[data-action]');
  if (!sel || !sel.value) return;
  send(sel.closest('tr[data-segment]'), 'code', sel.value, false);
});
const move = (row) => { if (row && row.dataset.segment) row.focus(); };
element.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey || e.target.closest('select, input, textarea')) return;
  const row = e.target.closest('tr[data-segment]');
  if (!row) return;
  const codes = {'1': 'C', '2': 'I', '3': 'M', '4': 'O'};
  const key = e.key.toLowerCase();
  if (key === 'a') send(row, 'accept', '', true);
  else if (key === 'r') send(row, 'reject', '', true);
  else if (key === 'u') send(row, 'undo', '', false);
  else if (codes[key]) send(row, 'code', codes[key], true);
  else if (key === 'arrowdown' || key === 'j') move(row.nextElementSibling);
  else if (key === 'arrowup' || key === 'k') move(row.previousElementSibling);
  else return;
  e.preventDefault();
});
watch('value', () => {
  const id = element.dataset.focus;
  const row = id && element.querySelector(`tr[data-segment="${id}"]`);
  if (row) row.focus({preventScroll: false});
});
"""
