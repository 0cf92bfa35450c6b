"""The web app without a browser: the functions behind its events, the PDF route, the login
rule of `watwerkt ui`, and the review store that keeps a coder's decisions."""

from __future__ import annotations

import html
import re
import uuid
import zipfile
from pathlib import Path

import gradio as gr
import pytest

from coding.refi import validate
from coding.review import ReviewStore
from ui import app_about, app_chat, app_coding, app_corpus
from ui.app import build_app, make_server
from ui.cli import main
from ui.guard import UploadError, binding_problem, check_pdf, check_transcript, parse_auth
from ui.settings import get_settings
from ui.wiring import App

from .conftest import CORPUS_PDF
from .pdf_factory import pages_of

INTERVIEW = Path(__file__).resolve().parent / "data" / "interview_pseudo.txt"
WHAT_WORKS = "Wat werkt voor mbo-2 jongeren?"
LOCAL = "http://127.0.0.1"


# -- the app -------------------------------------------------------------------------------
def test_build_app_returns_blocks_with_stable_element_ids(built_app):
    blocks = build_app(built_app)
    assert isinstance(blocks, gr.Blocks)
    ids = {getattr(b, "elem_id", None) for b in blocks.blocks.values()}
    for expected in (
        "vraag-input",
        "antwoord",
        "bronnen",
        "kopieer",
        "filter-rapport",
        "filter-jaar",
        "upload-transcript",
        "namen-behouden",
        "segments",
        "filter-code",
        "filter-spreker",
        "exporteer",
        "downloads",
        "corpus-table",
        "upload-pdf",
        "over-platform",
    ):
        assert expected in ids, expected


# -- asking --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def what_works(built_app) -> app_chat.ChatTurn:
    return app_chat.chat_turn(built_app, WHAT_WORKS, [], None)


def test_answer_shows_footnotes_highlighted_quotes_and_pdf_links(what_works):
    answer = what_works.answer
    assert answer is not None and answer.grounded and answer.citations
    message = what_works.history[-1]
    assert message["role"] == "assistant"
    assert "[1]" in message["content"]
    assert re.search(r"<small>\[1\](\[\d+\])* Regioplan \(2020\), p\. \d+", message["content"])
    sources = what_works.sources
    for c in answer.citations:
        assert re.search(rf"<mark[^>]*>{re.escape(html.escape(c.quote))}</mark>", sources), c.quote
        assert f'id="bron-{c.n}"' in sources
    # one card per cited passage, its quotes numbered, with a PDF link to its first page
    cards = re.findall(r'<article class="ww-bron".*?</article>', sources, re.S)
    assert len(cards) == len({c.chunk_id for c in answer.citations})
    for card in cards:
        numbers = [int(n) for n in re.search(r'data-n="([\d ]+)"', card).group(1).split()]
        first = next(c for c in answer.citations if c.n == numbers[0])
        assert f'href="/watwerkt/pdf/{first.report_id}#page={first.page}"' in card
        if len(numbers) > 1:
            assert all(f'<mark data-n="{n}">' in card for n in numbers)
    assert 'id="refusal"' not in sources


def test_copy_text_holds_answer_footnotes_and_references(what_works):
    text = what_works.copy
    assert what_works.answer is not None
    assert what_works.answer.text in text
    assert "Voetnoten" in text and "[1] Regioplan (2020)" in text
    assert "Literatuur" in text and "Regioplan (2020). Platform Jongeren en Werk" in text


