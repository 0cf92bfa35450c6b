"""Security of the web app and its files, probed as an outsider would: a real `watwerkt ui`
on 127.0.0.1 spoken to over plain HTTP (the Gradio protocol, ``tests/gradio_http.py``), plus
the login rule in-process. Each test names the finding of issue 13 it keeps fixed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ui.guard import binding_problem
from ui.local_server import HOST, LocalServer, ServerError, server_env
from ui.security import ConfirmTokens, LoginThrottle, is_loopback

from .gradio_http import GradioHttp, file_data
from .pdf_factory import pages_of

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
INTERVIEW = Path(__file__).resolve().parent / "data" / "interview_pseudo.txt"
CORPUS_PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
SYSTEM_TMP = Path(tempfile.gettempdir())  # read before any app points TMPDIR at its home
MARKER = f"GEHEIM{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory) -> Path:
    """Files on the server that no caller was given: a transcript, a PDF, a .md and a .docx
    outside every folder of the app, each holding MARKER."""
    folder = tmp_path_factory.mktemp("server-secrets")
    (folder / "geheim.txt").write_text(
        f"Interviewer: Hoe heet u?\nRespondent: Ik heet {MARKER} en woon in Utrecht.\n",
        encoding="utf-8",
    )
    (folder / "geheim.md").write_text(f"# {MARKER}\n\nR: tekst\n", encoding="utf-8")
    import docx

    document = docx.Document()
    document.add_paragraph(f"R: {MARKER} vertelt over haar stage.")
    document.save(str(folder / "geheim.docx"))
    pages_of(CORPUS_PDF, folder / "geheim.pdf", range(1, 2))
    return folder


@pytest.fixture(scope="module")
def served(built_home: Path, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`watwerkt ui` on loopback without a login (the most open mode), on a copy of the
    session's index."""
    workdir = tmp_path_factory.mktemp("security-server")
    home = workdir / "home"
    shutil.copytree(built_home, home)
    local = LocalServer(home, workdir / "server.log", timeout=900)
    try:
        url = local.start()
    except ServerError as exc:
        pytest.fail(str(exc))
    try:
        yield url, home
    finally:
        local.stop()


@pytest.fixture
def client(served: tuple[str, Path]) -> Iterator[GradioHttp]:
    http = GradioHttp(served[0])
    try:
        yield http
    finally:
        http.close()


def _default(component: dict[str, Any], path: str, report: str) -> Any:
    kind = component["type"]
    if kind == "file":
        return file_data(path)
    if kind in ("textbox", "dropdown"):
        return report
    if kind == "number":
        return 2020
    if kind == "checkbox":
        return False
    if kind == "chatbot":
        return []
    return None


def _reports(home: Path) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-m", "ui.cli", "reports", "--json", "--home", str(home)],
        capture_output=True,
        text=True,
        env=server_env(home),
        cwd=REPO,
        timeout=300,
        check=True,
    )
    data = json.loads(out.stdout)
    rows = data["reports"] if isinstance(data, dict) else data
    return sorted(r["id"] for r in rows if str(r["state"]).startswith("indexed"))


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_no_endpoint_reads_an_unsolicited_file_or_changes_the_index(client, served, secrets_dir):
    """Findings 'any server file can be read' and 'the index can be emptied by anyone': every
    function in the app's config, called with files this session never uploaded (for each
    file input) and a report id (for each text input), returns none of their content, copies
    nothing into the uploads and leaves the index as it was."""
    _, home = served
    paths = [*sorted(secrets_dir.iterdir()), Path("/etc/passwd"), home / "catalog.yaml"]
    paths += sorted((home / "projects").rglob("*.json"))[:1]
    uploads_before = _files(home / "uploads")
    components = client.components()
    calls = 0
    for dep in client.dependencies():
        if not dep.get("backend_fn"):
            continue
        inputs = [components[i] for i in dep["inputs"]]
        for path in paths if any(c["type"] == "file" for c in inputs) else paths[:1]:
            data = [_default(c, str(path), "regioplan-2020") for c in inputs]
            result = client.call(dep["id"], data, event_data={"segment": "s1", "action": "reject"})
            calls += 1
            assert MARKER not in result.raw, (dep.get("api_name"), path)
            assert "root:x:0:0" not in result.raw, (dep.get("api_name"), path)
            if any(c["type"] == "file" for c in inputs):
                assert f"file={path}" not in result.raw
    assert calls >= 25
    assert _files(home / "uploads") == uploads_before
    assert "regioplan-2020" in _reports(home)


