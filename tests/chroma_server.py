"""A real Chroma server on loopback (`chroma run`), for the tests that run embedded and served.

``chroma_server`` starts one per test session on a free port and stops it at the end;
``chroma_url`` is parametrized over ``embedded`` (None) and ``server`` (its URL, emptied
before each test). Both fixtures are registered in tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_command() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (package chromadb) is missing: pip install -e '.[dev]'")
    return found


@dataclass
class ChromaServer:
    """One `chroma run` process: its URL, data folder and log."""

    path: Path
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: float = 90.0) -> ChromaServer:
        self.port = self.port or _free_port()
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        cmd = [chroma_command(), "run", "--path", str(self.path)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        tail = self.log.read_text(errors="replace")[-800:]
        pytest.fail(f"chroma run did not answer its heartbeat within {wait:.0f} s: {tail}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)
        self.process = None

    def wipe(self) -> None:
        """Delete every collection, so each test starts from an empty server."""
        import chromadb
        from chromadb.config import Settings

        client = chromadb.HttpClient(
            host="127.0.0.1", port=self.port, settings=Settings(anonymized_telemetry=False)
        )
        for collection in client.list_collections():
            client.delete_collection(collection.name)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-server")
    server = ChromaServer(root / "data", root / "chroma.log").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["embedded", "server"])
def chroma_url(request: pytest.FixtureRequest) -> str | None:
    """None (Chroma embedded under WATWERKT_HOME) or the URL of an emptied shared server."""
    if request.param == "embedded":
        return None
    server: ChromaServer = request.getfixturevalue("chroma_server")
    server.wipe()
    return server.url
