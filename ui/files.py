"""Files at rest: everything under WATWERKT_HOME is private to its owner (folders 0700,
files 0600), and the web app keeps uploads, its temporary files and exports there too, never in
a shared temporary folder.

``watwerkt`` sets the process umask to 077 (``private_umask``), so every file the index, the
document store, the coding projects or Gradio create is born private; ``secure_home`` also
tightens a home made by an older version (0755 folders, 0644 files).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
APP_FILES = "app-files"  # Gradio's upload folder and cache (GRADIO_TEMP_DIR)


def private_umask() -> None:
    os.umask(0o077)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can enter (made if missing)."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


def secure_home(home: Path) -> Path:
    """Make ``home`` (and everything in it) private; cheap when it already is."""
    private_dir(home)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            _tighten(Path(root, name), PRIVATE_DIR)
        for name in files:
            _tighten(Path(root, name), PRIVATE_FILE)
    return home


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            return
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o077 | (mode & 0o700))
    except OSError:
        pass


def app_files(home: Path) -> Path:
    """The web app's own folder under the home: Gradio uploads and cache, temp, exports."""
    return private_dir(home / APP_FILES)


def keep_app_files_in_home(home: Path) -> Path:
    """Point Gradio's upload folder and Python's temporary files of this process at the home,
    so an uploaded transcript is never written to the shared /tmp. Call before Gradio builds
    its components (they read GRADIO_TEMP_DIR when they are made)."""
    folder = app_files(home)
    tmp = private_dir(folder / "tmp")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    os.environ["TMPDIR"] = str(tmp)
    tempfile.tempdir = str(tmp)
    return folder


def export_dir(home: Path) -> Path:
    """A fresh, unguessable folder for one export, inside the app's files (so Gradio may
    serve it to the session that asked, and only by its random path)."""
    return private_dir(app_files(home) / "exports" / secrets.token_hex(16))


def forget_upload(path: str | Path, home: Path) -> None:
    """Delete an uploaded file once its content is stored elsewhere (a transcript once its
    pseudonymised text is stored, a PDF once copied to the uploads). Only files inside the
    app's folder are touched; Gradio's per-upload folder goes with it when empty."""
    path = Path(path)
    folder = (home / APP_FILES).resolve()
    try:
        resolved = path.resolve()
    except OSError:
        return
    if folder not in resolved.parents:
        return
    resolved.unlink(missing_ok=True)
    parent = resolved.parent
    if parent != folder and folder in parent.parents:
        with contextlib.suppress(OSError):
            parent.rmdir()  # only when empty
