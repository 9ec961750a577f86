"""The backend interface every column runs through (local transformers or a remote endpoint).

Contract for ``Backend.stream(req, cancel)``:
  * yields zero or more STATUS events, then TOKEN events, then exactly ONE final event
    (DONE with a stop_reason, or ERROR with ``error`` set and stop_reason ERROR);
  * never raises for a failure of its own model: it yields the ERROR event instead;
  * returns promptly (about a second) after ``cancel`` is set, with a DONE event whose
    stop_reason is CANCELLED and the text produced so far;
  * builds its events with ``ColumnEmitter`` so that stop strings, trimming, metrics and the
    Memphis-CoT rationale/answer split are identical across backends.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from playground.catalog import ModelSpec
from playground.errors import LineupError
from playground.events import EventKind, GenerationEvent, StopReason
from playground.formats import PromptFormat, normalize_messages
from playground.sampling import MAX_SEED, SamplingOptions
from playground.stopping import StopMatcher


@dataclass(frozen=True)
class ColumnRequest:
    """Everything one column needs to generate: immutable, safe to hand to another thread.

    ``prompt`` is the exact rendered prompt text; ``options.seed`` is always set.
    """

    column: int
    spec: ModelSpec
    fmt: PromptFormat
    messages: tuple[Mapping[str, str], ...]
    prompt: str
    options: SamplingOptions
    quantization: str = "auto"

    def __post_init__(self) -> None:
        if self.options.seed is None:
            raise ValueError("ColumnRequest needs options with a resolved seed (use resolve_seed)")

    @property
    def stop_strings(self) -> tuple[str, ...]:
        """The format's stop strings plus the user's extra ones, deduplicated, in order."""
        return tuple(dict.fromkeys((*self.fmt.stop_strings, *self.options.stop)))


def turn_content(fmt: PromptFormat, text: str) -> str:
    """A finished answer as it belongs in the history (see PromptFormat.as_history)."""
    return fmt.as_history(text)


def resolve_seed(options: SamplingOptions) -> SamplingOptions:
    """Options with a concrete seed (a fresh random one when unset), so the run can be replayed."""
    if options.seed is not None:
        return options
    return options.with_(seed=secrets.randbelow(MAX_SEED + 1))


def make_request(
    column: int,
    spec: ModelSpec,
    messages: Sequence[Mapping[str, Any]],
    options: SamplingOptions,
    fmt: PromptFormat,
    quantization: str = "auto",
) -> ColumnRequest:
    """Render the prompt and resolve the seed for one column.

    Args:
        column: the column index (0-based).
        spec: the model.
        messages: the conversation.
        options: sampling options (seed None: a random seed is picked and recorded).
        fmt: the prompt format (already bound to the tokenizer for the 'tokenizer' format).
        quantization: 'auto', 'nf4', 'int8', 'bf16', 'fp16' or 'fp32' (ignored by remote backends).

    Returns:
        A ColumnRequest; raises MessageError when the conversation does not fit the format.
    """
    msgs = normalize_messages(messages)
    prompt = fmt.render(msgs, add_generation_prompt=True)
    return ColumnRequest(
        column=column,
        spec=spec,
        fmt=fmt,
        messages=tuple(msgs),
        prompt=prompt,
        options=resolve_seed(options),
        quantization=quantization,
    )


@dataclass
class StreamMetrics:
    """Token counts and timings for one stream, computed the same way by every backend.

    ttft_s: from ``started`` (just before the request is sent / generate() starts) to the first
    generated token. tokens_per_s: decode rate after the first token,
    (generated_tokens - 1) / (last token time - first token time).
    """

    prompt_tokens: int = 0
    generated_tokens: int = 0
    started: float = field(default_factory=time.perf_counter)
    first_token_at: float | None = None
    last_token_at: float | None = None

    def restart(self) -> None:
        """Reset the clock (call right before generation starts)."""
        self.started = time.perf_counter()

    def add_tokens(self, n: int = 1, now: float | None = None) -> None:
        """Record n new generated tokens arriving now."""
        if n <= 0:
            return
        now = time.perf_counter() if now is None else now
        if self.first_token_at is None:
            self.first_token_at = now
        self.last_token_at = now
        self.generated_tokens += n

    @property
    def ttft_s(self) -> float | None:
        """Time to first token, seconds."""
        return None if self.first_token_at is None else self.first_token_at - self.started

    @property
    def tokens_per_s(self) -> float | None:
        """Decode tokens per second after the first token (None until two tokens arrived)."""
        return self.rate(self.generated_tokens, self.first_token_at, self.last_token_at)

    @staticmethod
    def rate(generated: int, first_at: float | None, last_at: float | None) -> float | None:
        """(generated - 1) / (last - first): the decode rate after the first token."""
        if first_at is None or last_at is None or generated < 2 or last_at <= first_at:
            return None
        return (generated - 1) / (last_at - first_at)

    @property
    def elapsed_s(self) -> float:
        """Seconds since started."""
        return time.perf_counter() - self.started

    def fields(self) -> dict[str, Any]:
        """The metric fields of a GenerationEvent."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "generated_tokens": self.generated_tokens,
            "ttft_s": self.ttft_s,
            "tokens_per_s": self.tokens_per_s,
            "elapsed_s": self.elapsed_s,
        }


