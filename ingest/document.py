"""Load one file into a cleaned :class:`Document`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from .clean import normalise_chars, strip_running_lines
from .errors import IngestError
from .models import Document
from .readers import read_file
from .structure import build_blocks, render
from .transcript_check import transcript_evidence


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the document's identity."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def slug(text: str) -> str:
    """A report id from a file name: lower case, ASCII letters, digits and hyphens."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "report"


def clean_pages(pages: list[str] | tuple[str, ...]) -> tuple[str, tuple[int, ...], tuple, tuple]:
    """Clean raw page texts into (text, page_starts, blocks, sections)."""
    lines = [normalise_chars(p).split("\n") for p in pages]
    lines = strip_running_lines(lines)
    layout = render(build_blocks(lines), n_pages=len(pages))
    return layout.text, layout.page_starts, layout.blocks, layout.sections


def load_document(
    path: Path, report_id: str | None = None, content_hash: str | None = None
) -> Document:
    """Read, clean and structure one file."""
    path = Path(path)
    raw = read_file(path)
    evidence = transcript_evidence("\n".join(raw.pages))
    if evidence:
        raise IngestError(
            str(path),
            f"looks like an interview transcript, not a report ({evidence}); nothing indexed: "
            f"code it with `watwerkt code {path.name}`, which pseudonymises names first",
        )
    try:
        text, page_starts, blocks, sections = clean_pages(raw.pages)
    except Exception as exc:  # one odd file must not end a batch
        raise IngestError(
            str(path), f"text could not be cleaned ({type(exc).__name__}); export it again"
        ) from exc
    if len(text.split()) < 5:
        raise IngestError(str(path), "almost no text after clean-up; check that it is a report")
    return Document(
        report_id=report_id or slug(path.stem),
        source_path=str(path),
        content_hash=content_hash or file_hash(path),
        text=text,
        page_starts=page_starts,
        sections=sections,
        blocks=blocks,
    )
