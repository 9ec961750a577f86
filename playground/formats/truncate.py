"""Fit a conversation into a token budget: keep the system prompt, drop the oldest turns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Truncation:
    """The messages that fit, and what was dropped to get there."""

    messages: list[dict[str, str]]
    dropped_turns: int
    tokens: int
    fits: bool

    @property
    def notice(self) -> str | None:
        """A one-line notice for the user, or None when nothing was dropped."""
        if not self.fits:
            return f"the conversation does not fit even after dropping {self.dropped_turns} turn(s): shorten the message"
        if self.dropped_turns:
            return f"dropped the {self.dropped_turns} oldest turn(s) to fit the context; the system prompt is kept"
        return None


def truncate_messages(
    messages: list[dict[str, str]],
    budget: int,
    count_tokens: Callable[[list[dict[str, str]]], int],
) -> Truncation:
    """Drop the oldest user/assistant turns until the conversation fits the budget.

    Args:
        messages: the conversation (an optional system message first).
        budget: the largest allowed prompt length in tokens.
        count_tokens: renders and counts a candidate conversation.

    Returns:
        A Truncation; the system message and the last user message are always kept.
    """
    system = [m for m in messages[:1] if m["role"] == "system"]
    rest = messages[len(system):]
    # A turn starts at each user message; assistant replies stay with the user message before them.
    starts = [i for i, m in enumerate(rest) if m["role"] == "user"] or [0]
    dropped = 0
    for start in [0, *starts[1:]]:
        candidate = system + rest[start:]
        tokens = count_tokens(candidate)
        if tokens <= budget:
            return Truncation(candidate, dropped, tokens, True)
        dropped += 1
    dropped -= 1
    return Truncation(candidate, dropped, tokens, False)
