"""Read report files into raw page texts: PDF (pypdf), .txt/.md, .docx.

Every failure is an :class:`IngestError` whose reason says what is wrong and what to do.
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import IngestError

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx")

# A .docx is a zip; refuse archives that would expand beyond these bounds (zip bombs).
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_DOCX_RATIO = 200
MAX_PDF_PAGES = 2000

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Text as it comes out of a file, one string per page, before clean-up."""

    path: Path
    pages: tuple[str, ...]
    empty_pages: tuple[int, ...] = ()


def read_file(path: Path) -> RawDocument:
    """Read one report file, choosing the reader by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(
            str(path),
            f"unsupported file type {suffix or '(none)'}; "
            f"add a {', '.join(SUPPORTED_SUFFIXES)} file instead",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(str(path), f"cannot be read ({exc.strerror}); check the path") from exc
    if size == 0:
        raise IngestError(str(path), "empty file (0 bytes); export or download the report again")
    if suffix == ".pdf":
        return read_pdf(path)
    if suffix == ".docx":
        return read_docx(path)
    return read_text(path)


def read_text(path: Path) -> RawDocument:
    """Read a .txt/.md file; a form feed (\\f) separates pages when present."""
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise IngestError(str(path), "binary data in a text file; save it as UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        log.warning("%s: not UTF-8, read as Windows-1252", path)
    return RawDocument(path=path, pages=tuple(text.split("\f")))


def read_pdf(path: Path) -> RawDocument:
    """Read a PDF page by page with pypdf."""
    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        start = head[:8].decode("latin-1", errors="replace").strip()
        raise IngestError(
            str(path),
            f"not a PDF (the file starts with {start!r}); "
            "rename it to its real type or export it as PDF",
        )
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # unsupported crypto or a real password
                raise _encrypted(path) from exc
            if not ok:
                raise _encrypted(path)
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except FileNotDecryptedError as exc:
        raise _encrypted(path) from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise IngestError(
            str(path), f"damaged PDF ({_short(exc)}); download or export it again"
        ) from exc
    if n_pages == 0:
        raise IngestError(str(path), "PDF has no pages; download or export it again")
    if n_pages > MAX_PDF_PAGES:
        raise IngestError(str(path), f"PDF has {n_pages} pages (limit {MAX_PDF_PAGES}); split it")

    pages: list[str] = []
    empty: list[int] = []
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # pypdf raises many kinds on broken content streams
            log.warning("%s, page %d: text could not be extracted (%s)", path, number, _short(exc))
            text = ""
        if not text.strip():
            empty.append(number)
        pages.append(text)
    if len(empty) == n_pages:
        raise IngestError(
            str(path),
            "no text layer on any page (scanned?); run OCR (e.g. ocrmypdf) and add the text PDF",
        )
    return RawDocument(path=path, pages=tuple(pages), empty_pages=tuple(empty))


def read_docx(path: Path) -> RawDocument:
    """Read the paragraphs of a .docx, refusing archives that expand suspiciously."""
    if not zipfile.is_zipfile(path):
        raise IngestError(str(path), "not a .docx (no zip archive inside); save it again as .docx")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = max(1, sum(i.compress_size for i in infos))
            names = {i.filename for i in infos}
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(str(path), f"damaged .docx ({_short(exc)}); save it again") from exc
    if total > MAX_DOCX_UNCOMPRESSED or total / packed > MAX_DOCX_RATIO:
        raise IngestError(
            str(path),
            f"refused: expands to {total // (1024 * 1024)} MB from {packed // 1024} kB "
            "(zip bomb?); open it in Word and save a normal copy",
        )
    if "word/document.xml" not in names:
        raise IngestError(str(path), "not a Word document (no word/document.xml); save as .docx")
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises lxml and KeyErrors on broken parts
        raise IngestError(str(path), f"damaged .docx ({_short(exc)}); save it again") from exc
    paragraphs = [p.text for p in document.paragraphs]
    text = "\n\n".join(p for p in paragraphs if p.strip())
    if not text.strip():
        raise IngestError(str(path), "the .docx holds no text; check that it is the right file")
    return RawDocument(path=path, pages=(text,))


def _encrypted(path: Path) -> IngestError:
    return IngestError(
        str(path),
        "encrypted PDF; remove the password (e.g. qpdf --decrypt in.pdf out.pdf) and add it again",
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