def test_removing_a_report_needs_the_token_the_page_confirms(client, served):
    """Finding 'remove callable by name': without the one-time token of this session the
    remove and re-index functions change nothing; a token from another session neither."""
    url, home = served
    ask = client.dependency("verwijder-knop", "click")
    remove = client.then_of(ask)
    assert client.call(remove["id"], ["regioplan-2020", ""]).success
    assert client.call(remove["id"], ["regioplan-2020", "verzonnen-token"]).success
    other = GradioHttp(url)
    try:
        stolen = other.call(ask["id"], ["regioplan-2020"]).data[0]
    finally:
        other.close()
    assert stolen and client.call(remove["id"], ["regioplan-2020", stolen]).success
    reindex = client.then_of(client.dependency("reindex-knop", "click"))
    client.call(reindex["id"], ["regioplan-2020", stolen])
    assert "regioplan-2020" in _reports(home)


def test_host_header_must_name_this_server(served):
    """Finding 'a foreign Host header is accepted' (DNS rebinding)."""
    import httpx

    url, _ = served
    assert httpx.get(url, timeout=30).status_code == 200
    assert httpx.get(url, headers={"Host": "localhost"}, timeout=30).status_code == 200
    refused = httpx.get(url, headers={"Host": "rebind.example.org"}, timeout=30)
    assert refused.status_code == 400 and "host" in refused.text.lower()


