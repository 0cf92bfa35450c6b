"""The report catalog: what is known of every report, whether or not its file is present."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import IngestError, yaml_problem

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,80}$")


class ReportEntry(BaseModel):
    """One report. ``file`` is a file name inside the catalog's folder, or None when missing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Stable report id, lower case with hyphens, e.g. regioplan-2020")
    authors: list[str] = Field(default_factory=list, description="Authors or organisation")
    year: int | None = Field(default=None, ge=1900, le=2100, description="Year of publication")
    title: str = Field(description="Title as published; 'unknown' parts in brackets")
    alliances: list[str] = Field(default_factory=list, description="Alliances the report covers")
    file: str | None = Field(default=None, description="PDF/txt/docx file name, or null: missing")
    publisher: str | None = Field(default=None, description="Publisher, e.g. Regioplan")
    note: str | None = Field(default=None, description="What is known and what is not")
    attribution: str | None = Field(default=None, description="Copyright and source of the file")

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ID_RE.match(value):
            raise ValueError(
                "use lower-case letters, digits and hyphens (e.g. buers-witvliet-2019)"
            )
        return value

    @property
    def citation(self) -> str:
        """Authors (year). Title. Publisher."""
        authors = ", ".join(self.authors) if self.authors else "Onbekende auteur"
        year = self.year if self.year is not None else "z.j."
        tail = f" {self.publisher}." if self.publisher else ""
        return f"{authors} ({year}). {self.title}.{tail}"


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reports: list[ReportEntry]

    @field_validator("reports")
    @classmethod
    def _unique(cls, reports: list[ReportEntry]) -> list[ReportEntry]:
        seen: set[str] = set()
        for r in reports:
            if r.id in seen:
                raise ValueError(f"report id {r.id!r} occurs twice")
            seen.add(r.id)
        return reports

    def get(self, report_id: str) -> ReportEntry | None:
        return next((r for r in self.reports if r.id == report_id), None)

    def by_file(self, name: str) -> ReportEntry | None:
        return next((r for r in self.reports if r.file and r.file == name), None)


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise IngestError(str(path), f"catalog cannot be read ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise IngestError(
            str(path), f"catalog is not valid YAML ({yaml_problem(exc)}); fix the file"
        ) from exc
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise IngestError(
            str(path), f"catalog entry {where}: {first['msg']}; fix the file"
        ) from exc


def save_catalog(catalog: Catalog, path: Path) -> None:
    data = {"reports": [r.model_dump(exclude_none=True) for r in catalog.reports]}
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(
        "# watwerkt report catalog: one entry per report; file: null when the PDF is missing.\n"
        + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100),
        encoding="utf-8",
    )
    tmp.replace(path)
