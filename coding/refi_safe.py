"""Reading REFI-QDA files that someone else made, without trusting them.

A ``.qdpx`` comes from another tool, a colleague or a download. Before anything is parsed:

* every zip member must lie inside the archive (no absolute paths, drive letters or ``..``);
* no member may be larger than ``MAX_MEMBER_BYTES`` once unpacked, nor the archive hold more than
  ``MAX_MEMBERS`` members (a zip bomb is refused before it is inflated);
* XML is parsed with ``defusedxml``: a DTD, entity declarations (billion laughs) and external
  entities are refused. REFI-QDA files never need them.

Each refusal is a ``CodingError`` with one line saying why.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from .errors import CodingError

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 100_000
_DRIVE = re.compile(r"^[A-Za-z]:")


def parse_xml(data: bytes, label: str) -> Element:
    """The root element of ``data``; DTDs and entities are refused."""
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CodingError(
            f"{label}: refused, the XML declares a DTD or entities ({type(exc).__name__}), "
            "which REFI-QDA files never need"
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else "?"
        raise CodingError(f"{label} is not a REFI-QDA file (not XML: line {line})") from exc


def _inside(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name) or "\x00" in name:
        return False
    return ".." not in PurePosixPath(name.replace("\\", "/")).parts


class Archive:
    """The members of a checked ``.qdpx``; ``read`` returns one member's bytes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        label = self.path.name
        try:
            self._zip = zipfile.ZipFile(self.path)
        except OSError as exc:
            raise CodingError(f"cannot read {path} ({exc.strerror}); check the path") from exc
        except zipfile.BadZipFile as exc:
            raise CodingError(f"{label} is not a REFI-QDA file (broken zip: {exc})") from exc
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise CodingError(f"{label}: refused, the archive holds {len(infos)} members")
        for info in infos:
            if not _inside(info.filename):
                raise CodingError(
                    f"{label}: refused, member {info.filename!r} lies outside the archive"
                )
            if info.file_size > MAX_MEMBER_BYTES:
                raise CodingError(
                    f"{label}: refused, member {info.filename!r} unpacks to {info.file_size} "
                    f"bytes (at most {MAX_MEMBER_BYTES})"
                )
        self._by_lower = {i.filename.lower(): i for i in infos if not i.is_dir()}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def has(self, name: str) -> bool:
        return name.lower() in self._by_lower

    def read(self, name: str) -> bytes:
        """A member by name (case-insensitive: NVivo writes Sources/, MAXQDA sources/)."""
        info = self._by_lower.get(name.lower())
        if info is None:
            raise CodingError(f"{self.path.name}: the archive has no {name}")
        with self._zip.open(info) as fh:
            data = fh.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:  # the header lied about the size
            raise CodingError(f"{self.path.name}: refused, member {name!r} is too large")
        return data

    def project(self) -> Element:
        """The parsed ``project.qde`` (another ``.qde`` at the root if that is all there is)."""
        names = [n for n in self._by_lower if "/" not in n and n.endswith(".qde")]
        name = "project.qde" if "project.qde" in names else (names[0] if names else None)
        if name is None:
            raise CodingError(
                f"{self.path.name} is not a REFI-QDA file (the zip has no project.qde)"
            )
        return parse_xml(self.read(name), self.path.name)

    def internal(self, url: str) -> bytes:
        """The member an ``internal://<file>`` URL names, under sources/ (any case)."""
        rest = url.split("internal://", 1)[1] if url.startswith("internal://") else url
        rest = rest.lstrip("/")
        for candidate in (f"sources/{rest}", rest):
            if self.has(candidate):
                return self.read(candidate)
        raise CodingError(f"{self.path.name}: the archive lacks {url}; export it again")


def local(tag: str) -> str:
    """The local name of a ``{namespace}tag``."""
    return tag.rsplit("}", 1)[-1]


def namespace(el: Any) -> str:
    tag = el.tag
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
