"""The web app (Gradio 6 Blocks): ask the reports, code transcripts, manage the corpus, and
the platform's lessons. ``build_app`` wires the plain functions of ``ui.app_*`` to components;
``make_server`` adds the PDF route and the login; ``launch`` serves it (``watwerkt ui``).

Every important component has a stable ``elem_id`` for the browser tests: vraag-input,
vraag-knop, antwoord (the chat), bronnen, refusal (inside bronnen), kopieer, filter-rapport,
filter-jaar, upload-transcript, namen-behouden, coding-notice, segments (rows row-<id>, buttons
accept-<id> / reject-<id> / undo-<id>, select code-<id>), filter-code, filter-spreker,
exporteer, downloads, corpus-table (rows rapport-<id>), upload-pdf, upload-rapport,
upload-knop, corpus-status, beheer-rapport, reindex-knop, verwijder-knop, over-platform.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse

from coding.errors import CodingError

from . import app_about, app_chat, app_coding, app_corpus, app_deid, app_team
from .app_common import PDF_ROUTE, confirm_tokens, ready, report_pdf
from .files import export_dir, forget_upload, keep_app_files_in_home
from .guard import UploadError
from .security import RequestGuard, allowed_hosts
from .settings import Settings
from .wiring import App

log = logging.getLogger(__name__)

HOW_IT_WORKS = """\
**Hoe werkt dit?** watwerkt zoekt in de evaluatierapporten van het Platform Jongeren en Werk
de zinnen die uw vraag beantwoorden, en laat ze letterlijk zien: elk antwoord wijst met een
voetnoot naar rapport, paragraaf en pagina, en rechts staat de passage met het citaat
<mark>gemarkeerd</mark>. Een citaat dat niet woordelijk op die pagina staat, wordt geschrapt.
Vinden de rapporten geen antwoord, dan zegt watwerkt dat eerlijk (een oranje vak) en toont het
hooguit verwante passages. Een korte vervolgvraag (*„En voor mbo-4?”*) leest watwerkt in het
licht van de vorige vraag; de gelezen vraag staat boven het antwoord. Alles draait op deze
computer; er gaat niets naar buiten.
"""

CODING_HELP = """\
Kies een transcript (.txt, .docx, .vtt, .srt; hoogstens 10 MB). Namen worden vervangen vóór een
model de tekst ziet, tenzij u *namen behouden* aanvinkt. Per segment staat de voorgestelde code
(**C** context, **I** interventie, **M** mechanisme, **O** uitkomst) met de zekerheid en het
bewijs. **Sneltoetsen** op een geselecteerde rij: `a` accepteren, `r` verwerpen, `1`–`4` code
C/I/M/O, `u` ongedaan maken, `↑`/`↓` vorige/volgende. Uw beslissingen worden meteen bewaard en
komen terug als u hetzelfde bestand opnieuw opent.
"""

CSS = """
.ww-intro h1 { margin-bottom: 0.2rem; }
#bronnen { max-height: 78vh; overflow-y: auto; }
.ww-bron { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.6rem 0.8rem; margin-bottom: 0.6rem; background: var(--background-fill-primary); }
.ww-bron header { font-size: 0.92em; margin-bottom: 0.3rem; }
.ww-n { display: inline-block; min-width: 1.5em; text-align: center; border-radius: 999px;
  background: #1f6f8b; color: #fff; font-weight: 600; margin-right: 0.3em; }
.ww-where { color: var(--body-text-color-subdued); }
.ww-pdf { margin-left: 0.4em; white-space: nowrap; }
.ww-passage { font-size: 0.93em; line-height: 1.5; margin: 0; }
mark { background: #ffe58a; color: inherit; padding: 0 2px; border-radius: 2px; }
.ww-hint { color: var(--body-text-color-subdued); font-size: 0.88em; }
.ww-refusal { border: 2px solid #d9a400; background: #fff8e1; color: #4a3b00;
  border-radius: 8px; padding: 0.8rem 1rem; }
.ww-refusal h3 { margin-top: 0; }
.ww-related li { margin-bottom: 0.5rem; }
.ww-examples button { font-size: 0.9em; }
.ww-segments { width: 100%; border-collapse: collapse; font-size: 0.93em; }
.ww-segments th, .ww-segments td { padding: 0.4rem 0.5rem; vertical-align: top;
  border-bottom: 1px solid var(--border-color-primary); }
.ww-seg { border-left: 6px solid #bbb; }
.ww-seg:focus { outline: 3px solid #1f6f8b; outline-offset: -3px; }
.ww-seg.code-C { border-left-color: #4C78A8; background: rgba(76,120,168,0.08); }
.ww-seg.code-I { border-left-color: #F58518; background: rgba(245,133,24,0.08); }
.ww-seg.code-M { border-left-color: #54A24B; background: rgba(84,162,75,0.08); }
.ww-seg.code-O { border-left-color: #B279A2; background: rgba(178,121,162,0.08); }
.ww-seg.state-rejected { opacity: 0.55; }
.ww-seg.state-accepted .ww-state, .ww-seg.state-changed .ww-state { color: #2e7d32;
  font-weight: 600; }
.ww-code { border-radius: 4px; padding: 0 0.35em; color: #fff; font-weight: 600;
  white-space: nowrap; }
.ww-code.code-C { background: #4C78A8; } .ww-code.code-I { background: #F58518; }
.ww-code.code-M { background: #54A24B; } .ww-code.code-O { background: #B279A2; }
.ww-code.code-none { background: #888; }
.ww-conf { color: var(--body-text-color-subdued); }
.ww-theme { display: inline-block; border: 1px solid #aaa; border-radius: 999px;
  padding: 0 0.45em; margin: 0.15em 0.2em 0 0; font-size: 0.85em; }
.ww-actions { display: flex; gap: 0.25rem; flex-wrap: wrap; margin-top: 0.3rem; }
.ww-actions button, .ww-actions select { font-size: 0.85em; padding: 0.1rem 0.4rem;
  border: 1px solid var(--border-color-primary); border-radius: 4px; cursor: pointer;
  background: var(--background-fill-secondary); }
.ww-summary { font-weight: 600; }
.ww-segments td.ww-decision { min-width: 15rem; }
.ww-segments td.ww-speaker { white-space: nowrap; }
.ww-catalog { width: 100%; border-collapse: collapse; }
.ww-catalog td, .ww-catalog th { padding: 0.4rem 0.5rem; text-align: left; vertical-align: top;
  border-bottom: 1px solid var(--border-color-primary); }
.ww-state-badge { border-radius: 999px; padding: 0.05em 0.6em; font-size: 0.85em;
  white-space: nowrap; }
.state-indexed { background: #e3f4e4; color: #1b5e20; }
.state-present { background: #e3eefa; color: #0d47a1; }
.state-missing { background: #eee; color: #555; }
.state-extra { background: #fff3cd; color: #6b4e00; }
.ww-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
  gap: 1rem; }
.ww-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 0.9rem 1rem; background: var(--background-fill-primary); }
.ww-card h3 { margin-top: 0; color: #1f6f8b; }
.ww-hyp { border-left: 4px solid #1f6f8b; padding-left: 0.7rem; margin-top: 0.8rem; }
.ww-hyp h4 { margin: 0 0 0.2rem 0; }
.ww-cite { font-size: 0.85em; color: var(--body-text-color-subdued); margin-bottom: 0; }
.ww-error { border: 2px solid #c62828; background: #fdecea; color: #7f1d1d;
  border-radius: 8px; padding: 0.6rem 0.9rem; }
"""

COPY_JS = """
async (text) => {
  if (!text) return;
  try { await navigator.clipboard.writeText(text); }
  catch (e) {
    const area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); area.remove();
  }
  const btn = document.getElementById('kopieer');
  if (btn) { const old = btn.textContent; btn.textContent = 'Gekopieerd ✓';
    setTimeout(() => { btn.textContent = old; }, 1500); }
}
"""

# Gradio picks its own words ("Drop File Here", "Settings") by the browser's language; the app
# is Dutch, so Gradio's own Dutch translations (ui/data/gradio_nl.json, taken from Gradio's
# frontend) are given for every language as flat keys, which the frontend looks up first.
DUTCH_WORDS = Path(__file__).with_name("data") / "gradio_nl.json"


def dutch_i18n() -> Any:
    words = json.loads(DUTCH_WORDS.read_text(encoding="utf-8"))
    return gr.I18n(en=words, nl=words)


# The chat does not follow the end of a long answer (autoscroll off); after each turn the start
# of the newest answer is brought into view instead.
SCROLL_TO_ANSWER_JS = """
() => {
  const answers = document.querySelectorAll('#antwoord [data-testid=bot]');
  const last = answers[answers.length - 1];
  if (last) last.scrollIntoView({block: 'start', behavior: 'smooth'});
}
"""

CONFIRM_REMOVE_JS = """
(report, token) => (report && confirm(`Rapport ${report} uit de index verwijderen?`))
  ? [report, token] : [report, ""]
"""
UNCONFIRMED = "⚠️ Niet uitgevoerd: de bevestiging ontbrak of was verlopen. Klik opnieuw."


_PROGRESS = gr.Progress()  # Gradio binds these to the running event
_TRACKED = gr.Progress(track_tqdm=True)  # and follows the embedding progress bars


def theme() -> Any:
    return gr.themes.Soft(primary_hue="teal", secondary_hue="amber", neutral_hue="slate")


def _error(message: str) -> str:
    return f'<div class="ww-error" id="upload-fout" role="alert">⚠️ {message}</div>'


# -- the blocks -----------------------------------------------------------------------------
def build_app(app: App) -> gr.Blocks:
    """The four tabs, wired to the plain functions of ``ui.app_*`` with ``app`` bound.
    Gradio's uploads, cache and temporary files go to WATWERKT_HOME, never to /tmp."""
    keep_app_files_in_home(app.settings.home)
    with gr.Blocks(title="watwerkt — wat werkt voor jongeren en werk?") as blocks:
        about = gr.HTML(
            functools.partial(app_about.about_html, app),
            elem_id="over-platform",
            js_on_load=None,
            render=False,
        )
        gr.Markdown(
            "# watwerkt\nWat werkt, voor wie en onder welke omstandigheden? Vragen aan de "
            "evaluatierapporten van het **Platform Jongeren en Werk**, met bronnen die u kunt "
            "nakijken.",
            elem_classes="ww-intro",
        )
        with gr.Tab("Vraag het de rapporten", id="vraag", elem_id="tab-vraag"):
            filters = _chat_tab(app)
        with gr.Tab("Coderen", id="coderen", elem_id="tab-coderen"):
            _coding_tab(app)
        with gr.Tab("Team", id="team", elem_id="tab-team"):
            issue_team_token, team_token = app_team.team_tab(app, _TRACKED)
        with gr.Tab("Corpus", id="corpus", elem_id="tab-corpus"):
            corpus_table = _corpus_tab(app, filters, about)
        with gr.Tab("Over het platform", id="over", elem_id="tab-over"):
            about.render()
        blocks.load(functools.partial(_filters, app), outputs=list(filters), show_progress="hidden")
        blocks.load(issue_team_token, outputs=team_token, show_progress="hidden")
        blocks.load(
            functools.partial(app_corpus.catalog_html, app),
            outputs=corpus_table,
            show_progress="hidden",
        )
    return blocks


def _filters(app: App) -> tuple[Any, Any]:
    """Fresh choices; both filters start empty (no filter), never preselected."""
    return (
        gr.Dropdown(choices=app_chat.report_choices(app), value=[]),
        gr.Dropdown(choices=app_chat.year_choices(app), value=[]),
    )


def _chat_tab(app: App) -> tuple[Any, Any]:
    previous = gr.State(None)
    with gr.Accordion("Hoe werkt dit?", open=False, elem_id="hoe-werkt-dit"):
        gr.Markdown(HOW_IT_WORKS)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                elem_id="antwoord",
                autoscroll=False,  # a long answer is read from its start
                label="Gesprek",
                show_label=False,
                height=520,
                placeholder="Stel een vraag over wat werkt voor jongeren en werk, of kies "
                "hieronder een voorbeeld.",
                buttons=["copy"],
                feedback_options=None,
            )
            with gr.Row():
                question = gr.Textbox(
                    elem_id="vraag-input",
                    show_label=False,
                    placeholder="Bijv. Wat werkt voor mbo-2 jongeren?",
                    scale=5,
                    autofocus=True,
                    max_lines=3,
                )
                ask_btn = gr.Button("Vraag", variant="primary", elem_id="vraag-knop", scale=1)
            with gr.Row(elem_classes="ww-examples"):
                examples = [
                    gr.Button(q, size="sm", elem_id=f"voorbeeld-{i}")
                    for i, q in enumerate(app_chat.EXAMPLES, start=1)
                ]
            with gr.Row():
                copy_btn = gr.Button("Kopieer met bronnen", elem_id="kopieer", size="sm")
                new_btn = gr.Button("Nieuw gesprek", elem_id="nieuw-gesprek", size="sm")
            with gr.Accordion("Filters", open=False, elem_id="filters"):
                reports = gr.Dropdown(
                    choices=app_chat.report_choices(app),
                    value=[],
                    multiselect=True,
                    label="Alleen deze rapporten",
                    elem_id="filter-rapport",
                )
                years = gr.Dropdown(
                    choices=app_chat.year_choices(app),
                    value=[],
                    multiselect=True,
                    label="Alleen deze jaren",
                    elem_id="filter-jaar",
                )
        with gr.Column(scale=2):
            sources = gr.HTML(
                '<p class="ww-hint">Hier verschijnen de bronnen van het antwoord: elke passage '
                "met het geciteerde zinsdeel gemarkeerd en een link naar de PDF op die "
                "pagina.</p>",
                elem_id="bronnen",
                js_on_load=None,
            )
    clipboard = gr.Textbox(visible=False, elem_id="kopieer-tekst")

    def respond(text: str, history: list, prev: str | None, rep: list, yrs: list):
        turn = app_chat.chat_turn(app, text, history, prev, rep, yrs)
        return turn.history, turn.sources, "", turn.asked or prev, turn.copy

    inputs = [question, chatbot, previous, reports, years]
    outputs = [chatbot, sources, question, previous, clipboard]
    shown = {"fn": None, "js": SCROLL_TO_ANSWER_JS, "api_visibility": "private"}
    workers = app.settings.answer_workers()
    for event in (question.submit, ask_btn.click):
        event(respond, inputs, outputs, concurrency_limit=workers, concurrency_id="ask").then(
            **shown
        )
    for button, text in zip(examples, app_chat.EXAMPLES, strict=True):
        button.click(
            functools.partial(respond, text),
            [chatbot, previous, reports, years],
            outputs,
            concurrency_id="ask",
        ).then(**shown)
    copy_btn.click(None, [clipboard], None, js=COPY_JS)
    new_btn.click(lambda: ([], "", None, ""), None, [chatbot, sources, previous, clipboard])
    return reports, years


def _coding_tab(app: App) -> None:
    session = gr.State(None)
    gr.Markdown(CODING_HELP)
    with gr.Row():
        upload = gr.File(
            label="Transcript",
            file_types=[".txt", ".md", ".docx", ".vtt", ".srt"],
            elem_id="upload-transcript",
            scale=3,
        )
        with gr.Column(scale=2):
            keep_names = gr.Checkbox(
                label="Namen behouden (niet pseudonimiseren; kies dit vóór het uploaden)",
                value=False,
                elem_id="namen-behouden",
            )
            notice = gr.Markdown(elem_id="coding-notice")
    with gr.Row():
        code_filter = gr.Dropdown(
            choices=[app_coding.ALL, "C", "I", "M", "O", app_coding.NO_CODE],
            value=app_coding.ALL,
            label="Code",
            elem_id="filter-code",
        )
        speaker_filter = gr.Dropdown(
            choices=[app_coding.ALL],
            value=app_coding.ALL,
            label="Spreker",
            elem_id="filter-spreker",
        )
        export_btn = gr.Button("Exporteer .qdpx, .qdc en .csv", elem_id="exporteer")
    downloads = gr.File(
        label="Downloads", file_count="multiple", interactive=False, elem_id="downloads"
    )
    review = app_deid.review_panel()  # uncertain replacements: confirm, undo, add a name
    table = gr.HTML(
        app_coding.segments_html(None), elem_id="segments", js_on_load=app_coding.SEGMENTS_JS
    )

    tokens = confirm_tokens(app)

    def table_html(current: Any, code: str, speaker: str, request: gr.Request) -> str:
        """The segments, carrying the token this session's decisions must send back."""
        page = app_coding.segments_html(current, code, speaker)
        if current is None:
            return page
        token = tokens.bound(request.session_hash, "decide", current.project.name)
        return f'<div class="ww-coding" data-token="{token}">{page}</div>'

    app_deid.wire(review, app, session, table, [code_filter, speaker_filter], table_html)

    def opened(path: str | None, keep: bool, request: gr.Request, progress: Any = _PROGRESS):
        if not path:
            return None, "", app_coding.segments_html(None), gr.Dropdown(choices=[app_coding.ALL])
        try:
            found = app_coding.open_transcript(
                app, path, keep, progress=lambda f, t: progress(f, desc=t),
                name=app_coding.neutral_name(path),
            )  # fmt: skip
        except (UploadError, CodingError) as exc:
            return (
                None,
                _error(str(exc)),
                app_coding.segments_html(None),
                gr.Dropdown(choices=[app_coding.ALL], value=app_coding.ALL),
            )
        finally:  # the original (with every name) goes once its pseudonymised text is kept
            forget_upload(path, app.settings.home)
        return (
            found,
            app_coding.notice_markdown(found),
            table_html(found, app_coding.ALL, app_coding.ALL, request),
            gr.Dropdown(choices=app_coding.speaker_choices(found), value=app_coding.ALL),
        )

    def decided(current: Any, code: str, speaker: str, evt: gr.EventData, request: gr.Request):
        data = getattr(evt, "_data", None) or {}
        if (
            current is not None
            and data.get("segment")
            and tokens.check_bound(
                request.session_hash, "decide", current.project.name, data.get("token")
            )
        ):
            app_coding.decide(
                current, data["segment"], data.get("action", ""), data.get("code") or ""
            )
        return table_html(current, code, speaker, request)

    def exported(current: Any):
        if current is None:
            return None
        folder = export_dir(app.settings.home)
        return [str(p) for p in app_coding.export_files(current, folder)]

    upload.upload(
        opened, [upload, keep_names], [session, notice, table, speaker_filter],
        concurrency_id="coding",
    )  # fmt: skip
    table.click(decided, [session, code_filter, speaker_filter], table, show_progress="hidden")
    for dropdown in (code_filter, speaker_filter):
        dropdown.change(
            table_html, [session, code_filter, speaker_filter], table, show_progress="hidden"
        )
    export_btn.click(exported, session, downloads)


def _corpus_tab(app: App, chat_filters: tuple[Any, Any], about: Any) -> Any:
    gr.Markdown(
        "De rapporten die watwerkt kent. Ontbreekt er een? Upload de PDF en kies welk rapport "
        "het is; watwerkt leest, schoont en indexeert het (een rapport van 25 pagina's duurt "
        "ongeveer een halve minuut)."
    )
    table = gr.HTML(app_corpus.catalog_html(app), elem_id="corpus-table", js_on_load=None)
    with gr.Row():
        with gr.Column(scale=3):
            upload = gr.File(label="Rapport (PDF, hoogstens 50 MB)", file_types=[".pdf"],
                             elem_id="upload-pdf")  # fmt: skip
        with gr.Column(scale=3):
            which = gr.Dropdown(
                choices=app_corpus.missing_choices(app),
                value=app_corpus.NEW_REPORT,
                label="Welk rapport is dit?",
                elem_id="upload-rapport",
            )
            title = gr.Textbox(label="Titel (bij een nieuw rapport)", elem_id="upload-titel")
            with gr.Row():
                year = gr.Number(None, label="Jaar", precision=0, elem_id="upload-jaar")
                authors = gr.Textbox(label="Auteurs (komma's ertussen)", elem_id="upload-auteurs")
            add_btn = gr.Button("Toevoegen en indexeren", variant="primary", elem_id="upload-knop")
    status = gr.Markdown(elem_id="corpus-status")
    with gr.Row():
        managed = gr.Dropdown(
            choices=app_corpus.indexed_choices(app), label="Beheer", elem_id="beheer-rapport"
        )
        reindex_btn = gr.Button("Opnieuw indexeren", elem_id="reindex-knop")
        remove_btn = gr.Button("Verwijder uit index", variant="stop", elem_id="verwijder-knop")

    def refreshed(message: str):
        return (
            message,
            app_corpus.catalog_html(app),
            gr.Dropdown(choices=app_corpus.missing_choices(app), value=app_corpus.NEW_REPORT),
            gr.Dropdown(choices=app_corpus.indexed_choices(app), value=None),
            *_filters(app),
            app_about.about_html(app),
        )

    outputs = [status, table, which, managed, *chat_filters, about]
    # Changing the corpus takes two steps: the click asks for a one-time token bound to this
    # session, action and report; the change itself runs only when the page passes it back
    # (for removal after the user confirmed). Called by name without that token, nothing
    # changes. The functions stay out of the API docs as well.
    tokens = confirm_tokens(app)
    token = gr.Textbox(visible=False, elem_id="bevestiging")

    def issuer(action: str, targeted: bool) -> Any:
        def issue(report: str | None, request: gr.Request) -> str:
            return tokens.issue(request.session_hash, action, (report or "") if targeted else "")

        return issue

    def confirmed(action: str, target: str | None, given: str, request: gr.Request) -> bool:
        return tokens.redeem(request.session_hash, action, target or "", given)

    def added(path, report, title_, year_, authors_, given, request: gr.Request,
              progress: Any = _TRACKED):  # fmt: skip
        if not confirmed("add", "", given, request):
            return refreshed(UNCONFIRMED if given else "")
        try:
            message = app_corpus.add_pdf(
                app, path, report, title_, year_, authors_,
                progress=lambda f, t: progress(f, desc=t),
            )  # fmt: skip
        except UploadError as exc:
            message = _error(str(exc))
        finally:
            if path:
                forget_upload(path, app.settings.home)
        return refreshed(message)

    def removed(report: str | None, given: str, request: gr.Request):
        if not report or not confirmed("remove", report, given, request):
            return refreshed(UNCONFIRMED if given and report else "")
        return refreshed(app_corpus.remove_report(app, report))

    def reindexed(report: str | None, given: str, request: gr.Request, progress: Any = _TRACKED):
        if not report or not confirmed("reindex", report, given, request):
            return refreshed(UNCONFIRMED if given and report else "")
        return refreshed(
            app_corpus.reindex_report(app, report, progress=lambda f, t: progress(f, desc=t))
        )

    private: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
    add_btn.click(issuer("add", False), managed, token, **private).then(
        added, [upload, which, title, year, authors, token], outputs,
        concurrency_id="corpus", api_visibility="private",
    )  # fmt: skip
    remove_btn.click(issuer("remove", True), managed, token, **private).then(
        removed, [managed, token], outputs, js=CONFIRM_REMOVE_JS,
        concurrency_id="corpus", api_visibility="private",
    )  # fmt: skip
    reindex_btn.click(issuer("reindex", True), managed, token, **private).then(
        reindexed, [managed, token], outputs, concurrency_id="corpus", api_visibility="private"
    )
    return table


# -- serving --------------------------------------------------------------------------------
def _gradio_app(server: Any) -> Any:
    from starlette.routing import Mount

    return next(r.app for r in server.routes if isinstance(r, Mount))


def _logged_in(gradio_app: Any, request: Any) -> bool:
    """The same check Gradio makes: a login cookie that Gradio issued."""
    if getattr(gradio_app, "auth", None) is None:
        return True
    cookie = gradio_app.cookie_id
    token = request.cookies.get(f"access-token-{cookie}") or request.cookies.get(
        f"access-token-unsecure-{cookie}"
    )
    return token is not None and gradio_app.tokens.get(token) is not None


def make_server(
    app: App,
    blocks: gr.Blocks,
    auth: tuple[str, str] | None = None,
    host: str = "127.0.0.1",
    public_names: Sequence[str] = (),
) -> Any:
    """A FastAPI app: the Gradio blocks at / (with the login, if any) and the report PDFs at
    /watwerkt/pdf/<report id>, served only for ingested reports and only to logged-in users;
    in front of both the request guard (host, origin, size, login throttling)."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    holder: dict[str, Any] = {}

    @server.get(PDF_ROUTE + "/{report_id}")
    def pdf(report_id: str, request: Request) -> FileResponse:
        if not _logged_in(holder["gradio"], request):
            raise HTTPException(status_code=401, detail="Log eerst in.")
        path = report_pdf(app, report_id)
        if path is None:
            raise HTTPException(status_code=404, detail="Geen PDF voor dit rapport.")
        return FileResponse(
            path,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{path.name}"'},
        )

    options: dict[str, Any] = {
        "auth": auth,
        "auth_message": "Log in om watwerkt te gebruiken.",
        "theme": theme(),
        "css": CSS,
        "ssr_mode": False,
        "footer_links": ["settings"],
        "run_history": False,  # newer Gradio 6 releases only
        "max_file_size": "60mb",
        "show_error": True,
        "i18n": dutch_i18n(),
        "allowed_paths": [],
        "blocked_paths": [str(app.settings.home / d) for d in SERVED_NEVER],
    }
    accepted = inspect.signature(gr.mount_gradio_app).parameters
    gr.mount_gradio_app(
        server, blocks, path="/", **{k: v for k, v in options.items() if k in accepted}
    )
    # mount_gradio_app never marks the blocks as launched, and Gradio skips its "was this file
    # uploaded in this app?" check for blocks that are not: without this line an endpoint
    # with a file input would read any path a caller names.
    blocks.has_launched = True
    holder["gradio"] = _gradio_app(server)
    server.add_middleware(RequestGuard, hosts=allowed_hosts(host, public_names))
    return server


# Folders of WATWERKT_HOME that no route may serve (Gradio serves only its upload folder,
# app-files/, and the cache; this is a second fence).
SERVED_NEVER = ("projects", "index", "documents", "models", "uploads", "chroma")


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    public_names: Sequence[str] = (),
) -> None:
    """Build the index if needed, then serve the app until interrupted (never a share link)."""
    import uvicorn

    app = App(settings)
    print("watwerkt: index controleren…", file=sys.stderr)
    ready(app)
    server = make_server(app, build_app(app), auth, host, public_names)
    shown = f"[{host}]" if ":" in host else host
    login = " (met inlog)" if auth else ""
    print(f"watwerkt draait op http://{shown}:{port}{login}; stoppen met Ctrl+C", file=sys.stderr)
    uvicorn.run(server, host=host, port=port, log_level="warning")
