"""Opening Chroma (embedded under WATWERKT_HOME, or a shared server) and talking to it safely.

A server that stops answering halfway through a command is a one-line :class:`RagError`
("start the server again"), not a traceback from the HTTP library.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .embed import Embedder
from .errors import RagError


class WatwerktEmbeddingFunction:
    """Our embedder in Chroma's EmbeddingFunction shape (passages; queries via embed_query)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[Any]:
        return list(self._embedder.embed_passages(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[Any]:
        return list(self._embedder.embed_query(list(input)))

    @staticmethod
    def name() -> str:
        return "watwerkt"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self._embedder.name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> WatwerktEmbeddingFunction:
        from .embed import make_embedder

        return WatwerktEmbeddingFunction(make_embedder(config["embedder"]))

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        return None


def _unreachable(exc: BaseException) -> bool:
    """A transport failure (refused, reset, timed out), as opposed to a bad request."""
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover - chromadb depends on httpx
        pass
    return isinstance(exc, ConnectionError | TimeoutError)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


class GuardedCollection:
    """A Chroma collection whose calls turn a lost server into one clear RagError."""

    def __init__(self, inner: Any, where: str) -> None:
        self._inner = inner
        self._where = where

    @property
    def name(self) -> str:
        return str(self._inner.name)

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._inner, attr)
        if not callable(value):
            return value
        return self._guard(value)

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                if _unreachable(exc):
                    raise RagError(
                        f"Chroma at {self._where} stopped answering ({_one_line(exc)}); start "
                        "the server again (chroma run --path DIR --host HOST --port N) or unset "
                        "WATWERKT_CHROMA_URL"
                    ) from exc
                raise

        return call


def open_client(chroma_url: str | None, path: Path) -> Any:
    """A Chroma client: HTTP for ``chroma_url``, else a persistent store at ``path``."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    where = chroma_url or str(path)
    try:
        if chroma_url:
            url = urlparse(chroma_url)
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=settings,
            )
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # chromadb raises many kinds for a bad path or server
        raise RagError(
            f"Chroma at {where} could not be opened ({_one_line(exc)}); check the path or "
            "start the server (chroma run --path DIR --host HOST --port N)"
        ) from exc


def open_collection(
    client: Any, name: str, embedder: Embedder, where: str, **metadata: str
) -> GuardedCollection:
    try:
        inner = client.get_or_create_collection(
            name=name,
            embedding_function=WatwerktEmbeddingFunction(embedder),
            metadata={"hnsw:space": "cosine", "embedder": embedder.name, **metadata},
        )
    except Exception as exc:
        raise RagError(
            f"Chroma at {where} could not be opened ({_one_line(exc)}); check the path or "
            "start the server (chroma run --path DIR --host HOST --port N)"
        ) from exc
    return GuardedCollection(inner, where)


GET_PAGE = 5000


def read_all(
    collection: GuardedCollection, include: list[str], where: dict[str, Any] | None = None
) -> dict[str, list[Any]]:
    """Every record of ``collection`` (that matches ``where``), read ``GET_PAGE`` at a time:
    one ``get`` of more than ~32,000 records fails in Chroma's SQLite ("too many SQL
    variables"), which broke every search of an index of 100,000 passages."""
    out: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
    while True:
        got = collection.get(where=where, include=include, limit=GET_PAGE, offset=len(out["ids"]))
        for key, values in out.items():
            values.extend(got[key] if got[key] is not None else [])
        if len(got["ids"]) < GET_PAGE:
            return out
