"""Stream one local model: generate() in its own thread, new tokens decoded incrementally.

Every piece of state here belongs to one request (streamer, queue, seeded sampler, stop flags);
nothing is kept at module level.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import torch
from transformers import LogitsProcessor, LogitsProcessorList, StoppingCriteriaList
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    TypicalLogitsWarper,
)
from transformers.generation.streamers import BaseStreamer

from playground.backends.base import ColumnEmitter, ColumnRequest
from playground.errors import GenerationError
from playground.events import EventKind, GenerationEvent, StopReason
from playground.formats.encode import encode_messages
from playground.loading import LoadedModel
from playground.sampling import SamplingOptions
from playground.stopping import CancelCriteria

_END = object()
_WAKE = object()
POLL_S = 0.05  # reader poll interval: how quickly a dead generate() thread is noticed
WAKE_S = 0.025  # tokens are decoded and the reader woken at most every 25 ms (the UI redraws every 80 ms)


class SeededSampler(LogitsProcessor):
    """Samples the next token with a per-request torch.Generator, then forces greedy to pick it.

    generate() samples from torch's global RNG, which every thread shares, so two columns sampling
    at once would disturb each other's seeds. Running generate() greedily with this processor last
    keeps the sample private to the request: the same seed gives the same output, whatever else runs.
    """

    def __init__(self, seed: int, device: torch.device | str, warpers: tuple[LogitsProcessor, ...] = ()):
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed)
        self.warpers = warpers  # applied here, in order: one processor call per step instead of several

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        probs = torch.softmax(scores.float(), dim=-1)
        chosen = torch.multinomial(probs, num_samples=1, generator=self.generator)
        return torch.full_like(scores, float("-inf")).scatter_(1, chosen, 0.0)


def sampling_processors(options: SamplingOptions, device: torch.device | str) -> LogitsProcessorList:
    """The warpers transformers would apply for these options (same order), then the seeded sampler."""
    procs: list[LogitsProcessor] = []
    if options.greedy:
        return LogitsProcessorList()
    if options.temperature != 1.0:
        procs.append(TemperatureLogitsWarper(options.temperature))
    if options.top_k:
        procs.append(TopKLogitsWarper(top_k=options.top_k))
    if options.top_p < 1.0:
        procs.append(TopPLogitsWarper(top_p=options.top_p))
    if options.min_p > 0.0:
        procs.append(MinPLogitsWarper(min_p=options.min_p))
    if options.typical_p < 1.0:
        procs.append(TypicalLogitsWarper(mass=options.typical_p))
    return LogitsProcessorList([SeededSampler(options.seed or 0, device, tuple(procs))])


def generate_kwargs(options: SamplingOptions, max_new_tokens: int, eos_ids: tuple[int, ...], pad_id: int | None) -> dict[str, Any]:
    """Keyword arguments for generate(): the options' config with sampling done by SeededSampler."""
    kw = options.generation_kwargs()
    kw.update(do_sample=False, temperature=None, top_p=None, top_k=None, min_p=None, typical_p=None)
    kw["max_new_tokens"] = max_new_tokens
    kw["eos_token_id"] = list(eos_ids) or None
    kw["pad_token_id"] = pad_id if pad_id is not None else (eos_ids[0] if eos_ids else None)
    return kw


def _raw_decoder(tokenizer):
    """A decode(ids) function without clean-up or skipped tokens (the Rust one when available)."""
    backend = getattr(tokenizer, "_tokenizer", None)
    if backend is not None and hasattr(backend, "decode"):
        return lambda ids: backend.decode(ids, skip_special_tokens=False)
    return lambda ids: tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


class IncrementalDecoder:
    """Decodes only new token ids, holding back incomplete UTF-8 (the prefix/read offset method)."""

    def __init__(self, tokenizer):
        self._decode = _raw_decoder(tokenizer)
        self.ids: list[int] = []
        self._prefix = 0
        self._read = 0
        self._prefix_text = ""

    def add(self, token_id: int) -> str:
        """Add one token; return the text it completes (possibly empty)."""
        return self.extend((token_id,))

    def extend(self, token_ids) -> str:
        """Add several tokens; return the text they complete (possibly empty): one decode pair per call."""
        self.ids.extend(token_ids)
        text = self._decode(self.ids[self._prefix:])
        if len(text) > len(self._prefix_text) and not text.endswith("\ufffd"):
            delta = text[len(self._prefix_text):]
            self._prefix, self._read = self._read, len(self.ids)
            self._prefix_text = self._decode(self.ids[self._prefix:self._read])
            return delta
        return ""

    def tokens_to_reach(self, start: int, prefix: int, prefix_text: str, chars: int) -> int:
        """How many of the ids from index start it takes to decode at least chars characters.

        prefix/prefix_text: the decoder's window before those ids were added (see ``extend``).
        """
        skip = len(prefix_text)
        for k in range(1, len(self.ids) - start + 1):
            text = self._decode(self.ids[prefix:start + k])[skip:].rstrip("\ufffd")
            if len(text) >= chars:
                return k
        return len(self.ids) - start


