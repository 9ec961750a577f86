"""The Playground's per-app controller: runs turns and replays, keeps nothing per request (no gradio).

Per-session data (histories, the last record) travels in the page's state and is passed in and out;
the controller itself holds only shared things: the model pool, the cancel registry and the
tokenizer cache. The UI handlers and the API endpoints both call it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.backends.base import turn_content
from playground.catalog import ModelSpec, get_model, list_models
from playground.errors import LineupError, MessageError
from playground.events import GenerationEvent
from playground.formats import normalize_messages
from playground.formats.detect import FormatChoice
from playground.replay import ReplayRecord, build_record, compare, request_from_column
from playground.sampling import SamplingOptions
from playground.side_by_side import MAX_COLUMNS, PreparedColumn, run_side_by_side
from ui.chat_adapter import ColumnView, Frame, Throttle, frames
from ui.playground_export import catalog_spec
from ui.playground_runner import (
    CancelRegistry,
    ColumnPlan,
    ColumnSetup,
    TokenizerCache,
    backend_factory,
    plan_turn,
    raw_prompt_info,
    run_plans,
    with_ticks,
)

Histories = dict[str, list[dict[str, str]]]


@dataclass
class Turn:
    """One running side-by-side turn: its plans, live views, and (at the end) its replay record."""

    plans: list[ColumnPlan]
    views: dict[int, ColumnView]
    user: str
    record: ReplayRecord | None = None
    raw: dict[int, dict[str, Any]] = field(default_factory=dict)
    diffs: list[str] | None = None  # set by a replay: differences from the recorded outputs

    def model_of(self, slot: int) -> str:
        """The model id of a slot."""
        return self.plans[slot].setup.model_id


def check_selection(model_ids: Sequence[str] | None) -> list[str]:
    """1-4 known model ids (LineupError otherwise)."""
    if isinstance(model_ids, str):
        model_ids = [model_ids]  # one id given without a list
    if model_ids is not None and not isinstance(model_ids, Sequence):
        raise LineupError(f"models must be a list of model ids, got {type(model_ids).__name__}")
    ids = [m for m in (model_ids or []) if m]
    bad = [m for m in ids if not isinstance(m, str)]
    if bad:
        raise LineupError(f"models must be a list of model ids (strings), got {repr(bad[0])[:60]}")
    if not ids:
        raise LineupError("pick at least one model")
    if len(ids) > MAX_COLUMNS:
        raise LineupError(f"pick at most {MAX_COLUMNS} models, got {len(ids)}")
    for m in ids:
        get_model(m)
    return ids


def commit(histories: Mapping[str, list[dict[str, str]]], turn: Turn) -> Histories:
    """Histories with the finished turn appended to every column that produced text (errors add nothing).

    The reply is stored without the format's end-of-turn text (the template adds it back).
    """
    out = {k: list(v) for k, v in histories.items()}
    for plan in turn.plans:
        view = turn.views[plan.slot]
        if view.error or not view.text:
            continue
        mid, req = plan.setup.model_id, plan.prepared.request
        reply = turn_content(req.fmt, view.text) if req is not None else view.text
        out[mid] = [*out.get(mid, []), {"role": "user", "content": turn.user}, {"role": "assistant", "content": reply}]
    return out


def drop_last_turn(histories: Mapping[str, list[dict[str, str]]], model_ids: Sequence[str], user: str) -> Histories:
    """Histories without the last exchange of each column when it answered ``user`` (for Regenerate)."""
    out = {k: list(v) for k, v in histories.items()}
    for mid in model_ids:
        turns = out.get(mid, [])
        if len(turns) >= 2 and turns[-2] == {"role": "user", "content": user} and turns[-1]["role"] == "assistant":
            out[mid] = turns[:-2]
    return out


class Playground:
    """Shared engine access for the tab and the API.

    Args:
        pool: the ModelPool (default: the process-wide pool).
        allowed_dirs: directories local model folders must lie in.
        throttle_s: the least time between two updates of the page while tokens stream.
    """

    def __init__(self, pool: Any = None, allowed_dirs: Sequence[Any] = (), throttle_s: float = 0.08):
        self._pool = pool
        self._pool_lock = threading.Lock()
        self.allowed_dirs = list(allowed_dirs)  # empty: no local folders at all (catalog models only)
        self.throttle_s = throttle_s
        self.cancels = CancelRegistry()
        self._tokenizers: TokenizerCache | None = None

    @property
    def pool(self) -> Any:
        """The model pool, created on first use (it measures free memory)."""
        with self._pool_lock:
            if self._pool is None:
                from playground.pool import default_pool

                self._pool = default_pool()
            return self._pool

    @property
    def tokenizers(self) -> TokenizerCache:
        """The tokenizer cache over this pool."""
        if self._tokenizers is None:
            self._tokenizers = TokenizerCache(self.pool)
        return self._tokenizers

    @staticmethod
    def specs() -> list[ModelSpec]:
        """The catalog."""
        return list_models()

    # ---- status ------------------------------------------------------------------------
    def status(self, model_ids: Sequence[str] = (), quantization: str = "auto") -> str:
        """What is resident and how much memory it uses, and whether the selection fits together."""
        try:
            line = self.pool.summary()
        except LineupError as exc:
            return f"memory: {exc}"
        if len(model_ids) < 2:
            return line
        try:
            specs = [get_model(m) for m in model_ids]
            plan = self.pool.plan(specs, quantization)
        except LineupError as exc:
            return f"{line} · selection: {exc}"
        return f"{line} · selection: {plan.message}"

    # ---- turns -------------------------------------------------------------------------
    def run_turn(
        self,
        session: str,
        setups: Sequence[ColumnSetup],
        histories: Mapping[str, Sequence[Mapping[str, str]]],
        system: str | None,
        user: str,
        options: SamplingOptions,
        same_seed: bool = True,
        ignore_eos: bool = False,
    ) -> Iterator[tuple[Turn, Frame]]:
        """Run one turn across the columns, yielding (turn, frame) as the columns stream.

        Args:
            session: the session key (Stop cancels every run of this session).
            setups: one ColumnSetup per column (1-4).
            histories: committed turns by model id.
            system: the shared system prompt.
            user: the new user message (not empty).
            options: validated sampling options.
            same_seed: one seed for every column.
            ignore_eos: local columns generate max_new_tokens whatever the model says (speed tests).

        Returns:
            An iterator of (Turn, Frame); the first frame lists every column, the last is final and
            the turn then carries its replay record and raw-prompt details.
        """
        if not isinstance(user, str) or not user.strip():
            raise LineupError("type a message first")
        # refuse what no column could send (too long, invalid Unicode) before anything runs, so the page
        # keeps the typed message and the API answers with one clear error
        _check_text("system prompt", system or "")
        _check_text("message", user)
        cancel = self.cancels.open(session)
        try:
            plans = plan_turn(setups, [list(histories.get(s.model_id, [])) for s in setups], system, user, options, same_seed, self.tokenizers, self.allowed_dirs)
            turn = Turn(plans, {p.slot: ColumnView(p.slot, p.setup.model_id, notice=p.notice, seed=_seed(p)) for p in plans}, user)
            turn.raw = {p.slot: {"prompt": p.prepared.request.prompt if p.prepared.request else "", "token_ids": None, "bos_count": None, "lint": [], "note": "token ids follow when the model has loaded"} for p in plans}
            yield turn, Frame(frozenset(turn.views))
            factory = backend_factory(self.pool, ignore_eos, options.max_new_tokens)
            for frame in frames(run_plans(plans, cancel, self.pool, factory), turn.views, Throttle(self.throttle_s)):
                if frame.final:
                    self._finish(turn)
                yield turn, frame
        finally:
            self.cancels.close(session, cancel)

    def _finish(self, turn: Turn) -> None:
        """Build the replay record and the raw-prompt details once every column has ended."""
        requests = [p.prepared.request for p in turn.plans if p.prepared.request is not None]
        finals = [_final_event(turn.views[p.slot]) for p in turn.plans if p.prepared.request is not None]
        if requests:
            turn.record = build_record(requests, finals, self.pool)
        turn.raw = {p.slot: raw_prompt_info(p, self.tokenizers) for p in turn.plans}

    def run_record(self, session: str, record: ReplayRecord) -> Iterator[tuple[Turn, Frame]]:
        """Run a vetted replay record again; the final turn carries the new record and the differences."""
        cancel = self.cancels.open(session)
        try:
            requests = []
            for col in sorted(record.columns, key=lambda c: c.column):
                catalog_spec(col)
                requests.append(request_from_column(col))
            plans = []
            for slot, req in enumerate(requests):
                req = _renumber(req, slot)
                setup = ColumnSetup(req.spec.id, req.fmt.id, req.quantization)
                prepared = PreparedColumn(slot, req, None, req.spec, FormatChoice(req.fmt, "replay"))
                plans.append(ColumnPlan(slot, setup, [dict(m) for m in req.messages], prepared))
            user = next((m["content"] for m in reversed(plans[0].messages) if m["role"] == "user"), "")
            turn = Turn(plans, {p.slot: ColumnView(p.slot, p.setup.model_id, seed=_seed(p)) for p in plans}, user)
            turn.raw = {p.slot: {"prompt": p.prepared.request.prompt, "token_ids": None, "bos_count": None, "lint": [], "note": None} for p in plans}
            yield turn, Frame(frozenset(turn.views))
            events = with_ticks(run_side_by_side([p.prepared.request for p in plans], cancel, self.pool), cancel)
            for frame in frames(events, turn.views, Throttle(self.throttle_s)):
                if frame.final:
                    self._finish(turn)
                    if turn.record is not None:
                        turn.diffs = compare(_renumbered(record), turn.record)
                yield turn, frame
        finally:
            self.cancels.close(session, cancel)

    def stop(self, session: str) -> int:
        """Set the stop flag of every run of a session; returns how many were running."""
        return self.cancels.cancel(session)


def _check_text(what: str, text: str) -> None:
    """Refuse a typed text no format can send (over the length limit, lone surrogates), naming it."""
    try:
        normalize_messages([{"role": "user", "content": text}])
    except MessageError as exc:
        raise MessageError(str(exc).replace("message 0 (user)", f"the {what}", 1)) from None


def _seed(plan: ColumnPlan) -> int | None:
    """The seed a prepared column runs with."""
    return plan.prepared.request.options.seed if plan.prepared.request is not None else None


def _final_event(view: ColumnView) -> GenerationEvent:
    """A final event rebuilt from a view (what build_record reads)."""
    from playground.events import EventKind, StopReason

    kind = EventKind.ERROR if view.error else EventKind.DONE
    reason = StopReason(view.stop_reason) if view.stop_reason else (StopReason.ERROR if view.error else StopReason.CANCELLED)
    return GenerationEvent(
        kind=kind, column=view.column, model_id=view.model_id, text=view.text, prompt_tokens=view.prompt_tokens,
        generated_tokens=view.generated_tokens, ttft_s=view.ttft_s, tokens_per_s=view.tokens_per_s, elapsed_s=view.elapsed_s,
        stop_reason=reason, error=view.error, rationale=view.rationale, answer=view.answer,
    )


def _renumber(req: Any, slot: int) -> Any:
    """A request moved to another column index."""
    import dataclasses

    return req if req.column == slot else dataclasses.replace(req, column=slot)


def _renumbered(record: ReplayRecord) -> ReplayRecord:
    """The record with its columns numbered 0.. in order (as the replay runs them)."""
    cols = sorted(record.columns, key=lambda c: c.column)
    return record.model_copy(update={"columns": [c.model_copy(update={"column": i}) for i, c in enumerate(cols)]})
