"""Small real PDFs and broken files for tests, built at test time (no binaries in the repo)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pypdf


def _pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF file from numbered object bodies (1 = catalog), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def image_only_pdf(path: Path) -> Path:
    """One page that shows a grey image and holds no text (like a scan without OCR)."""
    pixels = bytes((x * 16 + y) % 256 for y in range(16) for x in range(16))
    content = b"q 400 0 0 400 100 200 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 16 /Height 16 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream",
    ]
    path.write_bytes(_pdf_bytes(objects))
    return path


def text_pdf(path: Path, lines: list[str]) -> Path:
    """One page with the given lines as real text (Helvetica, WinAnsi)."""
    ops = ["BT /F1 11 Tf 72 770 Td 14 TL"]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({safe}) Tj T*")
    ops.append("ET")
    content = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    path.write_bytes(_pdf_bytes(objects))
    return path


def pages_of(source: Path, path: Path, pages: range) -> Path:
    """A real PDF made of some pages of another."""
    reader = pypdf.PdfReader(str(source))
    writer = pypdf.PdfWriter()
    for i in pages:
        writer.add_page(reader.pages[i])
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def encrypted_pdf(source: Path, path: Path, password: str = "geheim") -> Path:
    reader = pypdf.PdfReader(str(source))
    writer = pypdf.PdfWriter()
    writer.add_page(reader.pages[0])
    writer.encrypt(user_password=password, owner_password=password + "!")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def zip_bomb_docx(path: Path, megabytes: int = 64) -> Path:
    """A .docx-named zip whose document.xml expands to ``megabytes`` of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as fh:
            block = b"0" * (1024 * 1024)
            for _ in range(megabytes):
                fh.write(block)
    return path