class EventStreamer(BaseStreamer):
    """Receives token ids inside generate(); decodes, matches stop strings and queues events.

    ``put`` only records token ids and their arrival times; they are decoded and matched against
    the stop strings in batches: on the first token, then at most every WAKE_S seconds, and once
    more when generate() returns (``flush``). Each batch costs one decode pair and wakes the reader
    (through ``wake``) once, so a fast model pays neither per token. A stop string completed inside a
    batch sets ``halt`` (generate() ends a few tokens later; those tokens are not counted and their
    text is trimmed); token counts and times stay those of the token that completed it.
    """

    def __init__(self, emitter: ColumnEmitter, tokenizer, wake: queue.SimpleQueue, halt: threading.Event, eos_ids: tuple[int, ...]):
        self.emitter = emitter
        self.decoder = IncrementalDecoder(tokenizer)
        self.pending: collections.deque[tuple[str, str, int, float]] = collections.deque()
        self.wake = wake
        self.halt = halt
        self.eos_ids = frozenset(eos_ids)
        self.saw_eos = False
        self._prompt_seen = False
        self._last_wake = 0.0
        self._ids: list[int] = []  # received, not decoded yet
        self._times: list[float] = []  # their arrival times

    def put(self, value: torch.Tensor) -> None:
        if not self._prompt_seen:  # generate() first pushes the prompt
            self._prompt_seen = True
            return
        if self.saw_eos or self.emitter.stopped:
            return
        now = time.perf_counter()
        for token_id in value.reshape(-1).tolist():
            if token_id in self.eos_ids:
                self.flush()
                if not self.emitter.stopped:
                    self.saw_eos = True
                    self.emitter.metrics.add_tokens(1, now)
                return
            self._ids.append(token_id)
            self._times.append(now)
        if now - self._last_wake >= WAKE_S:
            self.flush()

    def flush(self) -> None:
        """Decode the recorded tokens, match stop strings and queue a snapshot for the reader."""
        ids, times = self._ids, self._times
        if not ids:
            return
        self._ids, self._times = [], []
        emitter = self.emitter
        if emitter.stopped:
            return
        decoder, matcher = self.decoder, emitter.matcher
        start, prefix, prefix_text, held = len(decoder.ids), decoder._prefix, decoder._prefix_text, matcher.pending
        text = decoder.extend(ids)
        delta = emitter.feed(text, 0)  # tokens are counted below: only those up to a stop string
        n = len(ids)
        if emitter.stopped:
            end = len(delta) + len(matcher.matched or "") - len(held)  # where the stop string ends in text
            n = decoder.tokens_to_reach(start, prefix, prefix_text, end)
            self.halt.set()  # the stop string is complete: end generate() at the next step
        metrics = emitter.metrics
        if metrics.first_token_at is None:
            metrics.add_tokens(1, times[0])
            metrics.add_tokens(n - 1, times[n - 1])
        else:
            metrics.add_tokens(n, times[n - 1])
        if text:
            self._last_wake = times[-1]
        if delta:
            # a cheap snapshot; the reader turns a batch of them into one event
            self.pending.append((delta, emitter.text, metrics.generated_tokens, times[n - 1]))
            self.wake.put(_WAKE)

    def end(self) -> None:
        pass  # the generate thread flushes and queues _END itself, after generate() returns or raises


def _drain(pending: collections.deque, emitter: ColumnEmitter) -> GenerationEvent | None:
    """One TOKEN event for every snapshot queued since the last call (a slow reader gets fewer, larger updates)."""
    if not pending:
        return None
    parts = []
    while pending:
        parts.append(pending.popleft())
    _, text, generated, last_at = parts[-1]
    delta = parts[0][0] if len(parts) == 1 else "".join(p[0] for p in parts)
    return emitter.token_event(delta, text, generated, last_at)


def _context_limit(loaded: LoadedModel) -> int:
    cfg = loaded.model.config
    limits = [loaded.spec.context_length, getattr(cfg, "max_position_embeddings", None)]
    return min(x for x in limits if x)


