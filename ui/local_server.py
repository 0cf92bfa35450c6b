"""`watwerkt ui` as a child process on 127.0.0.1, for the browser tests and the load benchmark.

``LocalServer`` starts the app on a free loopback port with a given WATWERKT_HOME, waits until
it answers over HTTP (it builds a missing index first) and stops it again. Failures raise
``ServerError`` with the tail of the server's log, so a test or a benchmark can say why.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[1]


class ServerError(RuntimeError):
    """The server exited or did not answer in time."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(home: Path) -> dict[str, str]:
    """The environment of the child: offline, no telemetry, no inherited password."""
    env = {
        **os.environ,
        "WATWERKT_HOME": str(home),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("WATWERKT_AUTH", None)
    return env


class LocalServer:
    """``with LocalServer(home, log) as url: ...`` serves the app at ``url`` meanwhile."""

    def __init__(self, home: Path, log: Path, port: int | None = None, timeout: float = 600):
        self.home, self.log, self.timeout = home, log, timeout
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        cmd = [sys.executable, "-m", "ui.cli", "ui", "--host", HOST, "--port", str(self.port)]
        with self.log.open("w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [*cmd, "--home", str(self.home)],
                cwd=REPO,
                env=server_env(self.home),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(
                    f"watwerkt ui exited with {self.proc.returncode}:\n{self._tail()}"
                )
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return self.url
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise ServerError(
            f"watwerkt ui did not answer within {self.timeout:.0f} s:\n{self._tail()}"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def _tail(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            return ""

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
