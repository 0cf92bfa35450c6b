"""The one error type of the ingest package."""


class IngestError(Exception):
    """A file could not be read or cleaned. The message says what and what to do."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def yaml_problem(exc: Exception) -> str:
    """A YAML parse error as "line N, column M: problem", without the lines it quotes."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"
