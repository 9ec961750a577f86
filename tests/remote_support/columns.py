"""Build remote ModelSpecs and ColumnRequests, and run a backend stream to the end, for tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from playground.backends.base import ColumnRequest, make_request
from playground.catalog import ModelSpec
from playground.events import EventKind, GenerationEvent
from playground.formats import get_format
from playground.sampling import SamplingOptions

MESSAGES = ({"role": "user", "content": "Tell me a story about the sea."},)


def remote_spec(url: str, protocol: str = "openai", *, context_length: int = 512, format_id: str = "chatml", **endpoint: Any) -> ModelSpec:
    """A catalog entry for an endpoint."""
    return ModelSpec(
        id=f"remote-{protocol}",
        label=f"Remote ({protocol})",
        endpoint={"url": url, "protocol": protocol, **endpoint},
        architecture="llama",
        context_length=context_length,
        format=format_id,
    )


def request(spec: ModelSpec, column: int = 0, messages=MESSAGES, **options: Any) -> ColumnRequest:
    """A ColumnRequest with the spec's format and the given option values (seed defaults to 1)."""
    options.setdefault("seed", 1)
    return make_request(column, spec, list(messages), SamplingOptions.parse(options), get_format(spec.format or "chatml"))


def run(backend, req: ColumnRequest, cancel: threading.Event | None = None, on_event: Callable[[GenerationEvent], None] | None = None) -> list[GenerationEvent]:
    """All events of one stream (on_event sees each as it arrives)."""
    cancel = cancel or threading.Event()
    out = []
    for ev in backend.stream(req, cancel):
        out.append(ev)
        if on_event:
            on_event(ev)
    return out


def final(events: list[GenerationEvent]) -> GenerationEvent:
    """The last event, checked to be the only final one."""
    assert events, "no events"
    assert [e.final for e in events].count(True) == 1 and events[-1].final, [e.kind for e in events]
    return events[-1]


def tokens_text(events: list[GenerationEvent]) -> str:
    """The concatenated deltas of the TOKEN events."""
    return "".join(e.delta for e in events if e.kind == EventKind.TOKEN)


def statuses(events: list[GenerationEvent]) -> list[str]:
    """The STATUS messages."""
    return [e.status or "" for e in events if e.kind == EventKind.STATUS]