def test_cross_site_uploads_are_refused(client, served, secrets_dir):
    """Finding 'cross-site multipart uploads are accepted'."""
    url, _ = served
    page = url.rstrip("/")
    cross = client.upload(secrets_dir / "geheim.txt", headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    fetch = client.upload(secrets_dir / "geheim.txt", headers={"Sec-Fetch-Site": "cross-site"})
    assert fetch.status_code == 403
    same = client.upload(secrets_dir / "geheim.md", headers={"Origin": page})
    assert same.status_code == 200, same.text
    for stored in same.json():
        Path(stored).unlink(missing_ok=True)


def test_oversized_requests_and_questions_are_refused(client, served):
    """Finding 'a 200 KB question runs for minutes': a body over the bound is refused before
    it is read; a question over 2,000 characters is answered at once with a clear message."""
    import httpx

    url, _ = served
    big = httpx.post(
        url.rstrip("/") + "/gradio_api/queue/join",
        content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert big.status_code == 413 and "te groot" in big.text
    ask = client.dependency("vraag-knop", "click")
    started = time.monotonic()
    result = client.call(ask["id"], ["jongeren " * 25_000, [], None, [], []])
    assert result.success
    history = result.data[0]
    assert "hoogstens 2000 tekens" in json.dumps(history, ensure_ascii=False)
    assert time.monotonic() - started < 120  # generous: the refusal needs no search at all


def test_coding_upload_leaves_no_transcript_behind_and_names_nothing(
    client, served, secrets_dir, tmp_path
):
    """Findings 'Gradio's upload cache keeps the original transcript forever', 'exports in
    world-readable temporary folders', 'the upload's file name becomes the export's name',
    and 'home 0755, files 0644'."""
    url, home = served
    started = time.time()
    named = tmp_path / "interview-ahmed-yilmaz.txt"
    named.write_text(
        INTERVIEW.read_text(encoding="utf-8") + f"Interviewer: Dank u. ({MARKER})\n",
        encoding="utf-8",
    )
    uploaded = client.upload(named, headers={"Origin": url.rstrip("/")})
    assert uploaded.status_code == 200, uploaded.text
    stored = Path(uploaded.json()[0])
    assert (home / "app-files") in stored.parents  # straight into WATWERKT_HOME
    opened = client.call(client.dependency("upload-transcript", "upload")["id"],
                         [file_data(stored, named.name), False])  # fmt: skip
    assert opened.success, opened.raw[-500:]
    assert not stored.exists(), "the original transcript must go once its text is stored"
    assert "ahmed" not in json.dumps(opened.data).lower()
    exported = client.call(client.dependency("exporteer", "click")["id"], [None])
    assert exported.success
    files = [Path(f["path"]) for f in exported.data[0]]
    assert files and all((home / "app-files") in f.parents for f in files)
    assert all("ahmed" not in f.name.lower() and f.name.startswith("transcript-") for f in files)
    for path in [home, *home.rglob("*")]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"
    leaked = []
    # the user's own original, the test's secrets and the home (in tests it lies under /tmp)
    ours = (tmp_path, secrets_dir, home)
    for path in SYSTEM_TMP.rglob("*"):
        if any(folder == path or folder in path.parents for folder in ours):
            continue
        try:
            info = path.stat()
            recent = path.is_file() and info.st_mtime >= started and info.st_size < 5e6
            if recent and MARKER.encode() in path.read_bytes():
                leaked.append(path)
        except OSError:
            continue
    assert not leaked, f"transcript text left in the system temp folder: {leaked}"


# -- in-process: the login, the host rule, the tokens --------------------------------------
def test_login_attempts_are_throttled_per_client(built_app):
    """Finding '30 wrong passwords in 0.25 s with no delay'."""
    from fastapi.testclient import TestClient

    from ui.app import build_app, make_server

    server = make_server(built_app, build_app(built_app), ("lid", "geheim"))
    with TestClient(server, base_url="http://127.0.0.1") as http:
        codes = [
            http.post("/login", data={"username": "lid", "password": f"fout{i}"}).status_code
            for i in range(30)
        ]
        assert codes[0] == 400 and codes[1:] == [429] * 29
        locked = http.post("/login", data={"username": "lid", "password": "geheim"})
        assert locked.status_code == 429 and "retry-after" in locked.headers
        assert http.post("/gradio_api/queue/join", json={}).status_code == 401


def test_login_delay_doubles_and_a_success_clears_it():
    throttle = LoginThrottle(base=0.5, cap=8)
    assert throttle.wait("a", now=0) == 0
    delays = [throttle.failed("a", now=t) for t in range(6)]
    assert delays == [0.5, 1, 2, 4, 8, 8]
    assert throttle.wait("a", now=5) == pytest.approx(8)
    assert throttle.wait("b", now=5) == 0  # per client
    throttle.succeeded("a")
    assert throttle.wait("a", now=5) == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("127.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("", False),
    ],
)
def test_loopback_is_decided_by_address_not_by_spelling(host, loopback):
    """Finding 'the loopback check is a string prefix'."""
    assert is_loopback(host) is loopback
    assert (binding_problem(host, None) is None) is loopback


def test_confirmation_tokens_are_one_time_and_bound():
    tokens = ConfirmTokens()
    token = tokens.issue("sessie-a", "remove", "rapport-1")
    assert not tokens.redeem("sessie-b", "remove", "rapport-1", token)  # used up by the try
    token = tokens.issue("sessie-a", "remove", "rapport-1")
    assert not tokens.redeem("sessie-a", "remove", "rapport-2", token)
    token = tokens.issue("sessie-a", "remove", "rapport-1")
    assert tokens.redeem("sessie-a", "remove", "rapport-1", token)
    assert not tokens.redeem("sessie-a", "remove", "rapport-1", token)
    assert tokens.issue(None, "remove") == ""
    bound = tokens.bound("sessie-a", "decide", "project")
    assert tokens.check_bound("sessie-a", "decide", "project", bound)
    assert not tokens.check_bound("sessie-b", "decide", "project", bound)


def test_cli_leaves_home_private(tmp_path):
    """Finding 'the home is 0755 and pseudonyms.json/review.sqlite 0644': an older home is
    tightened and a coded transcript's files are the owner's only."""
    home = tmp_path / "oude-home"
    (home / "projects" / "x").mkdir(parents=True)
    (home / "projects" / "x" / "pseudonyms.json").write_text("{}", encoding="utf-8")
    os.chmod(home, 0o755)
    os.chmod(home / "projects" / "x" / "pseudonyms.json", 0o644)
    done = subprocess.run(
        [sys.executable, "-m", "ui.cli", "reports", "--json", "--home", str(home)],
        capture_output=True, text=True, env=server_env(home), cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for path in [home, *home.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert HOST == "127.0.0.1"
