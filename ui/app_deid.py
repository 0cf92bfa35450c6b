"""Coderen, step 0: check what the pseudonymiser was unsure of before coding starts.

The replacements below the confidence floor (``coding.pseudonymise.UNCERTAIN``) are highlighted
in the segments table (placeholder only) and listed in a panel above it. The panel is the one
place that shows the original word, to the coder on this computer, read from the mapping in
WATWERKT_HOME; it is not part of the segments table or any export. The coder can

- confirm a replacement (the word goes on the coder's name list: replaced in every transcript),
- undo it (the word is no name: it comes back in this text and is kept from then on),
- add a name that was missed (replaced at once in this text, in the stored review data and in
  every later transcript and export: ``coding.redact.add_name``).

The original upload is gone once it is pseudonymised, so a correction rewrites the stored
pseudonymised text and codes it again; it never re-reads the original.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from coding.models import Transcript
from coding.pseudonymise import KINDS, load_mapping, save_mapping
from coding.transcripts import parse_turns

from .app_coding import CodingSession, _suggester
from .app_common import esc, index_lock, ready
from .wiring import App

KIND_LABELS = {"PERSOON": "persoon", "PLAATS": "plaats", "ORGANISATIE": "organisatie"}
EVIDENCE_LABELS = {
    "deduce": "deduce",
    "list": "namenlijst",
    "context": "context",
    "pattern": "patroon",
    "user": "door u toegevoegd",
    "same-as": "zelfde als elders",
}


def uncertain(session: CodingSession | None) -> dict[str, dict[str, Any]]:
    """Placeholder -> its least confident replacement, for the uncertain ones not confirmed."""
    found: dict[str, dict[str, Any]] = {}
    if session is None:
        return found
    for r in session.replacements:
        ph = str(r["placeholder"])
        if not r["uncertain"] or ph in session.confirmed:
            continue
        if ph not in found or float(r["confidence"]) < float(found[ph]["confidence"]):
            found[ph] = dict(r)
    return found


def highlight(text: str, marks: dict[str, dict[str, Any]]) -> str:
    """Escaped segment text with the uncertain placeholders marked (no original text)."""
    if not marks:
        return esc(text)
    pattern = re.compile("|".join(map(re.escape, sorted(marks, key=len, reverse=True))))
    out, pos = [], 0
    for m in pattern.finditer(text):
        r = marks[m.group()]
        title = f"onzeker: {EVIDENCE_LABELS.get(str(r['evidence']), r['evidence'])}, " + (
            f"{float(r['confidence']):.0%}; controleer hierboven"
        )
        out += [esc(text[pos : m.start()]), f'<mark class="ww-uncertain" title="{esc(title)}">']
        out += [esc(m.group()), "</mark>"]
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _originals(session: CodingSession) -> dict[str, list[str]]:
    path = session.project / "pseudonyms.json"
    mapping = load_mapping(path) if path.exists() else {}
    inverse: dict[str, list[str]] = {}
    for original, ph in mapping.items():
        inverse.setdefault(ph, []).append(original)
    return inverse


def review_html(session: CodingSession | None) -> str:
    """The panel: every uncertain replacement with its kind, evidence, confidence and word."""
    if session is None or not session.coded.transcript.pseudonymised:
        return ""
    marks = uncertain(session)
    if not marks:
        return (
            '<p class="ww-deid-ok" id="deid-summary">Geen onzekere vervangingen. Mist er een '
            "naam? Voeg hem hieronder toe.</p>"
        )
    originals = _originals(session)
    rows = "".join(
        f'<tr data-placeholder="{esc(ph)}"><td><mark class="ww-uncertain">{esc(ph)}</mark></td>'
        f"<td>{esc(', '.join(originals.get(ph, ['?'])))}</td>"
        f"<td>{esc(KIND_LABELS.get(str(r['kind']), str(r['kind']).lower()))}</td>"
        f"<td>{esc(EVIDENCE_LABELS.get(str(r['evidence']), str(r['evidence'])))}</td>"
        f"<td>{float(r['confidence']):.0%}</td></tr>"
        for ph, r in sorted(marks.items())
    )
    return (
        f'<div class="ww-deid" id="deid-review"><p id="deid-summary"><b>{len(marks)} '
        "onzekere vervanging(en)</b>: controleer ze vóór het coderen (het woord ziet alleen u, "
        "het staat in geen export).</p><table><thead><tr><th>Code</th><th>Woord</th>"
        f"<th>Soort</th><th>Bewijs</th><th>Zekerheid</th></tr></thead><tbody>{rows}</tbody>"
        "</table></div>"
    )


def _recode(app: App, session: CodingSession, text: str, **changes: Any) -> CodingSession:
    """The session with a rewritten pseudonymised text, segmented and coded again."""
    from coding.pipeline import code_loaded

    from .wiring import report_search_for

    old = session.coded.transcript
    transcript = Transcript(old.name, text, parse_turns(text), old.pseudonymised)
    ready(app)
    with index_lock(app).read():
        coded = code_loaded(
            transcript, _suggester(app, session.codebook), report_search=report_search_for(app)
        )
    return dataclasses.replace(session, coded=coded, **changes)


def confirm(session: CodingSession, placeholder: str) -> CodingSession:
    """The replacement is right: it is no longer shown as uncertain, and its words go on the
    coder's name list (replaced in every later transcript)."""
    from coding.pipeline import load_coder_names, save_coder_names

    projects = session.project.parent
    names = load_coder_names(projects)
    kind = placeholder.strip("[]").split("-")[0]
    for word in _originals(session).get(placeholder, []):
        names["add"].append(word if kind == "PERSOON" else f"{word}={kind}")
    save_coder_names(projects, names)
    return dataclasses.replace(session, confirmed=session.confirmed | {placeholder})


