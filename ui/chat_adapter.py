"""Turn engine GenerationEvents into per-column chat views (no gradio import: tested without a browser).

One ``ColumnView`` per column accumulates the events of the running turn; ``chat_messages`` renders a
column's committed turns plus the running one as Chatbot messages (the Memphis-CoT rationale becomes a
collapsible "thought" block above the answer); ``frames`` merges the columns' events into throttled
frames, so the page gets at most one update per interval plus every final event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.events import EventKind, GenerationEvent

Splitter = Callable[[str], tuple[str | None, str]]
RATIONALE_TITLE = "Rationale"


@dataclass
class ColumnView:
    """What one column shows for the running turn: text so far, status, metrics, error."""

    column: int
    model_id: str
    text: str = ""
    status: str | None = None
    progress: float | None = None
    error: str | None = None
    stop_reason: str | None = None
    prompt_tokens: int = 0
    generated_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    elapsed_s: float = 0.0
    rationale: str | None = None
    answer: str | None = None
    done: bool = False
    notice: str | None = None  # e.g. "dropped the 2 oldest turns to fit the context"
    seed: int | None = None  # the sampling seed this column ran with

    def apply(self, event: GenerationEvent) -> None:
        """Fold one event of this column into the view."""
        if event.kind == EventKind.STATUS:
            self.status, self.progress = event.status, event.progress
            return
        self.text = event.text
        self.prompt_tokens = event.prompt_tokens or self.prompt_tokens
        self.generated_tokens = event.generated_tokens
        self.ttft_s, self.tokens_per_s, self.elapsed_s = event.ttft_s, event.tokens_per_s, event.elapsed_s
        if event.kind == EventKind.TOKEN:
            self.status, self.progress = None, None
        if event.final:
            self.done = True
            self.status, self.progress = None, None
            self.stop_reason = str(event.stop_reason) if event.stop_reason else None
            self.error = event.error
            self.rationale, self.answer = event.rationale, event.answer

    def fail(self, message: str) -> None:
        """Mark the column failed before or outside the engine (a typed error caught by the adapter)."""
        self.error, self.stop_reason, self.done = message, "error", True
        self.status = self.progress = None

    def metrics_line(self) -> str:
        """One plain-text line: status while loading, then TTFT, tokens/s, tokens and the stop reason."""
        if self.error:
            return f"error — {self.error}"
        parts: list[str] = []
        if self.status and not self.done:
            pct = f" {self.progress:.0%}" if self.progress is not None else ""
            parts.append(f"⏳ {self.status}{pct}")
        if self.ttft_s is not None:
            parts.append(f"TTFT {self.ttft_s:.2f} s")
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:.1f} tok/s")
        if self.generated_tokens or self.done:
            parts.append(f"{self.generated_tokens} tokens")
        if self.prompt_tokens:
            parts.append(f"prompt {self.prompt_tokens}")
        if self.stop_reason:
            parts.append(f"stop: {self.stop_reason}")
        elif not self.done and not self.status:
            parts.append("generating…")
        if self.notice:
            parts.append(f"ℹ️ {self.notice}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The API view of this column (text, metrics, stop reason, error)."""
        return {
            "column": self.column,
            "model_id": self.model_id,
            "text": self.text,
            "rationale": self.rationale,
            "answer": self.answer,
            "stop_reason": self.stop_reason,
            "error": self.error,
            "notice": self.notice,
            "seed": self.seed,
            "metrics": {
                "ttft_s": self.ttft_s,
                "tokens_per_s": self.tokens_per_s,
                "generated_tokens": self.generated_tokens,
                "prompt_tokens": self.prompt_tokens,
                "elapsed_s": self.elapsed_s,
            },
        }


def assistant_messages(text: str, split: Splitter | None, streaming: bool) -> list[dict[str, Any]]:
    """Chatbot messages for one assistant reply: an optional rationale thought block, then the answer.

    Args:
        text: the reply as generated (for Memphis-CoT: rationale, the answer marker, the answer).
        split: the format's split_answer when it has an answer marker, else None.
        streaming: True while the reply is still arriving (the rationale block shows a spinner).

    Returns:
        A list of {"role": "assistant", ...} dicts.
    """
    if split is None:
        return [{"role": "assistant", "content": text}]
    rationale, answer = split(text)
    out: list[dict[str, Any]] = []
    if rationale:
        status = "pending" if streaming and not answer else "done"
        out.append({"role": "assistant", "content": rationale, "metadata": {"title": RATIONALE_TITLE, "status": status}})
    if answer or not rationale:
        out.append({"role": "assistant", "content": answer})
    return out


def chat_messages(
    turns: Iterable[Mapping[str, str]],
    split: Splitter | None = None,
    pending_user: str | None = None,
    view: ColumnView | None = None,
) -> list[dict[str, Any]]:
    """All Chatbot messages for one column.

    Args:
        turns: the committed conversation (user/assistant dicts; the system prompt is not shown).
        split: the format's split_answer for formats with an answer marker.
        pending_user: the user message of the running turn, if any.
        view: the running turn's view (its text, or its error).

    Returns:
        Messages in the Chatbot's {"role", "content"[, "metadata"]} shape.
    """
    out: list[dict[str, Any]] = []
    for turn in turns:
        if turn["role"] == "user":
            out.append({"role": "user", "content": turn["content"]})
        elif turn["role"] == "assistant":
            out.extend(assistant_messages(turn["content"], split, streaming=False))
    if pending_user is not None:
        out.append({"role": "user", "content": pending_user})
    if view is not None:
        if view.text:
            out.extend(assistant_messages(view.text, split, streaming=not view.done))
        if view.error:
            out.append({"role": "assistant", "content": f"⚠️ {view.error}"})
    return out


@dataclass
class Throttle:
    """Decides when a frame is worth sending: at most one per interval, but every final event at once."""

    interval_s: float = 0.08
    clock: Callable[[], float] = time.monotonic
    _last: float = field(default=float("-inf"), init=False)

    def due(self, final: bool = False) -> bool:
        """True when a frame should go out now (and records that it did)."""
        now = self.clock()
        if final or now - self._last >= self.interval_s:
            self._last = now
            return True
        return False


@dataclass(frozen=True)
class Frame:
    """One update for the page: the columns that changed since the previous frame."""

    changed: frozenset[int]
    final: bool = False  # True for the last frame of the run


def frames(
    events: Iterable[GenerationEvent | None],
    views: Mapping[int, ColumnView],
    throttle: Throttle | None = None,
) -> Iterator[Frame]:
    """Fold merged events into the views and yield throttled frames.

    Args:
        events: the merged stream of every column (``None`` items are idle ticks: they only let a
            held-back change go out once the interval has passed).
        views: the views to update, by column.
        throttle: the update policy (default: at most one frame per 80 ms, plus each final event).

    Returns:
        An iterator of Frames; the last one has ``final=True`` and lists every column that changed
        since the frame before it.
    """
    throttle = throttle or Throttle()
    dirty: set[int] = set()
    for event in events:
        if event is not None:
            view = views.get(event.column)
            if view is None:
                continue
            view.apply(event)
            dirty.add(event.column)
        if dirty and throttle.due(final=event is not None and (event.final or event.kind == EventKind.STATUS)):
            yield Frame(frozenset(dirty))
            dirty = set()
    yield Frame(frozenset(dirty), final=True)
