"""``watwerkt project ...``, ``watwerkt code FILE --project P --coder NAME`` and ``watwerkt agree``.

Thin over ``coding.project`` (the store), ``coding.project_export`` (.qdpx) and
``coding.agreement``; ``watwerkt cmo`` lives in ``ui/cli_cmo.py``. ``ui/cli.py`` registers them
with ``add_commands``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from coding.errors import CodingError

from .term import for_terminal

if TYPE_CHECKING:
    from coding.project_add import SuggestTools

HELP_KEYS = (
    'a = accept, r = reject, codes (e.g. "M" or "C T-nazorg") = change, Enter = skip, q = stop'
)


def _home(args: argparse.Namespace) -> Path:
    from .settings import get_settings

    return get_settings(home=args.home).home


def _emit(args: argparse.Namespace, data: dict[str, Any], human) -> None:
    from .cli import _emit as emit

    emit(args, data, human)


def _open(args: argparse.Namespace, name: str):
    from coding.project import open_project

    return open_project(_home(args), name)


# -- project new | add | list | status | export --------------------------------------------------
def cmd_project_new(args: argparse.Namespace) -> int:
    from coding.codebook import load_codebook
    from coding.project import create_project

    codebook = load_codebook(Path(args.codebook) if args.codebook else None)
    with create_project(_home(args), args.name, codebook) as store:
        data = {"project": store.name, "path": str(store.path), "codes": len(codebook.codes)}
    _emit(args, data, lambda: print(f"Project {args.name} created: {data['path']}"))
    return 0


@contextmanager
def _suggest_tools(args: argparse.Namespace) -> Iterator[SuggestTools]:
    """The embedder, the model cache and (unless --no-report-evidence) the report search."""
    from coding.project_add import SuggestTools

    from .cli import _app
    from .wiring import report_search_for

    app = _app(args)
    search = None
    if not getattr(args, "no_report_evidence", False):
        app.ensure_index()
        search = report_search_for(app)
    yield SuggestTools(app.index.embedder, app.settings.home / "models", search)


def _pseudonymiser(args: argparse.Namespace, store):
    if args.keep_names:
        return None
    from coding.pipeline import pseudonymiser_for

    words = Path(args.names).read_text(encoding="utf-8").splitlines() if args.names else []
    return pseudonymiser_for(store.path.parent / "pseudonyms.json", [w for w in words if w.strip()])


def cmd_project_add(args: argparse.Namespace) -> int:
    from coding.project_add import add_and_suggest

    with _open(args, args.name) as store:
        added = add_and_suggest(
            store,
            [Path(p) for p in args.files],
            _pseudonymiser(args, store),
            None if args.no_suggest else lambda: _suggest_tools(args),
            alliance=args.alliance,
            role=args.role,
            date=args.date,
        )
        data = {
            "project": store.name,
            "added": [
                {
                    "name": a.transcript.name,
                    "segments": len(store.segments(a.transcript.id)),
                    "suggested": a.suggested,
                    "pseudonymised": a.transcript.pseudonymised,
                }
                for a in added
            ],
            "models": store.models(),
        }

    def human() -> None:
        for row in data["added"]:
            print(f"+ {row['name']}: {row['segments']} segments, {row['suggested']} suggested")

    _emit(args, data, human)
    return 0


def cmd_project_list(args: argparse.Namespace) -> int:
    from coding.project import list_projects

    rows = []
    for name in list_projects(_home(args)):
        with _open(args, name) as store:
            rows.append(
                {"name": name, "transcripts": len(store.transcripts()), "coders": store.coders()}
            )

    def human() -> None:
        if not rows:
            print("No projects yet; create one with `watwerkt project new NAME`.")
        for r in rows:
            print(f"{r['name']:<24} {r['transcripts']:>3} transcripts  {', '.join(r['coders'])}")

    _emit(args, {"projects": rows}, human)
    return 0


def cmd_project_status(args: argparse.Namespace) -> int:
    with _open(args, args.name) as store:
        data = store.status()

    def human() -> None:
        print(f"Project {data['project']} (schema {data['schema_version']})")
        print(f"  models: {', '.join(data['models']) or '-'}")
        print(f"  coders: {', '.join(data['coders']) or '-'}")
        for t in data["transcripts"]:
            who = ", ".join(f"{k} {v}" for k, v in t["reviewed"].items()) or "nobody yet"
            print(f"  {t['name']}: {t['segments']} segments, reviewed by {who}")

    _emit(args, data, human)
    return 0


def cmd_project_retrain(args: argparse.Namespace) -> int:
    from coding.retrain import retrain

    with _suggest_tools(args) as tools, _open(args, args.name) as store:
        data = retrain(store, tools.embedder, tools.cache_dir, tools.report_search)

    def human() -> None:
        n = sum(data["suggested"].values())  # type: ignore[attr-defined]
        print(
            f"{data['project']}: {data['learned']} reviewed segments learned from; "
            f"model {data['model']}; {n} segments suggested again"
        )

    _emit(args, data, human)
    return 0


def cmd_project_export(args: argparse.Namespace) -> int:
    from coding.project_export import write_project_qdpx

    if not (args.out or args.tables or args.cmo_table):
        raise CodingError("give OUT.qdpx, --tables DIR or --cmo-table FILE: what to write")
    files = []
    plot_note = None
    with _open(args, args.name) as store:
        if args.out:
            assistant = not args.without_assistant
            files.append(write_project_qdpx(store, Path(args.out), include_assistant=assistant))
        if args.tables:
            from coding.project_tables import write_tables

            tables = write_tables(store, Path(args.tables))
            files += [Path(f) for f in tables["written"]]  # type: ignore[attr-defined]
            plot_note = tables.get("plot")
        if args.cmo_table:
            from coding.configurations import configuration_table, configurations

            out = Path(args.cmo_table)
            fmt = {".csv": "csv", ".md": "md"}.get(out.suffix.lower())
            if fmt is None:
                raise CodingError(f"{out}: the configuration table is .md or .csv")
            names = [t.name for t in store.transcripts()]
            out.write_text(configuration_table(configurations(store), names, fmt), "utf-8")
            files.append(out)
    data: dict[str, Any] = {"project": args.name, "written": [str(f) for f in files]}
    if plot_note:
        data["plot"] = plot_note

    def human() -> None:
        print("\n".join(f"written: {f}" for f in files))
        if plot_note:
            print(f"no plot: {plot_note}")

    _emit(args, data, human)
    return 0


def cmd_project_import(args: argparse.Namespace) -> int:
    from coding.refi_import import import_qdpx

    path = Path(args.file)
    if not path.is_file():
        raise CodingError(f"{path}: no such file; give a REFI-QDA .qdpx project")
    report = import_qdpx(_home(args), path, args.project).as_dict()

    def human() -> None:
        print(
            f"Project {report['project']} from {report['origin']}: {report['transcripts']} "
            f"transcripts, {report['codes']} codes, {report['codings']} codings by "
            f"{', '.join(report['coders']) or 'nobody'}, {report['memos']} memos, "
            f"{report['sets']} sets"
        )
        for what, n in report["skipped"].items():
            print(f"  left out: {n} x {what}")

    _emit(args, report, human)
    return 0


# -- code FILE --project P --coder NAME ----------------------------------------------------------
def parse_decision(
    line: str, suggested: tuple[str, ...], known: set[str]
) -> tuple[str, tuple[str, ...]] | str | None:
    """A typed review line as (status, codes); "q" to stop; None to skip; else an error text."""
    words = line.replace(",", " ").split()
    if not words:
        return None
    if words == ["q"]:
        return "q"
    if words == ["a"]:
        if not suggested:
            return "nothing suggested to accept; type codes or r"
        return ("accepted", suggested)
    if words in (["r"], ["-"]):
        return ("rejected", suggested)
    unknown = [w for w in words if w not in known]
    if unknown:
        return f"unknown code {unknown[0]}; known: {', '.join(sorted(known))}"
    return ("changed" if suggested else "added", tuple(dict.fromkeys(words)))


def code_in_project(
    args: argparse.Namespace, stdin: TextIO | None = None, prompt: TextIO | None = None
) -> int:
    """Review a transcript of a project as one named coder, one committed decision a line."""
    from coding.project_add import import_files, suggest_transcripts
    from coding.refi import THEME_THRESHOLD

    if not args.coder or not args.coder.strip():
        raise CodingError("--project needs --coder NAME (who is coding)")
    stdin = stdin or sys.stdin
    prompt = prompt or sys.stderr
    with _open(args, args.project) as store:
        path = Path(args.file)
        stored = store.transcript(path.name)
        if stored is None and not path.is_file():
            raise CodingError(
                f"{path}: no such file, and project {store.name!r} has no transcript of that name"
            )
        if stored is None:
            (stored,) = import_files(store, [path], _pseudonymiser(args, store))
        elif path.is_file():
            import hashlib

            if hashlib.sha256(path.read_bytes()).hexdigest() != stored.source_sha256:
                raise CodingError(
                    f"project {store.name!r} has a different {path.name}; rename the file to "
                    "add it, or code the stored one by its name"
                )
        suggestions = store.suggestions(transcript_id=stored.id)
        if not suggestions and not args.blind:
            with _suggest_tools(args) as tools:
                suggest_transcripts(store, [stored], tools)
            suggestions = store.suggestions(transcript_id=stored.id)
        known = {c.id for c in store.codebook().codes}
        done = {c.segment_id for c in store.codings(args.coder, stored.id)}
        counts = dict.fromkeys(("accepted", "changed", "rejected", "added", "skipped"), 0)
        segments = store.segments(stored.id)
        todo = [s for s in segments if args.all or s.id not in done]
        stopped = False
        for seg in todo:
            sug = None if args.blind else suggestions.get(seg.id)
            # a CIMO letter the project's codebook has no code for is not offered
            offered = tuple(c for c in sug.codes(THEME_THRESHOLD) if c in known) if sug else ()
            shown = (
                " ".join(
                    f"{c} {sug.scores.get(c, dict(sug.themes).get(c, 0.0)):.2f}" for c in offered
                )
                if sug
                else ""
            )
            said = for_terminal(f"{seg.speaker}  [{shown or '-'}]\n  {seg.text}")
            print(f"\n{seg.key} {said}", file=prompt)  # transcript text: controls escaped
            while True:
                print(f"  ({HELP_KEYS}) > ", end="", file=prompt, flush=True)
                line = stdin.readline()
                if not line:
                    stopped = True
                    break
                decision = parse_decision(line, offered, known)
                if isinstance(decision, str) and decision != "q":
                    print(f"  {decision}", file=prompt)
                    continue
                break
            if stopped or decision == "q":
                break
            if not isinstance(decision, tuple):
                counts["skipped"] += 1
                continue
            status, codes = decision
            store.set_coding(seg.id, args.coder, codes, status)
            counts[status] += 1
        reviewed = {c.segment_id for c in store.codings(args.coder, stored.id)}
        data = {
            "project": store.name,
            "transcript": stored.name,
            "coder": args.coder,
            **counts,
            "reviewed": len(reviewed),
            "segments": len(segments),
        }

    def human() -> None:
        print(
            f"{data['coder']} on {data['transcript']}: {data['reviewed']} of {data['segments']} "
            f"segments reviewed ({counts['accepted']} accepted, {counts['changed']} changed, "
            f"{counts['rejected']} rejected, {counts['added']} added this time)"
        )

    _emit(args, data, human)
    return 0


# -- agree ---------------------------------------------------------------------------------------
def cmd_agree(args: argparse.Namespace) -> int:
    from coding.agreement import project_agreement

    with _open(args, args.name) as store:
        report = project_agreement(store, coders=args.coders)

    def human() -> None:
        from coding.agreement import render_report

        print(render_report(report))

    _emit(args, report, human)
    return 0


# -- parser --------------------------------------------------------------------------------------
def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``project`` (new/add/list/status/export) and ``agree`` on the main parser."""
    p = sub.add_parser(
        "project",
        parents=[common],
        help="projects of many transcripts, coded by named coders",
        description="A project keeps pseudonymised transcripts, the assistant's suggestions and "
        "every coder's codings in WATWERKT_HOME/projects/NAME/project.sqlite.",
    )
    psub = p.add_subparsers(dest="project_command", metavar="ACTION", required=True)
    q = psub.add_parser("new", parents=[common], help="create a project")
    q.add_argument("name", metavar="NAME")
    q.add_argument("--codebook", help="a codebook YAML or REFI-QDA .qdc (default: built in)")
    q.set_defaults(func=cmd_project_new)

    q = psub.add_parser("add", parents=[common], help="add transcripts (and suggest codes)")
    q.add_argument("name", metavar="NAME")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("--alliance", help="attribute: the alliance of these transcripts")
    q.add_argument("--role", help="attribute: the respondent's role (jongere, coach, ...)")
    q.add_argument("--date", help="attribute: interview date (YYYY-MM-DD)")
    q.add_argument("--keep-names", action="store_true", help="do not pseudonymise")
    q.add_argument("--names", metavar="FILE", help="extra words to pseudonymise, one a line")
    q.add_argument("--no-suggest", action="store_true", help="store without suggestions")
    q.add_argument(
        "--no-report-evidence", action="store_true", help="skip the report passage per segment"
    )
    q.set_defaults(func=cmd_project_add)

    q = psub.add_parser(
        "retrain", parents=[common], help="learn from accepted/changed codings, suggest again"
    )
    q.add_argument("name", metavar="NAME")
    q.add_argument(
        "--no-report-evidence", action="store_true", help="skip the report passage per segment"
    )
    q.set_defaults(func=cmd_project_retrain)

    q = psub.add_parser("list", parents=[common], help="list the projects")
    q.set_defaults(func=cmd_project_list)

    q = psub.add_parser("status", parents=[common], help="transcripts and who coded what")
    q.add_argument("name", metavar="NAME")
    q.set_defaults(func=cmd_project_status)

    q = psub.add_parser(
        "import", parents=[common], help="a REFI-QDA .qdpx (QualCoder, NVivo, ...) as a project"
    )
    q.add_argument("file", metavar="FILE.qdpx")
    q.add_argument("--project", required=True, metavar="P", help="the new project's name")
    q.set_defaults(func=cmd_project_import)

    q = psub.add_parser("export", parents=[common], help="write a REFI-QDA .qdpx and tables")
    q.add_argument("name", metavar="NAME")
    q.add_argument("out", metavar="OUT.qdpx", nargs="?")
    q.add_argument(
        "--tables",
        metavar="DIR",
        help="also write codings per code x transcript, co-occurrence (CSV, Markdown), a PNG",
    )
    q.add_argument(
        "--without-assistant", action="store_true", help="only the human coders' codings"
    )
    q.add_argument(
        "--cmo-table",
        metavar="OUT.md|OUT.csv",
        help="also write the configurations x transcripts table",
    )
    q.set_defaults(func=cmd_project_export)

    from .cli_cmo import add_cmo_command

    add_cmo_command(sub, common)

    p = sub.add_parser(
        "agree",
        parents=[common],
        help="intercoder agreement of a project (kappa, alpha, per code)",
        description="Percentage agreement and Cohen's kappa at character level (as NVivo), "
        "Krippendorff's alpha on segments, Brennan-Prediger kappa (as MAXQDA), the assistant "
        "as a coder, precision/recall/F1 per code, and the disagreements to discuss.",
    )
    p.add_argument("name", metavar="PROJECT")
    p.add_argument("--coders", nargs="+", metavar="NAME", help="compare only these coders")
    p.set_defaults(func=cmd_agree)


def add_code_options(p: argparse.ArgumentParser) -> None:
    """The options of ``watwerkt code`` that review a project's transcript."""
    p.add_argument("--project", metavar="P", help="review FILE in project P (see `project new`)")
    p.add_argument("--coder", metavar="NAME", help="with --project: who is coding")
    p.add_argument(
        "--blind", action="store_true", help="with --project: do not show the suggestions"
    )
    p.add_argument(
        "--all", action="store_true", help="with --project: also segments already reviewed"
    )
