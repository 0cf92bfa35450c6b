"""Which files an ingest reads: files as given, and the report files inside given folders.

Inside a folder only the folder's own files are read: a symbolic link that leads outside it
(``ln -s /etc/passwd notes.txt``) is listed as refused, so it cannot make a server file searchable.
Caption files (.vtt/.srt) are listed too, so that the reader can refuse them with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .readers import SUPPORTED_SUFFIXES, TRANSCRIPT_SUFFIXES

OUTSIDE_LINK = (
    "a symbolic link that leads outside the ingested folder; refused (only the folder's own "
    "files are read): copy the file into the folder to add it"
)


@dataclass(frozen=True, slots=True)
class FoundFile:
    """One file to ingest, or to report as refused with ``refused`` saying why."""

    path: Path
    refused: str | None = None


def find_files(paths: Iterable[Path]) -> list[FoundFile]:
    """Files as given, and the supported files inside given folders (sorted, no hidden files)."""
    out: list[FoundFile] = []
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            out.append(FoundFile(p))
            continue
        root = p.resolve()
        for f in sorted(p.rglob("*")):  # does not descend into linked folders
            rel = f.relative_to(p)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if f.is_symlink() and f.is_dir():  # named, so its files are not silently missing
                if not f.resolve().is_relative_to(root):
                    out.append(FoundFile(f, OUTSIDE_LINK))
                continue
            if (
                f.suffix.lower() not in SUPPORTED_SUFFIXES + TRANSCRIPT_SUFFIXES
                or f.name.lower() == "readme.md"
                or not f.is_file()
            ):
                continue
            inside = f.resolve().is_relative_to(root)
            out.append(FoundFile(f, None if inside else OUTSIDE_LINK))
    return out
