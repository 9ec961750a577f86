"""Per-turn orchestration for the Playground tab over the engine (no gradio import).

The engine's ``side_by_side`` shares one conversation between columns; in a multi-turn chat every
column has its own history (its model's own replies), so this module prepares each column with its
own messages, trims the oldest turns to fit that model's context, and hands the prepared columns to
``run_side_by_side``. It also holds the per-app cancel registry (keyed by session) and a small
tokenizer cache for the raw-prompt view.
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.backends.base import resolve_seed
from playground.catalog import ModelSpec
from playground.errors import LineupError
from playground.events import GenerationEvent
from playground.formats.encode import encode_messages, encode_prompt, leading_bos_count
from playground.formats.lint import lint_lines
from playground.formats.truncate import truncate_messages
from playground.sampling import MAX_SEED, SamplingOptions
from playground.side_by_side import ColumnChoice, PreparedColumn, prepare_column, run_side_by_side
from ui.chat_adapter import Splitter

_END = object()
TICK_S = 0.05  # how often a held-back update is reconsidered while the engine is quiet


class CancelRegistry:
    """The stop flags of running requests, by session: Stop sets every flag of its own session only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, set[threading.Event]] = {}

    def open(self, session: str) -> threading.Event:
        """A new stop flag for a request of this session."""
        flag = threading.Event()
        with self._lock:
            self._runs.setdefault(session, set()).add(flag)
        return flag

    def close(self, session: str, flag: threading.Event) -> None:
        """Forget a finished request's flag."""
        with self._lock:
            flags = self._runs.get(session)
            if flags is not None:
                flags.discard(flag)
                if not flags:
                    del self._runs[session]

    def cancel(self, session: str) -> int:
        """Set every running flag of a session; returns how many were running."""
        with self._lock:
            flags = list(self._runs.get(session, ()))
        for flag in flags:
            flag.set()
        return len(flags)

    def running(self, session: str) -> int:
        """How many requests of this session are running."""
        with self._lock:
            return len(self._runs.get(session, ()))


class TokenizerCache:
    """Tokenizers for counting and showing tokens: from the pool when resident, else loaded from a local folder.

    Hub models that are not resident are never fetched here (that could wait on the network); their
    token ids appear once the model has loaded.
    """

    def __init__(self, pool: Any, size: int = 8) -> None:
        self.pool = pool
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._size = size

    def get(self, spec: ModelSpec, quantization: str = "auto") -> Any | None:
        """The model's tokenizer, or None when it is not available without the network."""
        if spec.is_remote:
            return None
        loaded = self.pool.loaded(spec, quantization) if self.pool is not None else None
        if loaded is not None:
            return loaded.tokenizer
        if spec.local_path is None:
            return None
        key = str(spec.local_path)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        from playground.loading import load_tokenizer

        try:
            tok = load_tokenizer(spec.local_path, spec.id)
        except LineupError:
            return None
        with self._lock:
            self._cache[key] = tok
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return tok


@dataclass(frozen=True)
class ColumnSetup:
    """What the page picked for one column."""

    model_id: str
    format: str | None = None  # override; None: the catalog's format
    quantization: str = "auto"


@dataclass
class ColumnPlan:
    """One column of a turn, ready to run (or carrying its error)."""

    slot: int
    setup: ColumnSetup
    messages: list[dict[str, str]]
    prepared: PreparedColumn
    notice: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def split(self) -> Splitter | None:
        """The format's rationale/answer splitter (Memphis-CoT), else None."""
        req = self.prepared.request
        return req.fmt.split_answer if req is not None and req.fmt.answer_marker else None

    @property
    def format_source(self) -> tuple[str | None, str | None, str | None]:
        """(source, format id, warning) for the format badge."""
        choice = self.prepared.format_choice
        if choice is None:
            return None, None, self.prepared.error
        return choice.source, choice.format_id, choice.warning


def conversation(system: str | None, turns: Sequence[Mapping[str, str]], user: str) -> list[dict[str, str]]:
    """The messages for one column: optional system prompt, its committed turns, the new user message."""
    out = [{"role": "system", "content": system}] if system and system.strip() else []
    out += [{"role": t["role"], "content": t["content"]} for t in turns]
    out.append({"role": "user", "content": user})
    return out


def column_seeds(options: SamplingOptions, n: int, same_seed: bool) -> list[SamplingOptions]:
    """Options per column: one shared seed, or a different seed per column (given seed + column index)."""
    if same_seed:
        shared = resolve_seed(options)
        return [shared] * n
    if options.seed is None:
        return [resolve_seed(options) for _ in range(n)]
    return [options.with_(seed=(options.seed + i) % (MAX_SEED + 1)) for i in range(n)]


