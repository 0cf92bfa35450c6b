"""The one error type of the rag package."""


class RagError(Exception):
    """The index or retrieval failed. The message says what and what to do."""
