"""Shared fixtures: a private WATWERKT_HOME per test, no network, one built index per session."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .chroma_server import chroma_server, chroma_url  # noqa: F401  (fixtures: embedded/server)

REPO = Path(__file__).resolve().parents[1]
CORPUS_PDF = REPO / "corpus" / "regioplan-2020-reflectie-platform-jongeren-en-werk.pdf"
GOLD = REPO / "tests" / "data" / "gold_retrieval.yaml"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# One embedding cache per test run (not the user's): a text embedded once is reused by every
# home of the session. tests/test_embed_cache.py checks the cache itself.
_EMBED_CACHE = tempfile.mkdtemp(prefix="watwerkt-embed-cache-")
atexit.register(shutil.rmtree, _EMBED_CACHE, ignore_errors=True)
os.environ.setdefault("WATWERKT_EMBED_CACHE", os.path.join(_EMBED_CACHE, "embeddings.sqlite"))


@pytest.fixture(autouse=True)
def watwerkt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty WATWERKT_HOME."""
    home = tmp_path / "watwerkt-home"
    monkeypatch.setenv("WATWERKT_HOME", str(home))
    return home


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (
        host.startswith("127.") or host in ("localhost", "::1") or self.family == socket.AF_UNIX
    ):
        return _real_connect(self, address)  # type: ignore[arg-type]
    raise OSError(f"tests may not reach the network (tried {address!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any outbound connection other than loopback fails."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A WATWERKT_HOME with the bundled corpus indexed once for the whole session."""
    from ui.settings import get_settings
    from ui.wiring import App

    home = tmp_path_factory.mktemp("built-home")
    app = App(get_settings(home=home), show_progress=False)
    outcomes = app.ingest()
    assert [o.status for o in outcomes] == ["added"], outcomes
    yield home


@pytest.fixture(scope="session")
def built_app(built_home: Path):
    from ui.settings import get_settings
    from ui.wiring import App

    return App(get_settings(home=built_home), show_progress=False)