def undo(app: App, session: CodingSession, placeholder: str) -> CodingSession:
    """The replaced word is no name: it comes back in this text and is kept from now on."""
    from coding.redact import keep_word

    words = _originals(session).get(placeholder, [])
    if len(words) != 1:  # several surfaces share it: a person, not one doubtful word
        return confirm(session, placeholder)
    keep_word(session.project.parent.parent, words[0])
    path = session.project / "pseudonyms.json"
    mapping = {k: v for k, v in load_mapping(path).items() if v != placeholder}
    save_mapping(mapping, path)
    text = session.coded.transcript.text.replace(placeholder, words[0])
    kept = tuple(r for r in session.replacements if r["placeholder"] != placeholder)
    return _recode(app, session, text, replacements=kept)


def add(app: App, session: CodingSession, phrase: str, kind: str = "PERSOON") -> CodingSession:
    """A name the pseudonymiser missed: replaced here, in the stored data, and from now on."""
    from coding.redact import add_name

    kind = kind if kind in KINDS else "PERSOON"
    add_name(session.project.parent.parent, phrase, kind)
    mapping = load_mapping(session.project / "pseudonyms.json")
    folded = " ".join(phrase.split()).casefold()
    placeholder = next(v for k, v in mapping.items() if " ".join(k.split()).casefold() == folded)
    words = r"\s+".join(map(re.escape, phrase.split()))
    pattern = re.compile(rf"(?<![\w\[]){words}(?:(?=['’]s)|(?!\w))", re.I)
    return _recode(app, session, pattern.sub(placeholder, session.coded.transcript.text))


@dataclasses.dataclass(frozen=True)
class Panel:
    html: Any
    choice: Any
    confirm: Any
    undo: Any
    name: Any
    kind: Any
    add: Any


def review_panel() -> Panel:
    """The panel's components, placed where it is called (inside the Coderen tab)."""
    import gradio as gr

    html = gr.HTML(review_html(None), elem_id="deid-review-panel")
    with gr.Row():
        choice = gr.Dropdown(choices=[], label="Onzekere vervanging", elem_id="deid-choice")
        confirm_btn = gr.Button("✓ Klopt", elem_id="deid-confirm")
        undo_btn = gr.Button("↺ Geen naam", elem_id="deid-undo")
    with gr.Row():
        name = gr.Textbox(label="Gemiste naam toevoegen", elem_id="deid-add-name")
        kind = gr.Dropdown(
            choices=list(KIND_LABELS), value="PERSOON", label="Soort", elem_id="deid-add-kind"
        )
        add_btn = gr.Button("Voeg toe (overal)", elem_id="deid-add")
    return Panel(html, choice, confirm_btn, undo_btn, name, kind, add_btn)


def wire(
    panel: Panel, app: App, session: Any, table: Any, filters: list[Any], table_html: Callable
) -> None:
    """Events: the panel follows the session; a correction updates session and table.

    ``table_html(session, code, speaker, request)`` renders the table (``filters``: code and
    speaker dropdowns)."""
    import gradio as gr

    def render(current: CodingSession | None):
        return review_html(current), gr.Dropdown(choices=sorted(uncertain(current)), value=None)

    def act(action: str) -> Callable:
        def run(
            current: CodingSession | None,
            picked: str | None,
            phrase: str,
            kind: str,
            code: str,
            speaker: str,
            request: gr.Request,
        ):
            if current is not None:
                if action == "confirm" and picked:
                    current = confirm(current, picked)
                elif action == "undo" and picked:
                    current = undo(app, current, picked)
                elif action == "add" and (phrase or "").strip():
                    current = add(app, current, phrase, kind)
            return current, table_html(current, code, speaker, request), ""

        run.__annotations__["request"] = gr.Request  # a real class: Gradio passes the request
        return run

    session.change(render, session, [panel.html, panel.choice])
    for button, action in (
        (panel.confirm, "confirm"),
        (panel.undo, "undo"),
        (panel.add, "add"),
    ):
        button.click(
            act(action),
            [session, panel.choice, panel.name, panel.kind, *filters],
            [session, table, panel.name],
            concurrency_id="coding",
        )
