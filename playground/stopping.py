"""Stop strings matched as text across token boundaries, and a per-request cancel criterion.

``StopMatcher`` is fed decoded text pieces as they arrive and returns only the text that is safe to
show: text after a stop string is never emitted, and a tail that could still become a stop string
is held back until the next piece resolves it (or ``flush()`` releases it at the end).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import torch
from transformers import StoppingCriteria


class StopMatcher:
    """Incremental stop-string matcher for one stream.

    Attributes:
        stop_strings: the strings that end the output (deduplicated, empty ones dropped).
        stopped: True once a stop string has been seen; later pieces return "".
        matched: the stop string that matched, or None.
    """

    def __init__(self, stop_strings: Iterable[str] = ()):
        self.stop_strings: tuple[str, ...] = tuple(dict.fromkeys(s for s in stop_strings if s))
        self.stopped = False
        self.matched: str | None = None
        self._pending = ""
        self._max_hold = max((len(s) - 1 for s in self.stop_strings), default=0)
        self._prefixes = frozenset(s[:k] for s in self.stop_strings for k in range(1, len(s)))

    @property
    def pending(self) -> str:
        """The text held back because it may be the start of a stop string."""
        return self._pending

    def feed(self, piece: str) -> str:
        """Add a piece of decoded text.

        Args:
            piece: newly decoded text (any length, may be empty).

        Returns:
            The text that can be emitted now: everything before a stop string, minus a held-back
            tail that is a prefix of some stop string.
        """
        if self.stopped or not piece:
            return ""
        if not self.stop_strings:
            return piece
        buf = self._pending + piece
        cut = self._earliest_match(buf)
        if cut is not None:
            self._pending = ""
            return buf[:cut]
        hold = self._held_tail(buf)
        self._pending = buf[len(buf) - hold:] if hold else ""
        return buf[: len(buf) - hold]

    def flush(self) -> str:
        """Release the held-back tail at the end of the stream (nothing after a stop)."""
        out, self._pending = ("" if self.stopped else self._pending), ""
        return out

    def _earliest_match(self, buf: str) -> int | None:
        """Index of the earliest stop string in buf (setting stopped/matched), else None."""
        best: tuple[int, str] | None = None
        for s in self.stop_strings:
            i = buf.find(s)
            if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(s) > len(best[1]))):
                best = (i, s)
        if best is None:
            return None
        self.stopped, self.matched = True, best[1]
        return best[0]

    def _held_tail(self, buf: str) -> int:
        """Length of the longest tail of buf that is a proper prefix of a stop string."""
        prefixes = self._prefixes
        for k in range(min(self._max_hold, len(buf)), 0, -1):
            if buf[-k:] in prefixes:
                return k
        return 0


class CancelCriteria(StoppingCriteria):
    """A transformers StoppingCriteria that ends generate() as soon as any of its events is set.

    Pass the request's cancel flag (and, optionally, an internal 'done' flag such as a matched
    stop string); generate() checks it after every token, so cancellation takes one decode step.
    """

    def __init__(self, *events: threading.Event):
        if not events:
            raise ValueError("CancelCriteria needs at least one threading.Event")
        self.events = events
        self._answers: dict[tuple[int, str, bool], torch.Tensor] = {}  # reused: generate() never writes to them

    @property
    def is_set(self) -> bool:
        """True when any event is set."""
        return any(e.is_set() for e in self.events)

    def __call__(self, input_ids: torch.LongTensor, scores=None, **kwargs) -> torch.BoolTensor:
        key = (input_ids.shape[0], str(input_ids.device), self.is_set)
        answer = self._answers.get(key)
        if answer is None:
            answer = self._answers[key] = torch.full((key[0],), key[2], dtype=torch.bool, device=input_ids.device)
        return answer
