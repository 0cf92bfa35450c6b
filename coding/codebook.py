"""The codebook: CIMO dimension and thematic codes, from YAML or a REFI-QDA ``.qdc``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from ingest.errors import yaml_problem

from .errors import CodingError

DEFAULT_CODEBOOK = Path(__file__).resolve().parent / "data" / "codebook.yaml"
CIMO = ("C", "I", "M", "O")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Code(BaseModel):
    """One code. CIMO codes have ids C, I, M, O (sub-codes may hang under M); themes T-..."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable id: C, I, M, O, M-resource, T-nazorg, ...")
    name: str = Field(description="Name shown to coders")
    dimension: str = Field(description="cimo or theme")
    parent: str | None = Field(default=None, description="Id of the parent code")
    definition: str = Field(default="", description="Dutch definition")
    include: list[str] = Field(default_factory=list, description="When to use it")
    exclude: list[str] = Field(default_factory=list, description="When not to use it")
    cues: list[str] = Field(default_factory=list, description="Cue expressions (lemmas)")
    examples: list[str] = Field(default_factory=list, description="Typical segments")
    color: str | None = Field(default=None, description="#RRGGBB for QDA tools")
    codable: bool = Field(default=True, description="False for a category (REFI isCodable)")
    guid: str | None = Field(default=None, description="The GUID another QDA tool gave it")

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, object]:
        # codable and guid only when they say something: a codebook without them dumps as it
        # did before they existed, so the suggester's model fingerprints stay the same
        data: dict[str, object] = handler(self)
        if data.get("codable") is True:
            data.pop("codable")
        if data.get("guid") is None:
            data.pop("guid", None)
        return data

    @field_validator("dimension")
    @classmethod
    def _dimension(cls, value: str) -> str:
        if value not in ("cimo", "theme"):
            raise ValueError("dimension is 'cimo' or 'theme'")
        return value

    @field_validator("color")
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        if value is not None and not _COLOR.match(value):
            raise ValueError("color is #RRGGBB")
        return value


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    version: str = "1"
    description: str = ""
    codes: list[Code]

    @model_validator(mode="after")
    def _check(self) -> Codebook:
        ids = [c.id for c in self.codes]
        if len(set(ids)) != len(ids):
            raise ValueError("code ids must be unique")
        known = set(ids)
        for c in self.codes:
            if c.parent is not None and c.parent not in known:
                raise ValueError(f"code {c.id}: parent {c.parent} does not exist")
        return self

    def get(self, code_id: str) -> Code | None:
        return next((c for c in self.codes if c.id == code_id), None)

    @property
    def cimo(self) -> list[Code]:
        return [c for c in self.codes if c.dimension == "cimo" and c.parent is None]

    @property
    def themes(self) -> list[Code]:
        return [c for c in self.codes if c.dimension == "theme"]

    def theme_by_name(self, name: str) -> Code | None:
        low = name.strip().lower()
        return next((c for c in self.themes if c.name.lower() == low or c.id == name), None)


def load_codebook(path: Path | None = None) -> Codebook:
    """A codebook from YAML, or from a REFI-QDA .qdc/.qdpx (codes as themes)."""
    path = Path(path) if path else DEFAULT_CODEBOOK
    if path.suffix.lower() in (".qdc", ".qdpx"):
        from .refi import read_codebook

        return read_codebook(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodingError(
            f"codebook {path} cannot be read ({exc.strerror}); check the path"
        ) from exc
    except yaml.YAMLError as exc:
        raise CodingError(
            f"codebook {path} is not valid YAML ({yaml_problem(exc)}); fix the file"
        ) from exc
    try:
        return Codebook.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CodingError(f"codebook {path}: {where}: {first['msg']}; fix the file") from exc


def resolve_cimo_map(codebook: Codebook, spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """``C=Context,I=Aanpak`` (or a mapping) as CIMO letter -> code id of ``codebook``.

    The right-hand side is a code's id or name (case-insensitive). Letters the codebook has as
    codes of its own map to themselves unless the coder says otherwise."""
    pairs: dict[str, str] = {}
    if isinstance(spec, str):
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            letter, sep, target = part.partition("=")
            if not sep:
                raise CodingError(f"--cimo-map: {part!r} is not LETTER=CODE (e.g. I=Aanpak)")
            pairs[letter.strip().upper()] = target.strip()
    elif spec:
        pairs = {k.upper(): v for k, v in spec.items()}
    out = {c.id: c.id for c in codebook.cimo}
    for letter, target in pairs.items():
        if letter not in CIMO:
            raise CodingError(f"--cimo-map: {letter} is not one of C, I, M, O")
        low = target.lower()
        code = codebook.get(target) or next(
            (c for c in codebook.codes if c.name.strip().lower() == low), None
        )
        if code is None:
            raise CodingError(f"--cimo-map: the codebook has no code {target!r} for {letter}")
        out[letter] = code.id
    return out
