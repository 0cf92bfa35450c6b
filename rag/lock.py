"""One writer at a time per WATWERKT_HOME: an exclusive ``flock`` on ``HOME/ingest.lock``.

A second ``watwerkt ingest`` (or a removal from the web app) waits with a message while the
first one writes, and gives up with a one-line reason after ``timeout`` seconds. The kernel
drops the lock when its holder dies, even by ``kill -9``, so a crash never leaves it stuck.
The lock guards one home; clients of a shared Chroma server that write from several machines
must take turns themselves (see README, "A shared index for a team").
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RagError

log = logging.getLogger(__name__)

LOCK_NAME = "ingest.lock"


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="utf-8").strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "another process"


@contextmanager
def write_lock(home: Path, timeout: float = 600.0, poll: float = 0.2) -> Iterator[None]:
    """Hold the home's write lock for the ``with`` block, waiting at most ``timeout`` s."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    log.warning(
                        "another ingest (%s) is writing to %s; waiting up to %.0f s for it",
                        _holder(path),
                        home,
                        timeout,
                    )
                    told = True
                if time.monotonic() >= deadline:
                    raise RagError(
                        f"another ingest ({_holder(path)}) still holds {path} after "
                        f"{timeout:.0f} s; let it finish and try again"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_locked(home: Path) -> bool:
    """Whether some process (this one included) holds the home's write lock right now."""
    path = home / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
