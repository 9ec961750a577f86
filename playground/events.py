"""Events a generation stream yields: the one vocabulary shared by engine, backends and UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum


class StopReason(StrEnum):
    """Why a generation ended."""

    EOS = "eos"
    STOP_STRING = "stop_string"
    MAX_TOKENS = "max_tokens"
    CANCELLED = "cancelled"
    ERROR = "error"


class EventKind(StrEnum):
    """What an event reports."""

    STATUS = "status"  # loading/progress messages before any token
    TOKEN = "token"  # new text
    DONE = "done"  # the final event of a successful or cancelled stream
    ERROR = "error"  # the final event of a failed stream


@dataclass(frozen=True)
class GenerationEvent:
    """One update from one column's stream.

    ``text`` is always the full (stop-trimmed) output so far; ``delta`` the part new in this event.
    """

    kind: EventKind
    column: int = 0
    model_id: str = ""
    delta: str = ""
    text: str = ""
    prompt_tokens: int = 0
    generated_tokens: int = 0
    ttft_s: float | None = None  # time to first token, seconds
    tokens_per_s: float | None = None  # decode rate after the first token
    elapsed_s: float = 0.0
    stop_reason: StopReason | None = None
    error: str | None = None
    status: str | None = None
    progress: float | None = None  # 0..1 for STATUS events that track loading
    rationale: str | None = None  # Memphis-CoT: filled in the final event
    answer: str | None = None

    @property
    def final(self) -> bool:
        """True for the last event of a stream."""
        return self.kind in (EventKind.DONE, EventKind.ERROR)

    def to_dict(self) -> dict:
        """A JSON-ready dict (enums as strings)."""
        d = asdict(self)
        d["kind"] = str(self.kind)
        d["stop_reason"] = str(self.stop_reason) if self.stop_reason else None
        return d
