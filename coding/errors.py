"""The one error type of the coding package."""


class CodingError(Exception):
    """A transcript or codebook could not be processed. The message says what to do."""
