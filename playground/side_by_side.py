"""Side-by-side: 1-4 columns on the same conversation and settings, merged into one event stream.

Each column streams from its own thread into one queue, so a slow model never holds a fast one
back. When the pool says the local models cannot be resident together, they run one after
another (each loading in turn) and every waiting column gets a STATUS event saying so.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playground.backends.base import Backend, ColumnEmitter, ColumnRequest, backend_for, make_request, resolve_seed
from playground.catalog import ModelSpec, resolve_model
from playground.errors import LineupError, MessageError
from playground.events import EventKind, GenerationEvent, StopReason
from playground.formats.detect import FormatChoice, detect_format
from playground.sampling import SamplingOptions

MAX_COLUMNS = 4
_DONE = object()


@dataclass(frozen=True)
class ColumnChoice:
    """What the user picked for one column."""

    model: str | ModelSpec  # a catalog id, a local folder, or a spec
    format: str | None = None  # a format id overriding the catalog's
    quantization: str = "auto"


@dataclass(frozen=True)
class PreparedColumn:
    """A column ready to run, or the error that stops it (the other columns still run)."""

    column: int
    request: ColumnRequest | None
    error: str | None = None
    spec: ModelSpec | None = None
    format_choice: FormatChoice | None = None

    @property
    def warning(self) -> str | None:
        """A format warning to show (guessed format), if any."""
        return self.format_choice.warning if self.format_choice else None


def choose_format(spec: ModelSpec, override: str | None = None) -> FormatChoice:
    """The model's prompt format: the override, else the catalog's, else detected from its tokenizer.

    Returns:
        A FormatChoice; raises MessageError when no format is known (pick one explicitly).
    """
    wanted = override or spec.format
    if wanted and wanted != "tokenizer":
        return detect_format(spec.format, None, override)
    if spec.is_remote:
        raise MessageError(f"model {spec.id!r} has no prompt format in the catalog: pick a format")
    from playground.formats import format_from_tokenizer
    from playground.loading import load_tokenizer, locate_tokenizer_folder

    tokenizer = load_tokenizer(locate_tokenizer_folder(spec), spec.id)
    if wanted == "tokenizer":
        return FormatChoice(format_from_tokenizer(tokenizer), "override" if override else "catalog")
    choice = detect_format(None, tokenizer, None)
    if choice.format is None:
        raise MessageError(f"model {spec.id!r}: {choice.warning}")
    return choice


def prepare_column(
    column: int,
    choice: ColumnChoice,
    messages: Sequence[Mapping[str, Any]],
    options: SamplingOptions,
    allowed_dirs: list[Path] | None = None,
) -> PreparedColumn:
    """Resolve the model and format and render the exact prompt; failures stay in this column.

    Args:
        column: the column index.
        choice: model, format override and quantization.
        messages: the conversation.
        options: sampling options (resolve the seed first so every column shares it).
        allowed_dirs: directories local model paths must lie in (None: any).

    Returns:
        A PreparedColumn with a request, or with the error message.
    """
    spec = None
    try:
        spec = choice.model if isinstance(choice.model, ModelSpec) else resolve_model(choice.model, allowed_dirs)
        if spec.demo and spec.local_path is not None and not (spec.local_path / "config.json").is_file():
            from playground.demo import ensure_demo_models

            ensure_demo_models()
        fmt_choice = choose_format(spec, choice.format)
        request = make_request(column, spec, messages, options, fmt_choice.format, choice.quantization)
        return PreparedColumn(column, request, None, spec, fmt_choice)
    except LineupError as exc:
        return PreparedColumn(column, None, str(exc), spec)


def prepare_columns(
    choices: Sequence[ColumnChoice | str],
    messages: Sequence[Mapping[str, Any]],
    options: SamplingOptions,
    allowed_dirs: list[Path] | None = None,
) -> list[PreparedColumn]:
    """Prepare 1-4 columns with one shared seed (the same settings for every column)."""
    if not 1 <= len(choices) <= MAX_COLUMNS:
        raise LineupError(f"side-by-side takes 1 to {MAX_COLUMNS} models, got {len(choices)}")
    options = resolve_seed(options)
    picks = [c if isinstance(c, ColumnChoice) else ColumnChoice(c) for c in choices]
    return [prepare_column(i, c, messages, options, allowed_dirs) for i, c in enumerate(picks)]


def _error_event(col: PreparedColumn) -> GenerationEvent:
    model_id = col.spec.id if col.spec else ""
    return GenerationEvent(kind=EventKind.ERROR, column=col.column, model_id=model_id, error=col.error, stop_reason=StopReason.ERROR)


def run_side_by_side(
    columns: Sequence[ColumnRequest | PreparedColumn],
    cancel: threading.Event,
    pool: Any = None,
    backend_factory: Callable[[ModelSpec], Backend] | None = None,
) -> Iterator[GenerationEvent]:
    """Run columns concurrently and yield their events as they arrive.

    Args:
        columns: ColumnRequests, or PreparedColumns (a failed one yields its ERROR event).
        cancel: the request's stop flag; set it to end every column promptly. It is also set when
            the reader stops iterating, so abandoned requests do not keep generating.
        pool: the ModelPool for local models (default: the process-wide pool).
        backend_factory: spec -> Backend (default: backend_for with this pool).

    Yields:
        GenerationEvents from every column; each column ends with exactly one DONE or ERROR.
    """
    if pool is None:
        from playground.pool import default_pool

        pool = default_pool()
    factory = backend_factory or (lambda spec: backend_for(spec, pool))
    requests: list[ColumnRequest] = []
    for col in columns:
        if isinstance(col, PreparedColumn):
            if col.request is None:
                yield _error_event(col)
                continue
            col = col.request
        requests.append(col)
    if not requests:
        return
    local = [r for r in requests if not r.spec.is_remote]
    sequential, plan_message, failed = _plan(local, pool)
    for req in requests:
        if req.column in failed:
            yield ColumnEmitter(req).error(failed[req.column])
    requests = [r for r in requests if r.column not in failed]
    out: queue.SimpleQueue = queue.SimpleQueue()
    groups: list[list[ColumnRequest]]
    if sequential:
        for i, req in enumerate(r for r in requests if not r.spec.is_remote):
            note = "runs first" if i == 0 else "waits for its turn"
            yield ColumnEmitter(req).status(f"{plan_message}; this column {note}")
        groups = [[r for r in requests if not r.spec.is_remote]] + [[r] for r in requests if r.spec.is_remote]
    else:
        groups = [[r] for r in requests]
    threads = [threading.Thread(target=_run_group, args=(g, factory, cancel, out), name=f"lineup-column-{g[0].column}", daemon=True) for g in groups if g]
    for t in threads:
        t.start()
    remaining = len(requests)
    try:
        while remaining:
            try:
                item = out.get(timeout=0.25)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and out.empty():
                    break
                continue
            if item is _DONE:
                remaining -= 1
                continue
            yield item
    finally:
        if remaining:
            cancel.set()  # the reader went away (or a thread died): stop every column
        for t in threads:
            t.join()


def _plan(local: list[ColumnRequest], pool: Any) -> tuple[bool, str, dict[int, str]]:
    """(run in turn?, plan message, {column: error}) for the local columns."""
    failed: dict[int, str] = {}
    ok: list[ColumnRequest] = []
    for req in local:
        try:
            pool.estimate(req.spec, req.quantization)
            ok.append(req)
        except LineupError as exc:
            failed[req.column] = str(exc)
    if len(ok) < 2:
        return False, "", failed
    plan = pool.plan([r.spec for r in ok], [r.quantization for r in ok])
    return not plan.together, plan.message, failed


def _run_group(group: list[ColumnRequest], factory, cancel: threading.Event, out: queue.SimpleQueue) -> None:
    """Run a group's columns one after another, forwarding events; always end each column."""
    for req in group:
        last: GenerationEvent | None = None
        try:
            for event in factory(req.spec).stream(req, cancel):
                last = event
                out.put(event)
        except Exception as exc:  # a backend that broke its contract still ends its column
            if last is None or not last.final:
                last = _fail(req, last, exc)
                out.put(last)
        finally:
            if last is None or not last.final:
                out.put(_fail(req, last, "the backend ended without a final event"))
            out.put(_DONE)


