"""The bundled corpus: the reflection report and the catalog of the platform's four reports."""

from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent
CATALOG_PATH = CORPUS_DIR / "catalog.yaml"
