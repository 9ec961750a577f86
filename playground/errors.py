"""Typed errors raised by the playground package; the UI and CLIs turn them into messages."""

from __future__ import annotations


class LineupError(Exception):
    """Base class for every error the playground raises on purpose."""


class UnknownIdError(LineupError, KeyError):
    """An id that is not in a registry; the message lists the valid ids."""

    def __init__(self, kind: str, given: str, valid: list[str] | tuple[str, ...]):
        self.kind, self.given, self.valid = kind, given, tuple(valid)
        super().__init__(f"unknown {kind} {given!r}; valid {kind} ids: {', '.join(self.valid)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class UnknownFormatError(UnknownIdError):
    """A prompt-format id that is not registered."""

    def __init__(self, given: str, valid: list[str] | tuple[str, ...]):
        super().__init__("format", given, valid)


class UnknownModelError(UnknownIdError):
    """A model id that is not in the catalog."""

    def __init__(self, given: str, valid: list[str] | tuple[str, ...]):
        super().__init__("model", given, valid)


class MessageError(LineupError, ValueError):
    """A conversation that cannot be rendered (bad role, missing content, wrong order)."""


class CatalogError(LineupError, ValueError):
    """A catalog file or entry that does not validate."""


class OptionsError(LineupError, ValueError):
    """A sampling option out of range or of the wrong type; names the field and the range."""

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


class ModelLoadError(LineupError, RuntimeError):
    """A model that could not be loaded; the message says what to do."""


class GenerationError(LineupError, RuntimeError):
    """A generation that failed after the model was loaded."""


class PathNotAllowedError(LineupError, PermissionError):
    """A local model path outside the configured model directories."""


class CancelledError(LineupError):
    """A request that was cancelled while it waited (for memory, a model, or its turn)."""