def _fail(req: ColumnRequest, last: GenerationEvent | None, problem: BaseException | str) -> GenerationEvent:
    """An ERROR event that keeps the text and numbers of the column's last event."""
    error = ColumnEmitter(req).error(problem)
    if last is None:
        return error
    return dataclasses.replace(last, kind=EventKind.ERROR, delta="", status=None, stop_reason=StopReason.ERROR, error=error.error)


def side_by_side(
    choices: Sequence[ColumnChoice | str],
    messages: Sequence[Mapping[str, Any]],
    options: SamplingOptions,
    cancel: threading.Event,
    pool: Any = None,
    allowed_dirs: list[Path] | None = None,
) -> Iterator[GenerationEvent]:
    """Prepare and run columns: the one call the UI and CLI need.

    Args:
        choices: 1-4 catalog ids / folders / ColumnChoices.
        messages: the shared conversation.
        options: the shared sampling options (one seed is picked for all when unset).
        cancel: the request's stop flag.
        pool: the ModelPool (default: the process-wide pool).
        allowed_dirs: directories local model paths must lie in.

    Yields:
        GenerationEvents (see run_side_by_side).
    """
    prepared = prepare_columns(choices, messages, options, allowed_dirs)
    for col in prepared:
        if col.warning and col.request is not None:
            yield ColumnEmitter(col.request).status(col.warning)
    yield from run_side_by_side(prepared, cancel, pool)

