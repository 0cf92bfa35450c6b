"""Read report files into raw page texts: PDF (pypdf), .txt/.md, .docx.

Every failure is an :class:`IngestError` whose reason says what is wrong and what to do. Reasons
never quote the file's content (a name in a transcript, an escape sequence): they describe it.
Sizes are bounded before anything is read in full, so a hostile file cannot take the machine.
"""

from __future__ import annotations

import logging
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .errors import IngestError
from .pdf_columns import page_text

SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".docx")
# Caption files are transcripts by definition: refused with a pointer to `watwerkt code`.
TRANSCRIPT_SUFFIXES = (".vtt", ".srt")

MB = 1024 * 1024
MAX_PDF_BYTES = 100 * MB
MAX_PDF_PAGES = 2000
MAX_TEXT_BYTES = 2 * MB  # a .txt/.md report (about 300,000 words, 800 pages)
MAX_REPORT_CHARS = 2_000_000  # the text read from any report, whatever its format
# A .docx is a zip; refuse archives that would expand beyond these bounds (zip bombs). The XML
# parts are what python-docx parses into memory, so they get their own, tighter bound.
MAX_DOCX_BYTES = 100 * MB
MAX_DOCX_XML = 25 * MB
MAX_DOCX_UNCOMPRESSED = 200 * MB
MAX_DOCX_RATIO = 200
# Share of control characters (other than tab, line and page breaks) above which a "text" file
# is binary data under a text name.
MAX_CONTROL_SHARE = 0.05

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawDocument:
    """Text as it comes out of a file, one string per page, before clean-up."""

    path: Path
    pages: tuple[str, ...]
    empty_pages: tuple[int, ...] = ()


