"""What the web app lets in: who may connect (host and login) and which uploads it accepts.

Kept free of Gradio so that ``watwerkt ui`` can refuse an unsafe binding before loading it.
Upload messages are Dutch: the app shows them as they are.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .security import QUESTION_MAX_CHARS, is_loopback

MB = 1024 * 1024
PDF_MAX_BYTES = 50 * MB
TRANSCRIPT_MAX_BYTES = 10 * MB
TRANSCRIPT_SUFFIXES = (".txt", ".md", ".vtt", ".srt", ".docx")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """ "user:password" -> (user, password); None or "" -> None."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("--auth / WATWERKT_AUTH must look like user:password (both non-empty)")
    return user.strip(), password


def binding_problem(host: str, auth: tuple[str, str] | None) -> str | None:
    """Why serving on ``host`` is refused, or None. Only loopback may go without a login."""
    if is_loopback(host) or auth is not None:
        return None
    return (
        f"refusing to serve on {host} without a login: anyone on the network could use the "
        "app and read your transcripts. Add --auth user:password (or set WATWERKT_AUTH), or "
        "keep the default --host 127.0.0.1"
    )


def question_problem(question: str) -> str | None:
    """Why a question is refused before any search, or None."""
    if len(question) > QUESTION_MAX_CHARS:
        return (
            f"Uw vraag is {len(question)} tekens lang; stel een vraag van hoogstens "
            f"{QUESTION_MAX_CHARS} tekens (een beschrijving van uw situatie mag, kort)."
        )
    return None


class UploadError(Exception):
    """An upload that is refused; the message says why and what to do, in Dutch."""


def _size(path: Path, limit: int, what: str) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UploadError(f"{path.name}: het bestand kan niet worden gelezen.") from exc
    if size == 0:
        raise UploadError(f"{path.name} is leeg. Kies een ander bestand.")
    if size > limit:
        raise UploadError(
            f"{path.name} is {size / MB:.1f} MB; een {what} mag hoogstens {limit // MB} MB zijn."
        )


def check_pdf(path: str | Path) -> Path:
    """An uploaded report: a real PDF (``%PDF-`` header) of at most 50 MB."""
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise UploadError(f"{path.name} is geen PDF. Upload een rapport als .pdf-bestand.")
    _size(path, PDF_MAX_BYTES, "PDF")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise UploadError(
            f"{path.name} heet .pdf maar is geen PDF-bestand. Sla het rapport opnieuw op als PDF."
        )
    return path


def check_transcript(path: str | Path) -> Path:
    """An uploaded transcript: UTF-8 text (.txt, .md, .vtt, .srt) or a .docx, at most 10 MB."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TRANSCRIPT_SUFFIXES:
        raise UploadError(
            f"{path.name}: dit type transcript wordt niet ondersteund. "
            f"Gebruik {', '.join(TRANSCRIPT_SUFFIXES)}."
        )
    _size(path, TRANSCRIPT_MAX_BYTES, "transcript")
    if suffix == ".docx":
        if not zipfile.is_zipfile(path):
            raise UploadError(f"{path.name} is geen geldig Word-bestand (.docx).")
        with zipfile.ZipFile(path) as zf:
            if "word/document.xml" not in zf.namelist():
                raise UploadError(f"{path.name} is geen Word-document (.docx).")
        return path
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{path.name} is geen UTF-8-tekst. Sla het transcript op als UTF-8 en probeer opnieuw."
        ) from exc
    if "\x00" in text:
        raise UploadError(f"{path.name} bevat binaire gegevens; het is geen tekstbestand.")
    return path