class ColumnEmitter:
    """Turns decoded text pieces into GenerationEvents for one column (stop strings, metrics)."""

    def __init__(self, req: ColumnRequest, prompt_tokens: int = 0):
        self.req = req
        self.metrics = StreamMetrics(prompt_tokens=prompt_tokens)
        self.matcher = StopMatcher(req.stop_strings)
        self.text = ""

    @property
    def stopped(self) -> bool:
        """True once a stop string matched: stop generating."""
        return self.matcher.stopped

    def _event(self, kind: EventKind, **kw: Any) -> GenerationEvent:
        return GenerationEvent(kind=kind, column=self.req.column, model_id=self.req.spec.id, text=self.text, **self.metrics.fields(), **kw)

    def status(self, message: str, progress: float | None = None) -> GenerationEvent:
        """A STATUS event (loading, waiting for a turn, ...)."""
        return self._event(EventKind.STATUS, status=message, progress=progress)

    def feed(self, text: str, n_tokens: int = 1, now: float | None = None) -> str:
        """Record n_tokens that decoded to text; return the part safe to show ('' if none yet).

        Tokens that arrive after a stop string matched are not counted.
        """
        if self.matcher.stopped:
            return ""
        self.metrics.add_tokens(n_tokens, now)
        delta = self.matcher.feed(text)
        if delta:
            self.text += delta
        return delta

    def piece(self, text: str, n_tokens: int = 1, now: float | None = None) -> GenerationEvent | None:
        """Feed newly decoded text that came with n_tokens tokens.

        Returns:
            A TOKEN event with the emitted delta, or None when nothing is safe to show yet.
        """
        delta = self.feed(text, n_tokens, now)
        return self._event(EventKind.TOKEN, delta=delta) if delta else None

    def token_event(self, delta: str, text: str, generated: int, last_at: float) -> GenerationEvent:
        """A TOKEN event from a snapshot taken when the text was produced (for batching readers)."""
        m = self.metrics
        return GenerationEvent(
            kind=EventKind.TOKEN,
            column=self.req.column,
            model_id=self.req.spec.id,
            delta=delta,
            text=text,
            prompt_tokens=m.prompt_tokens,
            generated_tokens=generated,
            ttft_s=None if m.first_token_at is None else m.first_token_at - m.started,
            tokens_per_s=StreamMetrics.rate(generated, m.first_token_at, last_at),
            elapsed_s=m.elapsed_s,
        )

    def done(self, reason: StopReason) -> list[GenerationEvent]:
        """The closing events: a TOKEN with any held-back text, then DONE (with rationale/answer)."""
        out: list[GenerationEvent] = []
        if self.stopped:
            reason = StopReason.STOP_STRING if reason != StopReason.CANCELLED else reason
        tail = self.matcher.flush()
        if tail:
            self.text += tail
            out.append(self._event(EventKind.TOKEN, delta=tail))
        rationale, answer = (None, None)
        if self.req.fmt.answer_marker is not None:
            rationale, answer = self.req.fmt.split_answer(self.text)
        out.append(self._event(EventKind.DONE, stop_reason=reason, rationale=rationale, answer=answer))
        return out

    def error(self, exc: BaseException | str) -> GenerationEvent:
        """The final ERROR event; LineupErrors keep their message, others get their type name."""
        if isinstance(exc, LineupError) or isinstance(exc, str):
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        return self._event(EventKind.ERROR, stop_reason=StopReason.ERROR, error=message)


@runtime_checkable
class Backend(Protocol):
    """Something that streams one column's generation (see the module docstring for the contract)."""

    def stream(self, req: ColumnRequest, cancel: threading.Event) -> Iterator[GenerationEvent]:
        """Generate for req, yielding events; ends promptly once cancel is set."""
        ...


# Backend table: key -> "module:attribute". The attribute is called with the ModelSpec and returns a
# Backend. Remote modules are imported only when a spec with that endpoint protocol is used.
BACKENDS: dict[str, str] = {
    "local": "playground.backends.local:LocalBackend",
    "openai": "playground.backends.remote_openai:OpenAIBackend",
    "tgi": "playground.backends.remote_tgi:TGIBackend",
}


def backend_key(spec: ModelSpec) -> str:
    """Which BACKENDS entry serves a spec: the endpoint protocol, else 'local'."""
    return spec.endpoint.protocol if spec.endpoint is not None else "local"


def backend_for(spec: ModelSpec, pool: Any = None) -> Backend:
    """The backend that runs a model.

    Args:
        spec: the catalog entry.
        pool: the ModelPool local models load into (default: the process-wide pool).

    Returns:
        A Backend; raises LineupError when the backend module is not available.
    """
    key = backend_key(spec)
    if key == "local":
        from playground.backends.local import LocalBackend

        return LocalBackend(pool)
    target = BACKENDS.get(key)
    if target is None:
        raise LineupError(f"model {spec.id!r}: no backend for protocol {key!r}; known: {', '.join(BACKENDS)}")
    module_name, attr = target.split(":")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise LineupError(
            f"model {spec.id!r} is served by a {key!r} endpoint, but the remote backend ({module_name}) "
            "is not installed in this build; use a local model instead"
        ) from None
    factory = getattr(module, attr, None)
    if factory is None:
        raise LineupError(f"{module_name} has no {attr}; the {key!r} backend cannot start")
    return factory(spec)