def read_file(path: Path) -> RawDocument:
    """Read one report file, choosing the reader by suffix; any failure is an IngestError."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TRANSCRIPT_SUFFIXES:
        raise IngestError(
            str(path),
            f"a {suffix} caption file is an interview transcript, not a report; "
            f"code it with `watwerkt code {path.name}` (names are pseudonymised first)",
        )
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
    limit = {".pdf": MAX_PDF_BYTES, ".docx": MAX_DOCX_BYTES}.get(suffix, MAX_TEXT_BYTES)
    if size > limit:
        raise IngestError(
            str(path),
            f"file is {_mb(size)} (limit {_mb(limit)} for a {suffix} report); "
            "split it into smaller files",
        )
    try:
        if suffix == ".pdf":
            raw = read_pdf(path)
        elif suffix == ".docx":
            raw = read_docx(path)
        else:
            raw = read_text(path)
    except IngestError:
        raise
    except MemoryError as exc:
        raise IngestError(str(path), "ran out of memory reading it; split the file") from exc
    except Exception as exc:  # a reader library failing in a way we did not foresee
        raise IngestError(
            str(path), f"could not be read ({type(exc).__name__}); export or save it again"
        ) from exc
    chars = sum(len(p) for p in raw.pages)
    if chars > MAX_REPORT_CHARS:
        raise _too_long(path, f"{chars:,} characters")
    return raw


def _too_long(path: Path, how_many: str) -> IngestError:
    return IngestError(
        str(path),
        f"holds {how_many} of text (limit {MAX_REPORT_CHARS:,}, about 800 pages); "
        "split it into smaller reports",
    )


def decode_text(data: bytes, path: Path | str) -> str:
    """Bytes of a text file as text: UTF-8 (or Windows-1252); binary data is refused."""
    if b"\x00" in data:
        raise IngestError(
            str(path), "binary data in a text file (NUL bytes); save it as UTF-8 text"
        )
    try:
        text, utf8 = data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        text, utf8 = data.decode("cp1252", errors="replace"), False
    controls = sum(1 for ch in text if _is_binary_char(ch))
    if text and controls / len(text) > MAX_CONTROL_SHARE:
        raise IngestError(
            str(path),
            f"binary data, not text ({controls / len(text):.0%} control characters); "
            "save it as UTF-8 text or give the file its real type",
        )
    if not utf8:
        log.warning("%s: not UTF-8, read as Windows-1252", path)
    return text


def _is_binary_char(ch: str) -> bool:
    if ch in "\t\n\r\f":
        return False
    return ch == "\ufffd" or unicodedata.category(ch) == "Cc"


def read_text(path: Path) -> RawDocument:
    """Read a .txt/.md file; a form feed (\\f) separates pages when present."""
    text = decode_text(path.read_bytes(), path)
    return RawDocument(path=path, pages=tuple(text.split("\f")))


def read_pdf(path: Path) -> RawDocument:
    """Read a PDF page by page with pypdf."""
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        raise IngestError(
            str(path),
            f"not a PDF (no %PDF- header; it looks like {describe_bytes(head)}); "
            "rename it to its real type or export it as PDF",
        )
    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError as exc:
                raise _needs_crypto(path) from exc
            except Exception as exc:  # unsupported crypto or a real password
                raise _encrypted(path) from exc
            if not ok:
                raise _encrypted(path)
        n_pages = len(reader.pages)
    except IngestError:
        raise
    except DependencyError as exc:
        raise _needs_crypto(path) from exc
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
    chars = 0
    for number, page in enumerate(reader.pages, start=1):
        try:
            text = page_text(page)  # two columns drawn row by row are read column by column
        except DependencyError as exc:  # an AES-encrypted PDF without the cryptography package
            raise _needs_crypto(path) from exc
        except Exception as exc:  # pypdf raises many kinds on broken content streams
            log.warning("%s, page %d: text could not be extracted (%s)", path, number, _short(exc))
            text = ""
        if not text.strip():
            empty.append(number)
        pages.append(text)
        chars += len(text)
        if chars > MAX_REPORT_CHARS:  # stop early: the rest of the pages need not be read
            raise _too_long(path, f"{chars:,} characters by page {number}")
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
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(str(path), f"damaged .docx ({_short(exc)}); save it again") from exc
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    xml = sum(i.file_size for i in infos if i.filename.lower().endswith((".xml", ".rels")))
    names = {i.filename for i in infos}
    if xml > MAX_DOCX_XML or total > MAX_DOCX_UNCOMPRESSED or total / packed > MAX_DOCX_RATIO:
        raise IngestError(
            str(path),
            f"refused: expands to {_mb(total)} ({_mb(xml)} of XML; limits {_mb(MAX_DOCX_XML)} "
            f"of XML, {_mb(MAX_DOCX_UNCOMPRESSED)} in all) from {_mb(packed)} (zip bomb?); "
            "open it in Word and save a normal copy",
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


def describe_bytes(head: bytes) -> str:
    """What the first bytes of a file look like, in words (never the bytes themselves)."""
    start = head.lstrip()[:16].lower()
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (a .docx?)"
    if start.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if start.startswith(b"<"):
        return "XML or HTML"
    if start.startswith((b"{", b"[")):
        return "JSON data"
    if b"\x00" in head or any(b < 9 or 13 < b < 32 for b in head[:256]):
        return "binary data"
    return "plain text"


def _mb(n: int) -> str:
    if n < MB:
        return f"{max(1, n // 1024)} kB"
    return f"{n / MB:.1f} MB" if n < 10 * MB else f"{n // MB} MB"


def _needs_crypto(path: Path) -> IngestError:
    return IngestError(
        str(path),
        "AES-encrypted PDF and the cryptography package is missing; "
        "run pip install cryptography, or remove the encryption (qpdf --decrypt in.pdf out.pdf)",
    )


def _encrypted(path: Path) -> IngestError:
    return IngestError(
        str(path),
        "encrypted PDF; remove the password (e.g. qpdf --decrypt in.pdf out.pdf) and add it again",
    )


def _short(exc: BaseException) -> str:
    """The kind of a library error. Its message may quote bytes of the file, so it is left out."""
    return type(exc).__name__