def test_refusal_renders_in_the_refusal_box(built_app):
    turn = app_chat.chat_turn(built_app, "Hoe pakt Duitsland jeugdwerkloosheid aan?", [], None)
    assert turn.answer is not None and not turn.answer.grounded
    assert turn.sources.startswith('<div id="refusal" class="ww-refusal"')
    assert "Wellicht verwant" in turn.sources and "<mark>" not in turn.sources
    assert "Geen antwoord in de rapporten" in turn.history[-1]["content"]


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        ("En voor mbo-4?", WHAT_WORKS, "Wat werkt voor mbo-4?"),
        ("en bij werkgevers?", "Wat helpt bij scholen?", "Wat helpt bij werkgevers?"),
        ("En ouders?", WHAT_WORKS, "mbo-2 jongeren: ouders?"),
        ("Wat als ze al zijn uitgevallen?", WHAT_WORKS, "mbo-2 jongeren: ze al zijn uitgevallen?"),
        ("Hoe betrek je werkgevers bij het platform?", WHAT_WORKS, None),
        ("En voor mbo-4?", None, None),
    ],
)
def test_follow_up_is_read_with_the_previous_question(question, previous, expected):
    assert app_chat.rewrite_followup(question, previous) == (expected or question)


@pytest.mark.parametrize(
    ("question", "alone"),
    [
        ("En hoeveel allianties zijn er opgezet?", True),
        ("En wat werkt voor ouders van jongeren?", True),
        ("En voor mbo-4?", False),
        ("En ouders?", False),
        ("Maar bij werkgevers in de zorg?", False),
    ],
)
def test_only_a_whole_question_is_read_alone_after_its_completion_is_refused(question, alone):
    assert app_chat.stands_alone(question) is alone


def test_follow_up_turn_asks_and_shows_the_rewritten_question(built_app, what_works):
    turn = app_chat.chat_turn(built_app, "En voor mbo-4?", what_works.history, what_works.asked)
    assert turn.asked == "Wat werkt voor mbo-4?"
    assert turn.answer is not None and turn.answer.question == "Wat werkt voor mbo-4?"
    assert "gelezen als:* „Wat werkt voor mbo-4?”" in turn.history[-1]["content"]
    assert len(turn.history) == len(what_works.history) + 2


def test_a_new_question_that_looks_like_a_follow_up_is_read_as_typed(built_app):
    """After a refused question, "En hoeveel allianties zijn er opgezet?" completed with its
    topic finds nothing; as typed it is answered, and that is what is read."""
    refused = app_chat.chat_turn(built_app, "Hoeveel subsidie kreeg elke alliantie?", [], None)
    assert refused.answer is not None and not refused.answer.grounded
    typed = "En hoeveel allianties zijn er opgezet?"
    turn = app_chat.chat_turn(built_app, typed, refused.history, refused.asked)
    assert turn.answer is not None and turn.answer.grounded
    assert turn.asked == typed and "gelezen als" not in turn.history[-1]["content"]
    assert "negen allianties" in turn.answer.text


def test_pdf_route_serves_only_indexed_reports_and_asks_for_login(built_app):
    from fastapi.testclient import TestClient

    with TestClient(make_server(built_app, build_app(built_app)), base_url=LOCAL) as client:
        response = client.get("/watwerkt/pdf/regioplan-2020")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert client.get("/watwerkt/pdf/buers-witvliet-2019").status_code == 404
        assert client.get("/watwerkt/pdf/..%2Fcatalog").status_code == 404
    server = make_server(built_app, build_app(built_app), ("lid", "geheim"))
    with TestClient(server, base_url=LOCAL) as client:
        assert client.get("/watwerkt/pdf/regioplan-2020").status_code == 401
        assert client.post("/login", data={"username": "lid", "password": "geheim"}).is_success
        assert client.get("/watwerkt/pdf/regioplan-2020").status_code == 200


# -- uploads and the host rule -------------------------------------------------------------
def test_upload_check_rejects_a_pdf_that_is_not_a_pdf(tmp_path: Path):
    fake = tmp_path / "rapport.pdf"
    fake.write_text("Dit is gewoon tekst.", encoding="utf-8")
    with pytest.raises(UploadError, match="geen PDF-bestand"):
        check_pdf(fake)
    with pytest.raises(UploadError, match="geen PDF"):
        check_pdf(tmp_path / "rapport.docx")
    assert check_pdf(CORPUS_PDF) == CORPUS_PDF


