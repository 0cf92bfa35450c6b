"""``watwerkt cmo new|edit|list``: CMO configurations of a project (``coding.configurations``)."""

from __future__ import annotations

import argparse
from typing import Any

from .cli_project import _emit, _open


def _config_json(c: Any) -> dict[str, Any]:
    return {
        "name": c.name,
        "statement": c.statement,
        "verdict": c.verdict,
        "theory": c.theory,
        "coder": c.coder,
        "created": c.created,
        "updated": c.updated,
        "transcripts": c.transcripts,
        "segments": [
            {"transcript": m.transcript, "segment": m.segment, "role": m.role, "text": m.text}
            for m in c.members
        ],
        "links": [
            {"report": x.report, "section": x.section, "page": x.page, "quote": x.quote}
            for x in c.links
        ],
    }


def _show_config(args: argparse.Namespace, c: Any) -> None:
    def human() -> None:
        print(c.note_text())

    _emit(args, _config_json(c), human)


def cmd_cmo_new(args: argparse.Namespace) -> int:
    from coding.configurations import create_configuration, parse_link, parse_member

    with _open(args, args.project) as store:
        c = create_configuration(
            store,
            args.name,
            args.statement,
            args.coder,
            verdict=args.verdict,
            theory=args.theory or "",
            members=[parse_member(store, ref) for ref in args.segment or ()],
            links=[parse_link(x) for x in args.link or ()],
        )
    _show_config(args, c)
    return 0


def cmd_cmo_edit(args: argparse.Namespace) -> int:
    from coding.configurations import edit_configuration, parse_link, parse_member, parse_segment

    with _open(args, args.project) as store:
        c = edit_configuration(
            store,
            args.name,
            statement=args.statement,
            verdict=args.verdict,
            theory=args.theory,
            add=[parse_member(store, ref) for ref in args.segment or ()],
            remove=[parse_segment(store, ref) for ref in args.remove or ()],
            links=[parse_link(x) for x in args.link or ()],
            drop_links=args.drop_links,
        )
    _show_config(args, c)
    return 0


def cmd_cmo_list(args: argparse.Namespace) -> int:
    from coding.configurations import configuration_table, configurations

    with _open(args, args.project) as store:
        items = configurations(store)
        table = configuration_table(items, [t.name for t in store.transcripts()], args.table)
    data = {"project": args.project, "configurations": [_config_json(c) for c in items]}
    data["table"] = table

    def human() -> None:
        if not items:
            print(f"No configurations yet; add one with `watwerkt cmo new {args.project} NAME`.")
        else:
            print(table, end="")

    _emit(args, data, human)
    return 0


def add_cmo_command(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "cmo",
        parents=[common],
        help="CMO configurations of a project (create, edit, list)",
        description="A configuration links segments in the roles C, I, M (M-resource, "
        "M-reasoning) and O from one or more transcripts, with a statement in your words, a "
        "verdict on a programme theory and links to report passages.",
    )
    csub = p.add_subparsers(dest="cmo_command", metavar="ACTION", required=True)
    for action, func in (("new", cmd_cmo_new), ("edit", cmd_cmo_edit)):
        q = csub.add_parser(action, parents=[common], help=f"{action} a configuration")
        q.add_argument("project", metavar="PROJECT")
        q.add_argument("name", metavar="NAME")
        q.add_argument("--statement", required=action == "new", help="the configuration in words")
        q.add_argument("--verdict", choices=["supports", "refutes", "refines"])
        q.add_argument("--theory", help="the programme theory the verdict is about")
        q.add_argument(
            "--segment",
            action="append",
            metavar="TRANSCRIPT:SEGMENT=ROLE",
            help="a segment and its role (C, I, M, M-resource, M-reasoning, O); repeatable",
        )
        q.add_argument(
            "--link",
            action="append",
            metavar="REPORT|SECTION|PAGE|QUOTE",
            help="a report passage stating the same configuration; repeatable",
        )
        if action == "new":
            q.add_argument("--coder", required=True, metavar="NAME", help="who made it")
        else:
            q.add_argument("--remove", action="append", metavar="TRANSCRIPT:SEGMENT")
            q.add_argument("--drop-links", action="store_true", help="remove the report links")
        q.set_defaults(func=func)
    q = csub.add_parser("list", parents=[common], help="configurations x transcripts")
    q.add_argument("project", metavar="PROJECT")
    q.add_argument("--table", choices=["md", "csv"], default="md", help="table format")
    q.set_defaults(func=cmd_cmo_list)
