"""The Dutch reader: a cross-encoder on multilingual-e5-small, trained here (issue 9)."""

from __future__ import annotations


def reader_problem(spec: str) -> str | None:
    """Why ``spec`` names no reader of `ask` (one line), or None: ``trained`` (the shipped
    rag.answer_model), ``cross-encoder`` (rag.reader.reader) or ``st:PATH`` (rag.reader.st)."""
    if spec in ("trained", "cross-encoder") or (spec.startswith("st:") and spec[3:].strip()):
        return None
    return (
        f"unknown reader {spec!r}: use trained (default), cross-encoder, or st:PATH "
        "(a local sentence-transformers cross-encoder folder)"
    )