def test_upload_check_rejects_oversized_files(tmp_path: Path):
    big = tmp_path / "groot.pdf"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.4\n")
        fh.truncate(51 * 1024 * 1024)
    with pytest.raises(UploadError, match="hoogstens 50 MB"):
        check_pdf(big)
    long = tmp_path / "lang.txt"
    with long.open("wb") as fh:
        fh.truncate(11 * 1024 * 1024)
    with pytest.raises(UploadError, match="hoogstens 10 MB"):
        check_transcript(long)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("interview.txt", "Naam: Jansen".encode("cp1252") + b"\xe9\xe8", "geen UTF-8"),
        ("interview.docx", b"geen zip", "geen geldig Word-bestand"),
        ("interview.exe", b"MZ", "niet ondersteund"),
        ("leeg.vtt", b"", "is leeg"),
    ],
)
def test_upload_check_rejects_bad_transcripts(tmp_path: Path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UploadError, match=message):
        check_transcript(path)


@pytest.mark.parametrize(
    ("host", "auth", "refused"),
    [
        ("127.0.0.1", None, False),
        ("localhost", None, False),
        ("::1", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.20", None, True),
        ("0.0.0.0", ("u", "p"), False),
    ],
)
def test_only_loopback_may_serve_without_login(host, auth, refused):
    assert (binding_problem(host, auth) is not None) == refused


def test_parse_auth_needs_user_and_password():
    assert parse_auth("lid:ge:heim") == ("lid", "ge:heim")
    assert parse_auth(None) is None
    for bad in ("lid", ":geheim", "lid:"):
        with pytest.raises(ValueError):
            parse_auth(bad)


def test_ui_refuses_an_open_address_without_login(monkeypatch, capsys):
    monkeypatch.delenv("WATWERKT_AUTH", raising=False)
    started: list[tuple] = []
    monkeypatch.setattr("ui.app.launch", lambda *args: started.append(args))
    assert main(["ui", "--host", "0.0.0.0"]) == 1
    assert not started
    err = capsys.readouterr().err
    assert "--auth" in err and "WATWERKT_AUTH" in err and err.count("\n") == 1
    assert main(["ui", "--host", "0.0.0.0", "--auth", "lid"]) == 1
    assert not started


def test_ui_starts_with_login_or_on_loopback(monkeypatch):
    started: list[tuple] = []
    monkeypatch.setattr("ui.app.launch", lambda *args: started.append(args))
    monkeypatch.setenv("WATWERKT_AUTH", "lid:geheim")
    assert main(["ui", "--host", "0.0.0.0", "--port", "8123"]) == 0
    monkeypatch.delenv("WATWERKT_AUTH")
    assert main(["ui"]) == 0
    assert [(a[1], a[2], a[3]) for a in started] == [
        ("0.0.0.0", 8123, ("lid", "geheim")),
        ("127.0.0.1", 7860, None),
    ]


# -- coding --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def transcript(tmp_path_factory) -> Path:
    """The test interview with one extra line, so that its project folder is this module's."""
    from coding.pseudonymise import warm_up

    warm_up()
    path = tmp_path_factory.mktemp("transcript") / "interview.txt"
    extra = f"Interviewer: Dank jullie wel. (sessie {uuid.uuid4().hex[:8]})\n"
    path.write_text(INTERVIEW.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def session(built_app, transcript: Path) -> app_coding.CodingSession:
    steps: list[str] = []
    opened = app_coding.open_transcript(
        built_app, transcript, progress=lambda f, t: steps.append(t)
    )
    assert steps[-1] == "Klaar"
    return opened


def test_coding_upload_returns_pseudonymised_segments_with_codes(session):
    segments = session.coded.segments
    assert segments and any(cs.cimo for cs in segments)
    assert session.coded.transcript.pseudonymised
    notice = app_coding.notice_markdown(session)
    assert "Gepseudonimiseerd" in notice and "[PERSOON-1]" in notice
    page = app_coding.segments_html(session)
    assert "Fatima" not in page and "[PERSOON-" in page
    coded = next(cs for cs in segments if cs.cimo)
    assert f'id="accept-{coded.segment.id}"' in page
    assert f'id="reject-{coded.segment.id}"' in page
    assert f'class="ww-seg code-{coded.cimo} state-open"' in page


def test_segments_filter_by_code_and_speaker(session):
    codes = {cs.cimo for cs in session.coded.segments if cs.cimo}
    code = sorted(codes)[0]
    page = app_coding.segments_html(session, code_filter=code)
    shown = set(re.findall(r'data-code="([A-Z]?)"', page))
    assert shown == {code}
    speaker = app_coding.speaker_choices(session)[1]
    page = app_coding.segments_html(session, speaker_filter=speaker)
    speakers = set(re.findall(r'<td class="ww-speaker">([^<]*)</td>', page))
    assert speakers == {html.escape(speaker)}


def test_accepted_decision_survives_a_new_app(session, built_home, transcript: Path):
    coded = [cs for cs in session.coded.segments if cs.cimo]
    first, second = coded[0], coded[1]
    app_coding.decide(session, first.segment.id, "accept")
    app_coding.decide(session, second.segment.id, "reject")
    fresh = App(get_settings(home=built_home), show_progress=False)
    reopened = app_coding.open_transcript(fresh, transcript)
    assert reopened.project == session.project
    assert reopened.restored >= 2
    decisions = reopened.decisions()
    assert decisions[first.segment.id].decision == "accepted"
    assert decisions[first.segment.id].codes[0] == first.cimo
    assert decisions[second.segment.id].decision == "rejected"
    assert "eerdere beslissing(en) hersteld" in app_coding.notice_markdown(reopened)
    assert (session.project / "review.sqlite").is_file()


def test_qdpx_download_contains_only_accepted_codes(session, tmp_path: Path):
    coded = [cs for cs in session.coded.segments if cs.cimo]
    accepted, rejected, changed, untouched = coded[2], coded[3], coded[4], coded[5]
    new_code = next(c for c in "CIMO" if c != changed.cimo)
    app_coding.decide(session, accepted.segment.id, "accept")
    app_coding.decide(session, rejected.segment.id, "reject")
    app_coding.decide(session, changed.segment.id, "code", new_code)
    qdpx, qdc, csv_path = app_coding.export_files(session, tmp_path)
    assert (qdpx.suffix, qdc.suffix, csv_path.suffix) == (".qdpx", ".qdc", ".csv")
    with zipfile.ZipFile(qdpx) as zf:
        qde = zf.read("project.qde")
    assert validate(qde, "Project.xsd") == []
    starts = set(re.findall(rb'startPosition="(\d+)"', qde))
    kept = session.store.accepted(session.texts())
    expected = {str(session.segment(sid).segment.start).encode() for sid in kept}  # type: ignore[union-attr]
    assert starts == expected
    assert str(accepted.segment.start).encode() in starts
    assert str(changed.segment.start).encode() in starts
    assert str(rejected.segment.start).encode() not in starts
    assert str(untouched.segment.start).encode() not in starts
    assert kept[changed.segment.id][0] == new_code
    rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("segment,spreker") and len(rows) == len(session.coded.segments) + 1


def test_undo_returns_a_segment_to_open(session):
    seg = next(cs for cs in session.coded.segments if cs.cimo)
    app_coding.decide(session, seg.segment.id, "reject")
    app_coding.decide(session, seg.segment.id, "undo")
    assert seg.segment.id not in session.decisions()
    assert f'id="row-{seg.segment.id}" class="ww-seg code-{seg.cimo} state-open"' in (
        app_coding.segments_html(session)
    )


def _coded(text: str, pieces: list[str]):
    from coding.models import CodedSegment, CodedTranscript, Segment, Transcript

    segs = []
    for i, piece in enumerate(pieces, start=1):
        start = text.index(piece)
        segs.append(
            CodedSegment(Segment(f"seg-{i:04d}", "R", start, start + len(piece), piece, 0), None)
        )
    return CodedTranscript(Transcript("t.txt", text, ()), tuple(segs), "test")


def test_review_store_keeps_decisions_and_checks_the_text(tmp_path: Path):
    coded = _coded("R: Zij belde elke week. Ja.\n", ["Zij belde elke week.", "Ja."])
    store = ReviewStore(tmp_path / "p" / "review.sqlite", coded)
    assert store.decisions() == {}
    store.set_decision(
        "seg-0001", "accepted", ["M", "T-coaching", "M"], text="Zij belde elke week."
    )
    store.set_decision("seg-0002", "rejected", ["C"], text="Ja.")
    again = ReviewStore(tmp_path / "p" / "review.sqlite", coded)
    assert again.decisions()["seg-0001"].codes == ("M", "T-coaching")
    assert again.decisions()["seg-0002"].codes == ()
    assert again.accepted() == {"seg-0001": ["M", "T-coaching"]}
    assert again.matching({"seg-0001": "Een andere zin."}) == {}
    with pytest.raises(Exception, match="decision"):
        again.set_decision("seg-0003", "misschien")
    # the same file opened with other text (names kept): unchanged segments keep their decision
    other = _coded("R: Zij belde elke week. Nee.\n", ["Zij belde elke week.", "Nee."])
    texts = {"seg-0001": "Zij belde elke week.", "seg-0002": "Nee."}
    assert set(ReviewStore(tmp_path / "p" / "review.sqlite", other).matching(texts)) == {"seg-0001"}


def test_review_store_adopts_the_decisions_of_an_old_review_file(tmp_path: Path):
    import sqlite3

    path = tmp_path / "p" / "review.sqlite"
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE decisions (segment_id TEXT PRIMARY KEY, decision TEXT NOT NULL, "
        "codes TEXT NOT NULL, text TEXT NOT NULL DEFAULT '', updated TEXT NOT NULL)"
    )
    con.execute(
        "INSERT INTO decisions VALUES ('seg-0001', 'changed', 'O\tT-x', "
        "'Zij belde elke week.', '2025-01-02T03:04:05Z')"
    )
    con.execute(
        "INSERT INTO decisions VALUES ('seg-0002', 'accepted', 'C', 'Iets anders.', "
        "'2025-01-02T03:04:05Z')"
    )
    con.commit()
    con.close()
    coded = _coded("R: Zij belde elke week. Ja.\n", ["Zij belde elke week.", "Ja."])
    store = ReviewStore(path, coded)
    assert store.accepted() == {"seg-0001": ["O", "T-x"]}
    assert store.project.codings()[0].created == "2025-01-02T03:04:05Z"


# -- corpus and "over het platform" --------------------------------------------------------
def test_catalog_shows_indexed_and_missing_reports(built_app):
    rows = {r.report_id: r for r in app_corpus.catalog_rows(built_app)}
    assert rows["regioplan-2020"].state == "indexed" and rows["regioplan-2020"].chunks > 50
    assert rows["regioplan-2020"].has_pdf
    assert rows["buers-witvliet-2019"].state == "missing"
    page = app_corpus.catalog_html(built_app)
    assert 'id="rapport-regioplan-2020" data-state="indexed"' in page and "ontbreekt" in page


def test_platform_cards_cite_lessons_and_hypotheses_with_pages(built_app):
    cards = app_about.platform_cards(built_app)
    lessons = [c for c in cards if c.kind == "les"]
    assert [c.title.split(":")[0] for c in lessons] == [f"Geleerde les {i}" for i in range(1, 5)]
    hypotheses = [h for c in lessons for h in c.hypotheses]
    assert [h.title for h in hypotheses] == [f"Hypothese {i}" for i in range(1, 9)]
    first = hypotheses[0]
    assert first.page == 19 and first.source == "Regioplan (2020)"
    assert "3.2 Geleerde les 1" in first.section
    page = app_about.about_html(built_app)
    assert re.search(r"<h4>Hypothese 1</h4>.*?p\. 19", page, re.S)
    assert 'href="/watwerkt/pdf/regioplan-2020#page=19"' in page


@pytest.mark.slow
def test_uploaded_pdf_is_indexed_listed_and_removable(tmp_path: Path):
    app = App(get_settings(home=tmp_path / "home"), show_progress=False)
    pdf = pages_of(CORPUS_PDF, tmp_path / "lessen.pdf", range(18, 21))
    steps: list[float] = []
    message = app_corpus.add_pdf(
        app, pdf, None, "Geleerde lessen", 2020, "Regioplan", progress=lambda f, t: steps.append(f)
    )
    assert message.startswith("✅") and "`geleerde-lessen`" in message
    assert steps[0] < steps[-1] == 1.0
    rows = {r.report_id: r for r in app_corpus.catalog_rows(app)}
    assert rows["geleerde-lessen"].state == "indexed" and rows["geleerde-lessen"].has_pdf
    assert (app.settings.home / "uploads" / "geleerde-lessen.pdf").is_file()
    assert "Hypothese 1" in app_about.about_html(app)
    assert app_corpus.reindex_report(app, "geleerde-lessen").startswith("🔄")
    assert app_corpus.remove_report(app, "geleerde-lessen").startswith("🗑️")
    assert app.index.reports() == []
    rows = {r.report_id: r for r in app_corpus.catalog_rows(app)}
    assert rows["geleerde-lessen"].state == "present"
    assert ("geleerde-lessen (niet geïndexeerd)", "geleerde-lessen") in (
        app_corpus.indexed_choices(app)
    )
    assert app_corpus.reindex_report(app, "geleerde-lessen").startswith("🔄")
    assert [r.report_id for r in app.index.reports()] == ["geleerde-lessen"]
    with pytest.raises(UploadError):
        app_corpus.add_pdf(app, tmp_path / "kapot.pdf")


# -- team ----------------------------------------------------------------------------------
def test_team_tab_codes_as_two_coders_and_shows_agreement_and_configuration(built_app, tmp_path):
    from ui import app_team

    app = App(get_settings(home=tmp_path / "team-home"), show_progress=False)
    app.index = built_app.index  # the session's index, read only here
    assert "gemaakt" in app_team.new_project(app, "studie")
    assert app_team.project_choices(app) == ["studie"]
    upload = tmp_path / "interview-fatima-el-amrani.txt"
    upload.write_text(INTERVIEW.read_text(encoding="utf-8"), encoding="utf-8")
    message = app_team.add_transcript(app, "studie", str(upload))
    assert message.startswith("✅"), message
    (name,) = app_team.transcript_choices(app, "studie")
    assert name.startswith("transcript-") and "fatima" not in name
    refs = [ref for _, ref in app_team.segment_choices(app, "studie", name)]
    assert len(refs) >= 4
    for ref, a, b in zip(refs[:4], "CIMO", "CIMM", strict=True):
        assert app_team.code_segment(app, "studie", "anna", ref, a).startswith("✅")
        assert app_team.code_segment(app, "studie", "bert", ref, b).startswith("✅")
    assert app_team.code_segment(app, "studie", "", refs[0], "C").startswith("⚠️")
    status = app_team.status_html(app, "studie")
    assert "anna" in status and "bert" in status
    page = app_team.agreement_html(app, "studie")
    assert "Krippendorff" in page
    assert re.search(r"anna – bert</td><td>\d+</td><td>[\d.]+ %</td><td>-?[\d.]+</td>", page)
    mine = app_team.segments_html(app, "studie", name, "bert")
    assert mine.count('class="ww-mine">M<') == 2
    made = app_team.create_configuration(
        app, "studie", "anna", "coach", "Een vaste coach geeft vertrouwen.", "supports",
        f"{refs[0]}=C\n{refs[2]}=M",
    )  # fmt: skip
    assert made.startswith("✅") and "2 segment" in made
    assert "coach" in app_team.configurations_html(app, "studie")
    bad = app_team.create_configuration(app, "studie", "anna", "x", "y", None, "nergens=C")
    assert bad.startswith("⚠️")
