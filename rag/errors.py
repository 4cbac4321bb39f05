"""Domain errors: each one carries the fix, and the CLI/UI turn them into one clean line."""


class YuanwenError(Exception):
    """An error a user can act on. ``hint`` says what to do next."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class IndexMismatchError(YuanwenError):
    """The index was built with another embedder or dimension."""


class CorruptIndexError(YuanwenError):
    """The index on disk is missing parts or unreadable."""


class DocumentError(YuanwenError):
    """A document cannot be read (bad encoding, binary, unsupported type)."""


class ModelError(YuanwenError):
    """A model cannot be found or loaded."""
