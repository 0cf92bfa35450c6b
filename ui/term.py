"""Text from documents and transcripts, made safe to print on a terminal or in JSON.

A report or a transcript can hold escape sequences (``ESC[2J`` clears the screen, ``ESC]52``
writes the clipboard), carriage returns that overprint a line, and bidi overrides (U+202E)
that make a terminal show text in another order than it is. :func:`for_terminal` is the one
function every human-readable render path goes through; :func:`for_json` keeps JSON's values
unchanged and writes those characters as ``\\uXXXX`` escapes, so that a ``cat`` of the JSON
does not act on them either.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any, TextIO

# C0 controls but tab and line feed, DEL, C1 controls, bidi embeddings/overrides/isolates and
# marks, and the Unicode line and paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: object) -> str:
    """``text`` with control characters, ESC sequences and bidi controls shown as escapes
    (``\\x1b``, ``\\u202e``); tab and line feed stay."""
    return _UNSAFE.sub(_escape, str(text))


def for_json(json_text: str) -> str:
    """A JSON document with the same values, the characters above written as ``\\uXXXX``.

    ``json.dumps`` already escapes C0 controls; outside strings JSON is ASCII, so this only
    touches string contents.
    """
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", json_text)


class TerminalWriter(io.TextIOBase):
    """A stdout stand-in that passes everything written through :func:`for_terminal`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(for_terminal(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class TerminalFormatter(logging.Formatter):
    """Log lines through :func:`for_terminal`: a file name or a library message can hold them."""

    def format(self, record: logging.LogRecord) -> str:
        return for_terminal(super().format(record))