def _budget(spec: ModelSpec, options: SamplingOptions) -> int:
    """Prompt tokens a column may use: the context minus the reply, but never under half the context."""
    return max(spec.context_length - options.max_new_tokens, spec.context_length // 2)


def _fit(plan: ColumnPlan, options: SamplingOptions, tokenizers: TokenizerCache, allowed_dirs) -> ColumnPlan:
    """Drop the oldest turns of a column whose prompt does not fit its model's context."""
    req = plan.prepared.request
    if req is None:
        return plan
    budget = _budget(req.spec, options)
    if len(req.prompt.encode("utf-8")) + 8 <= budget:  # a token is at least one byte: surely fits
        return plan
    tok = tokenizers.get(req.spec, plan.setup.quantization)
    if tok is None:
        return plan
    fmt = req.fmt

    def count(msgs: list[dict[str, str]]) -> int:
        return len(encode_prompt(fmt.render(msgs), tok))

    cut = truncate_messages(plan.messages, budget, count)
    if not cut.dropped_turns and cut.fits:
        return plan
    choice = ColumnChoice(req.spec, plan.setup.format, plan.setup.quantization)
    prepared = prepare_column(plan.prepared.column, choice, cut.messages, req.options, allowed_dirs)
    return ColumnPlan(plan.slot, plan.setup, cut.messages, prepared, cut.notice)


def plan_turn(
    setups: Sequence[ColumnSetup],
    histories: Sequence[Sequence[Mapping[str, str]]],
    system: str | None,
    user: str,
    options: SamplingOptions,
    same_seed: bool,
    tokenizers: TokenizerCache,
    allowed_dirs: list | None = None,
) -> list[ColumnPlan]:
    """Prepare every column of a turn; a column's failure stays in that column.

    Args:
        setups: model, format override and quantization per column.
        histories: each column's committed turns (user/assistant messages, no system prompt).
        system: the shared system prompt.
        user: the new user message.
        options: the validated sampling options.
        same_seed: one seed for every column (else one per column).
        tokenizers: where token counts come from (for trimming to the context).
        allowed_dirs: directories local model paths must lie in.

    Returns:
        One ColumnPlan per setup, in order.
    """
    per_column = column_seeds(options, len(setups), same_seed)
    plans = []
    for i, (setup, turns, opts) in enumerate(zip(setups, histories, per_column, strict=True)):
        messages = conversation(system, turns, user)
        choice = ColumnChoice(setup.model_id, setup.format, setup.quantization)
        prepared = prepare_column(i, choice, messages, opts, allowed_dirs)
        plans.append(_fit(ColumnPlan(i, setup, messages, prepared), opts, tokenizers, allowed_dirs))
    return plans


def raw_prompt_info(plan: ColumnPlan, tokenizers: TokenizerCache) -> dict[str, Any]:
    """The exact prompt, its token ids (as the engine encodes it), the BOS count and lint warnings."""
    req = plan.prepared.request
    if req is None:
        return {"prompt": "", "token_ids": None, "bos_count": None, "lint": [], "note": plan.prepared.error}
    tok = tokenizers.get(req.spec, plan.setup.quantization)
    if tok is None:
        note = "token ids appear once the model's tokenizer is available (after it loads)"
        return {"prompt": req.prompt, "token_ids": None, "bos_count": None, "lint": [], "note": note}
    _, ids, escaped = encode_messages(req.fmt, list(req.messages), tok)
    lint = lint_lines(req.prompt, tok, req.fmt, ids)
    return {"prompt": req.prompt, "token_ids": ids, "bos_count": leading_bos_count(ids, tok), "lint": lint, "escaped": escaped, "note": None}


def with_ticks(events: Iterator[GenerationEvent], cancel: threading.Event, tick_s: float = TICK_S) -> Iterator[GenerationEvent | None]:
    """Read the engine's merged stream in a helper thread, yielding None when it is quiet for tick_s.

    The idle ticks let a throttled update go out without waiting for the next token. Abandoning
    the iterator sets ``cancel`` so the columns stop.
    """
    box: queue.SimpleQueue = queue.SimpleQueue()

    def pump() -> None:
        try:
            for ev in events:
                box.put(ev)
        except BaseException as exc:  # handed to the reader, which re-raises it
            box.put(exc)
        finally:
            box.put(_END)

    thread = threading.Thread(target=pump, name="lineup-ui-pump", daemon=True)
    thread.start()
    finished = False
    try:
        while True:
            try:
                item = box.get(timeout=tick_s)
            except queue.Empty:
                yield None
                continue
            if item is _END:
                finished = True
                return
            if isinstance(item, BaseException):
                finished = True
                raise item
            yield item
    finally:
        if not finished:
            cancel.set()


def backend_factory(pool: Any, ignore_eos: bool, max_new_tokens: int):
    """The backend per spec: the engine's default, or local models that never stop before max_new_tokens.

    ``ignore_eos`` bans EOS (and single-token stop markers) until max_new_tokens, for throughput
    comparisons; remote columns are unaffected. SamplingOptions has no such field yet, so such runs
    replay as ordinary ones.
    """
    if not ignore_eos:
        return None
    from playground.backends.base import backend_for
    from playground.backends.local import LocalBackend

    local = LocalBackend(pool, {"min_new_tokens": max_new_tokens})
    return lambda spec: backend_for(spec, pool) if spec.is_remote else local


def run_plans(plans: Sequence[ColumnPlan], cancel: threading.Event, pool: Any, factory=None) -> Iterator[GenerationEvent | None]:
    """Run the prepared columns side by side (with idle ticks); see run_side_by_side."""
    return with_ticks(run_side_by_side([p.prepared for p in plans], cancel, pool, factory), cancel)