def stream_local(
    loaded: LoadedModel,
    req: ColumnRequest,
    cancel: threading.Event,
    generate_overrides: dict[str, Any] | None = None,
) -> Iterator[GenerationEvent]:
    """Generate with a loaded model, yielding TOKEN events and one final DONE or ERROR.

    Args:
        loaded: the model (its lock is taken for the duration of generate()).
        req: the column request (exact prompt, options with a seed).
        cancel: set it to end generate() at the next decoding step.
        generate_overrides: extra generate() arguments (benchmarks: min_new_tokens).

    Yields:
        GenerationEvents for req.column.
    """
    tokenizer = loaded.tokenizer
    emitter = ColumnEmitter(req)
    # user-typed control-token text is encoded as plain text (escaped), never as a marker
    _, prompt_ids, _ = encode_messages(req.fmt, list(req.messages), tokenizer)
    emitter.metrics.prompt_tokens = len(prompt_ids)
    limit = _context_limit(loaded)
    if len(prompt_ids) >= limit:
        yield emitter.error(GenerationError(f"the prompt is {len(prompt_ids)} tokens but {req.spec.id} reads at most {limit}: shorten the conversation"))
        return
    max_new = min(req.options.max_new_tokens, limit - len(prompt_ids))
    if max_new < req.options.max_new_tokens:
        yield emitter.status(f"max_new_tokens lowered to {max_new} to fit the {limit}-token context")
    if not loaded.lock.acquire(blocking=False):
        yield emitter.status(f"waiting: {req.spec.id} is generating for another request")
        while not loaded.lock.acquire(timeout=0.1):
            if cancel.is_set():
                yield from emitter.done(StopReason.CANCELLED)
                return
    try:
        yield from _generate_locked(loaded, req, cancel, emitter, prompt_ids, max_new, generate_overrides)
    finally:
        loaded.lock.release()


def _generate_locked(loaded, req, cancel, emitter, prompt_ids, max_new, overrides) -> Iterator[GenerationEvent]:
    """The part of stream_local that runs while the model's lock is held."""
    model = loaded.model
    eos_ids = loaded.eos_ids_for(req.stop_strings)
    wake: queue.SimpleQueue = queue.SimpleQueue()
    halt = threading.Event()
    streamer = EventStreamer(emitter, loaded.tokenizer, wake, halt, eos_ids)
    input_ids = torch.tensor([prompt_ids], dtype=torch.long, device=model.device)
    kwargs = generate_kwargs(req.options, max_new, eos_ids, loaded.tokenizer.pad_token_id)
    kwargs.update(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        streamer=streamer,
        stopping_criteria=StoppingCriteriaList([CancelCriteria(cancel, halt)]),
        logits_processor=sampling_processors(req.options, model.device),
        **(overrides or {}),
    )
    failure: list[BaseException] = []

    def run() -> None:
        try:
            try:
                with torch.inference_mode():
                    model.generate(**kwargs)
            finally:
                streamer.flush()  # the tokens of the last batch
        except BaseException as exc:  # reported to the reader as an ERROR event
            failure.append(exc)
        finally:
            wake.put(_END)

    thread = threading.Thread(target=run, name=f"lineup-generate-{req.column}", daemon=True)
    emitter.metrics.restart()
    thread.start()
    pending = streamer.pending
    try:
        ended = False
        while not ended:
            try:
                ended = wake.get(timeout=POLL_S) is _END
            except queue.Empty:
                if not thread.is_alive() and wake.empty():
                    failure.append(GenerationError("the generation thread ended without a result"))
                    ended = True
            event = _drain(pending, emitter)
            if event is not None:
                yield event
    finally:
        halt.set()  # also when the reader went away: stop generate() and wait for it
        thread.join()
    if failure:
        yield _error(emitter, failure[0], loaded)
        return
    if emitter.stopped:
        reason = StopReason.STOP_STRING
    elif streamer.saw_eos:
        reason = StopReason.EOS
    elif cancel.is_set():
        reason = StopReason.CANCELLED
    else:
        reason = StopReason.MAX_TOKENS
    yield from emitter.done(reason)


def _error(emitter: ColumnEmitter, exc: BaseException, loaded: LoadedModel) -> GenerationEvent:
    """The ERROR event for a failed generate(), with a hint for out-of-memory."""
    if isinstance(exc, torch.OutOfMemoryError):
        exc = GenerationError(
            f"{loaded.spec.id} ran out of {loaded.device} memory while generating: lower max_new_tokens, "
            "shorten the conversation, or run fewer models at once"
        )
        if loaded.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return emitter.error(exc)


def collect(events: Iterator[GenerationEvent]) -> GenerationEvent:
    """Drain a stream and return its final event (for tests, the CLI and benchmarks)."""
    last = None
    for ev in events:
        last = ev
    if last is None or last.kind not in (EventKind.DONE, EventKind.ERROR):
        raise GenerationError("the stream ended without a final event")
    return last
