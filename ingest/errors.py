"""The one error type of the ingest package."""


class IngestError(Exception):
    """A file could not be read or cleaned. The message says what and what to do."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
