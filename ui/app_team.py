"""Tab "Team": a coding project of many transcripts, coded by named coders, with the agreement
table (the assistant is a coder too) and CMO configurations. Plain functions over the project
store (``coding.project``), then the tab itself (``team_tab``), wired in ``ui.app``.

Every change (a new project, a transcript added, a coding, retraining, a configuration) carries
the session's team token; the page gets it when it loads, a call without it changes nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import gradio as gr  # module level: Gradio resolves the handlers' gr.Request annotations here

from coding.errors import CodingError

from .app_common import confirm_tokens, esc, index_lock, ready
from .files import app_files, forget_upload, private_dir
from .guard import UploadError, check_transcript
from .wiring import App

if TYPE_CHECKING:
    from coding.project_add import SuggestTools

CODES = ("C", "I", "M", "O")
NO_CODE = "geen"
VERDICTS_NL = {"supports": "ondersteunt", "refutes": "weerlegt", "refines": "verfijnt"}
Progress = Callable[[float, str], None]


def _home(app: App) -> Path:
    return app.settings.home


def project_choices(app: App) -> list[str]:
    from coding.project import list_projects

    return list_projects(_home(app))


def _open(app: App, project: str | None):
    from coding.project import open_project

    if not project:
        raise CodingError("Kies eerst een project (of maak er een).")
    return open_project(_home(app), project)


def new_project(app: App, name: str | None) -> str:
    from coding.project import create_project

    name = (name or "").strip()
    if not name:
        return "Geef het project een naam."
    try:
        create_project(_home(app), name).close()
    except CodingError as exc:
        return f"⚠️ {esc(exc)}"
    return f"✅ Project **{esc(name)}** gemaakt."


STEPS_NL = {
    "import": (0.1, "Namen vervangen en segmenten maken…"),
    "suggest": (0.5, "Codes voorstellen…"),
}


@contextmanager
def _suggest_tools(app: App) -> Iterator[SuggestTools]:
    """What suggesting needs, under the index's read lock (the report search reads the index;
    an upload of a report changes it only under the write lock)."""
    from coding.project_add import SuggestTools

    from .wiring import report_search_for

    ready(app)
    with index_lock(app).read():
        yield SuggestTools(app.index.embedder, _home(app) / "models", report_search_for(app))


def add_transcript(
    app: App, project: str | None, path: str | None, progress: Progress | None = None
) -> str:
    """Pseudonymise, segment, store and suggest codes for one uploaded transcript (the same
    ``coding.project_add.add_and_suggest`` as ``watwerkt project add``); the upload is stored
    under a neutral name (never the file's own, which often names the respondent)."""
    from coding.pipeline import pseudonymiser_for
    from coding.project_add import add_and_suggest

    from .app_coding import neutral_name

    if not path:
        return "Kies eerst een transcript."
    neutral = None
    try:
        source = check_transcript(path)
        neutral = private_dir(app_files(_home(app)) / "tmp") / neutral_name(source)
        shutil.copyfile(source, neutral)
        with _open(app, project) as store:
            (added,) = add_and_suggest(
                store,
                [neutral],
                pseudonymiser_for(store.path.parent / "pseudonyms.json"),
                lambda: _suggest_tools(app),
                progress=(lambda step: progress(*STEPS_NL[step])) if progress else None,
            )
    except (UploadError, CodingError) as exc:
        return f"⚠️ {esc(exc)}"
    finally:
        forget_upload(path, _home(app))
        if neutral is not None:
            neutral.unlink(missing_ok=True)
    if progress:
        progress(1.0, "Klaar")
    return (
        f"✅ **{esc(added.transcript.name)}** toegevoegd: {added.suggested} segmenten met een "
        "voorstel."
    )


def retrain_project(app: App, project: str | None, progress: Progress | None = None) -> str:
    """Learn from the project's accepted and changed codings and suggest again for all its
    transcripts: the same ``coding.retrain.retrain`` as ``watwerkt project retrain``."""
    from coding.retrain import retrain

    try:
        with _open(app, project) as store, _suggest_tools(app) as tools:
            if progress:
                progress(0.1, "Opnieuw leren van de beoordeelde segmenten…")
            data = retrain(store, tools.embedder, tools.cache_dir, tools.report_search)
    except CodingError as exc:
        return f"⚠️ {esc(exc)}"
    if progress:
        progress(1.0, "Klaar")
    renewed = sum(cast(dict[str, int], data["suggested"]).values())
    learned = cast(int, data["learned"])
    if not learned:
        taught = (
            "nog geen geaccepteerde of gewijzigde coderingen om van te leren (het "
            "meegeleverde model blijft)"
        )
    else:
        taught = f"{learned} beoordeelde segment(en) toegevoegd aan de trainingsdata"
    return (
        f"✅ Opnieuw geleerd: {taught}; model **{esc(data['model'])}**; "
        f"{renewed} segment(en) met een vernieuwd voorstel."
    )


def status_html(app: App, project: str | None) -> str:
    """Who coded what: per transcript its segments and the segments each coder reviewed."""
    if not project:
        return '<p class="ww-hint">Kies een project.</p>'
    with _open(app, project) as store:
        status = store.status()
    coders = list(status["coders"])
    head = "".join(f"<th>{esc(c)}</th>" for c in coders)
    rows = []
    for t in status["transcripts"]:
        cells = "".join(f"<td>{t['reviewed'].get(c, 0)}</td>" for c in coders)
        rows.append(f"<tr><td>{esc(t['name'])}</td><td>{t['segments']}</td>{cells}</tr>")
    if not rows:
        return '<p class="ww-hint">Nog geen transcripten in dit project.</p>'
    return (
        '<table class="ww-catalog" id="team-status"><thead><tr><th>Transcript</th>'
        f"<th>Segmenten</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def transcript_choices(app: App, project: str | None) -> list[str]:
    if not project:
        return []
    with _open(app, project) as store:
        return [t.name for t in store.transcripts()]


def segment_choices(app: App, project: str | None, transcript: str | None) -> list[tuple[str, str]]:
    """(label, 'TRANSCRIPT:seg-0001') of a transcript's segments."""
    if not project or not transcript:
        return []
    with _open(app, project) as store:
        stored = store.transcript(transcript)
        if stored is None:
            return []
        return [
            (f"{s.key} · {s.speaker}: {s.text[:70]}", f"{transcript}:{s.key}")
            for s in store.segments(stored.id)
        ]


def segments_html(app: App, project: str | None, transcript: str | None, coder: str) -> str:
    """The transcript's segments with the assistant's suggestion and this coder's code."""
    if not project or not transcript:
        return ""
    with _open(app, project) as store:
        stored = store.transcript(transcript)
        if stored is None:
            return ""
        mine: dict[int, list[str]] = {}
        for c in store.codings(coder=coder.strip() or None, transcript_id=stored.id):
            if c.kept and coder.strip():
                mine.setdefault(c.segment_id, []).append(c.code)
        suggested = {i: s.cimo for i, s in store.suggestions(transcript_id=stored.id).items()}
        body = "".join(
            f'<tr id="team-{esc(s.key)}"><td>{esc(s.key)}</td><td>{esc(s.speaker)}</td>'
            f"<td>{esc(s.text)}</td><td>{esc(suggested.get(s.id) or '–')}</td>"
            f'<td class="ww-mine">{esc(" ".join(mine.get(s.id, [])) or "–")}</td></tr>'
            for s in store.segments(stored.id)
        )
    return (
        '<table class="ww-segments"><thead><tr><th>#</th><th>Spreker</th><th>Segment</th>'
        f"<th>Voorstel</th><th>{esc(coder or 'codeur')}</th></tr></thead><tbody>{body}"
        "</tbody></table>"
    )


def code_segment(app: App, project: str | None, coder: str, ref: str | None, code: str) -> str:
    """Record this coder's CIMO code (or 'geen': no code applies) for one segment."""
    from coding.configurations import parse_segment

    coder = (coder or "").strip()
    if not coder:
        return "⚠️ Vul eerst uw naam als codeur in."
    if not ref:
        return "⚠️ Kies een segment."
    try:
        with _open(app, project) as store:
            segment_id = parse_segment(store, ref)
            if code == NO_CODE:
                store.set_coding(segment_id, coder, [], "rejected")
            elif code in CODES:
                store.set_coding(segment_id, coder, [code], "added")
            else:
                return "⚠️ Kies C, I, M, O of geen."
    except CodingError as exc:
        return f"⚠️ {esc(exc)}"
    return f"✅ {esc(ref)}: {esc(code)} ({esc(coder)})"


def agreement_html(app: App, project: str | None) -> str:
    """κ and agreement per pair of coders (pooled and per code), Krippendorff's α, the
    assistant's precision/recall/F1 against each human, and the disagreements."""
    from coding.agreement import project_agreement

    try:
        with _open(app, project) as store:
            report = project_agreement(store)
    except CodingError as exc:
        return f'<p class="ww-hint" id="agreement-table">{esc(exc)}</p>'
    rows = []
    for p in report["pairs"]:
        pooled = p["pooled"] or {}
        bp = (p["maxqda_segments"] or {}).get("kappa_bp")
        rows.append(
            f"<tr><td>{esc(p['a'])} – {esc(p['b'])}</td><td>{p['segments_compared']}</td>"
            f"<td>{_pct(pooled.get('agreement'))}</td><td>{_num(pooled.get('kappa'))}</td>"
            f"<td>{_num(bp)}</td></tr>"
        )
    alpha = report["alpha"]
    assistant = "".join(
        f"<li>assistent vs {esc(v['human'])}: macro-F1 {_num(v['macro_f1'])}</li>"
        for v in report["assistant_vs_humans"]
    )
    disagreements = "".join(
        f"<li><b>{esc(d['code'])}</b> {esc(d['transcript'])} {esc(d['segment'])}: "
        f"{esc(', '.join(d['applied_by']))} wel, {esc(', '.join(d['not_by']))} niet</li>"
        for d in report["disagreements"][:50]
    )
    return (
        '<div id="agreement-table"><table class="ww-catalog"><thead><tr><th>Codeurs</th>'
        "<th>Segmenten</th><th>Overeenstemming (tekens)</th><th>Cohen's κ</th>"
        "<th>Brennan–Prediger κ</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p>Krippendorff's α (CIMO, {alpha['units']} segmenten): {_num(alpha['cimo'])}</p>"
        f"<ul>{assistant}</ul><h4>Verschillen om te bespreken</h4><ul>{disagreements}</ul></div>"
    )


def _num(value: Any) -> str:
    return "–" if value is None else f"{float(value):.3f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f} %"


def create_configuration(
    app: App,
    project: str | None,
    coder: str,
    name: str | None,
    statement: str | None,
    verdict: str | None,
    members: str | None,
) -> str:
    """A CMO configuration from the form: members as 'TRANSCRIPT:seg-0001=C' per line."""
    from coding import configurations as cfg

    coder = (coder or "").strip()
    if not coder:
        return "⚠️ Vul eerst uw naam als codeur in."
    refs = [m.strip() for m in (members or "").replace(",", "\n").splitlines() if m.strip()]
    try:
        with _open(app, project) as store:
            parsed = [cfg.parse_member(store, ref) for ref in refs]
            made = cfg.create_configuration(
                store,
                (name or "").strip(),
                statement or "",
                coder,
                verdict=verdict or None,
                members=parsed,
            )
    except CodingError as exc:
        return f"⚠️ {esc(exc)}"
    return f"✅ Configuratie **{esc(made.name)}** met {len(made.members)} segment(en)."


def configurations_html(app: App, project: str | None) -> str:
    from coding.configurations import configurations

    if not project:
        return ""
    with _open(app, project) as store:
        found = configurations(store)
    if not found:
        return '<p class="ww-hint" id="configuraties">Nog geen configuraties.</p>'
    cards = []
    for c in found:
        members = "".join(
            f"<li><b>{esc(m.role)}</b> {esc(m.text)} <span class='ww-where'>"
            f"({esc(m.transcript)}, {esc(m.segment)})</span></li>"
            for m in c.members
        )
        verdict = f" — {VERDICTS_NL.get(c.verdict, c.verdict)}" if c.verdict else ""
        cards.append(
            f'<div class="ww-card" id="configuratie-{esc(c.name)}"><h3>{esc(c.name)}{verdict}</h3>'
            f"<p>{esc(c.statement)}</p><ul>{members}</ul>"
            f'<p class="ww-cite">{esc(c.coder)}</p></div>'
        )
    return f'<div class="ww-cards" id="configuraties">{"".join(cards)}</div>'


# -- the tab --------------------------------------------------------------------------------
def team_tab(app: App, progress: Any) -> tuple[Callable[..., str], Any]:
    """The Team tab's components and events (called inside ``gr.Tab`` by ``ui.app``); returns
    the page-load function that hands out the session's team token, and its textbox."""
    tokens = confirm_tokens(app)
    # in the DOM though never shown: the browser test waits for it before its first change
    token = gr.Textbox(visible="hidden", elem_id="team-token")

    def allowed(given: str, request: gr.Request) -> bool:
        return tokens.check_bound(request.session_hash, "team", "", given)

    gr.Markdown(
        "Een **project** bundelt transcripten die u met collega's codeert. Vul uw naam in als "
        "codeur, codeer segmenten, en vergelijk: de tabel geeft per paar codeurs de "
        "overeenstemming en κ (de assistent telt mee als codeur). Leg verbanden tussen "
        "context, mechanisme en uitkomst vast als **CMO-configuratie**. Met **Opnieuw leren** "
        "leert de assistent van wat de codeurs accepteerden of wijzigden en stelt hij alle "
        "segmenten opnieuw voor."
    )
    with gr.Row():
        project = gr.Dropdown(
            choices=project_choices(app), label="Project", elem_id="team-project", scale=2
        )
        coder = gr.Textbox(label="Uw naam (codeur)", elem_id="team-coder", scale=2)
        new_name = gr.Textbox(label="Nieuw project", elem_id="team-new-name", scale=2)
        new_btn = gr.Button("Maak project", elem_id="team-new", scale=1)
    message = gr.Markdown(elem_id="team-status-line")
    with gr.Row():
        upload = gr.File(
            label="Transcript toevoegen",
            file_types=[".txt", ".md", ".docx", ".vtt", ".srt"],
            elem_id="team-upload",
        )
        status = gr.HTML(status_html(app, None), elem_id="team-overview", js_on_load=None)
    with gr.Row():
        transcript = gr.Dropdown(choices=[], label="Transcript", elem_id="team-transcript")
        segment = gr.Dropdown(choices=[], label="Segment", elem_id="team-segment")
        code = gr.Radio([*CODES, NO_CODE], label="Code", elem_id="team-code")
        save_btn = gr.Button("Opslaan", variant="primary", elem_id="team-save")
    segments = gr.HTML("", elem_id="team-segments", js_on_load=None)
    with gr.Row():
        agree_btn = gr.Button("Bereken overeenstemming", elem_id="team-agree")
        retrain_btn = gr.Button("Opnieuw leren", elem_id="team-retrain")
    agreement = gr.HTML("", elem_id="team-agreement", js_on_load=None)
    with gr.Accordion("Nieuwe CMO-configuratie", open=True, elem_id="team-cmo"):
        with gr.Row():
            cmo_name = gr.Textbox(label="Naam", elem_id="cmo-naam")
            verdict = gr.Dropdown(
                choices=[(v, k) for k, v in VERDICTS_NL.items()],
                label="Oordeel over de programmatheorie",
                elem_id="cmo-oordeel",
            )
        statement = gr.Textbox(label="De configuratie in uw woorden", elem_id="cmo-stelling")
        members = gr.Textbox(
            label="Segmenten, één per regel: TRANSCRIPT:seg-0001=C (rollen C, I, M, O)",
            lines=3,
            elem_id="cmo-segmenten",
        )
        cmo_btn = gr.Button("Configuratie opslaan", elem_id="cmo-opslaan")
    configs = gr.HTML("", elem_id="team-configuraties", js_on_load=None)

    def issued(request: gr.Request) -> str:
        return tokens.bound(request.session_hash, "team", "")

    def chosen(name: str | None, who: str):
        names = transcript_choices(app, name)
        first = names[0] if names else None
        return (
            status_html(app, name),
            gr.Dropdown(choices=names, value=first),
            gr.Dropdown(choices=segment_choices(app, name, first), value=None),
            segments_html(app, name, first, who or ""),
            configurations_html(app, name),
        )

    def picked(name: str | None, which: str | None, who: str):
        return (
            gr.Dropdown(choices=segment_choices(app, name, which), value=None),
            segments_html(app, name, which, who or ""),
        )

    def created(name: str | None, given: str, request: gr.Request):
        if not allowed(given, request):
            return "⚠️ Niet uitgevoerd: herlaad de pagina.", gr.Dropdown()
        text = new_project(app, name)
        wanted = (name or "").strip()
        choices = project_choices(app)
        return text, gr.Dropdown(choices=choices, value=wanted if wanted in choices else None)

    def added(name: str | None, path: str | None, who: str, given: str, request: gr.Request,
              bar: Any = progress):  # fmt: skip
        if not allowed(given, request):
            if path:
                forget_upload(path, _home(app))
            return ("⚠️ Niet uitgevoerd: herlaad de pagina.", *chosen(name, who))
        text = add_transcript(app, name, path, progress=lambda f, t: bar(f, desc=t))
        return (text, *chosen(name, who))

    def saved(name, who, which, ref, value, given, request: gr.Request):
        if not allowed(given, request):
            refused = "⚠️ Niet uitgevoerd: herlaad de pagina."
            return refused, segments_html(app, name, which, who), status_html(app, name)
        text = code_segment(app, name, who, ref, value or "")
        return text, segments_html(app, name, which, who or ""), status_html(app, name)

    def retrained(name, who, which, given, request: gr.Request, bar: Any = progress):
        if not allowed(given, request):
            text = "⚠️ Niet uitgevoerd: herlaad de pagina."
        else:
            text = retrain_project(app, name, progress=lambda f, t: bar(f, desc=t))
        return text, segments_html(app, name, which, who or ""), status_html(app, name)

    def configured(name, who, title, stated, judged, refs, given, request: gr.Request):
        if not allowed(given, request):
            return "⚠️ Niet uitgevoerd: herlaad de pagina.", configurations_html(app, name)
        text = create_configuration(app, name, who, title, stated, judged, refs)
        return text, configurations_html(app, name)

    views = [status, transcript, segment, segments, configs]
    gr.on([project.change], chosen, [project, coder], views, show_progress="hidden")
    coder.blur(picked, [project, transcript, coder], [segment, segments], show_progress="hidden")
    transcript.change(picked, [project, transcript, coder], [segment, segments])
    new_btn.click(created, [new_name, token], [message, project])
    upload.upload(added, [project, upload, coder, token], [message, *views])
    save_btn.click(
        saved, [project, coder, transcript, segment, code, token], [message, segments, status]
    )
    agree_btn.click(lambda name: agreement_html(app, name), project, agreement)
    retrain_btn.click(retrained, [project, coder, transcript, token], [message, segments, status])
    cmo_btn.click(
        configured, [project, coder, cmo_name, statement, verdict, members, token],
        [message, configs],
    )  # fmt: skip
    return issued, token
