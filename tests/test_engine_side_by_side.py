"""Side-by-side: merged per-column streams, isolation of failures, plans, cancellation."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest

from playground.backends import ColumnEmitter
from playground.backends.local import LocalBackend
from playground.catalog import get_model
from playground.errors import LineupError
from playground.events import EventKind, StopReason
from playground.pool import ModelPool
from playground.sampling import SamplingOptions
from playground.side_by_side import ColumnChoice, prepare_columns, run_side_by_side, side_by_side

MESSAGES = [{"role": "user", "content": "What do dogs like?"}]
GREEDY = SamplingOptions(temperature=0.0, max_new_tokens=40)


def _by_column(events):
    cols = defaultdict(list)
    for e in events:
        cols[e.column].append(e)
    return cols


def _finals(events):
    return {e.column: e for e in events if e.final}


def test_four_columns_each_stream_and_end_once(model_pool):
    ids = ["demo-llama", "demo-stablelm", "demo-mistral", "demo-llama3"]
    events = list(side_by_side(ids, MESSAGES, GREEDY, threading.Event(), model_pool))
    cols = _by_column(events)
    assert sorted(cols) == [0, 1, 2, 3]
    for i, model_id in enumerate(ids):
        col = cols[i]
        assert [e.final for e in col].count(True) == 1 and col[-1].final
        assert all(e.model_id == model_id for e in col)
        text = "".join(e.delta for e in col if e.kind == EventKind.TOKEN)
        assert col[-1].text == text and col[-1].stop_reason == StopReason.EOS
        alone = list(side_by_side([model_id], MESSAGES, GREEDY, threading.Event(), model_pool))[-1]
        assert alone.text == text  # the same output as the model run alone


def test_columns_share_one_seed():
    cols = prepare_columns(["demo-llama", "demo-llama3"], MESSAGES, SamplingOptions(seed=None))
    seeds = {c.request.options.seed for c in cols}
    assert len(seeds) == 1 and None not in seeds


@pytest.mark.parametrize("count", [0, 5])
def test_one_to_four_columns(count):
    with pytest.raises(LineupError, match="1 to 4 models"):
        prepare_columns(["demo-llama"] * count, MESSAGES, GREEDY)


def test_failing_models_beside_a_working_one(model_pool, demo_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "llama"}')  # no weights
    choices = [
        ColumnChoice("demo-llama"),
        ColumnChoice("no-such-model"),
        ColumnChoice(str(broken), format="metharme"),
        ColumnChoice("metharme-7b"),  # a Hub model, offline and not cached
    ]
    finals = _finals(side_by_side(choices, MESSAGES, GREEDY, threading.Event(), model_pool))
    assert finals[0].kind == EventKind.DONE and finals[0].text
    assert finals[1].kind == EventKind.ERROR and "valid model ids" in finals[1].error
    assert finals[2].kind == EventKind.ERROR and "has no weights" in finals[2].error
    assert finals[3].kind == EventKind.ERROR and "offline" in finals[3].error


class _Fake:
    """A backend that yields scripted events (and can wait for a signal)."""

    def __init__(self, pieces, wait_for=None, crash=False):
        self.pieces, self.wait_for, self.crash = pieces, wait_for, crash

    def stream(self, req, cancel):
        em = ColumnEmitter(req)
        if self.wait_for is not None:
            released = self.wait_for.wait(timeout=10)
            self.pieces = ["released" if released else "timed out"]
        for p in self.pieces:
            ev = em.piece(p)
            if ev:
                yield ev
        if self.crash:
            raise RuntimeError("backend bug")
        yield from em.done(StopReason.EOS)


def test_a_slow_column_never_holds_a_fast_one_back(model_pool):
    fast_done = threading.Event()
    slow = _Fake([], wait_for=fast_done)
    cols = prepare_columns(["demo-llama", "demo-stablelm"], MESSAGES, GREEDY)
    factory = lambda spec: slow if spec.id == "demo-llama" else LocalBackend(model_pool)  # noqa: E731
    finals = {}
    for ev in run_side_by_side(cols, threading.Event(), model_pool, factory):
        if ev.final:
            finals[ev.column] = ev
            if ev.column == 1:
                fast_done.set()  # the slow column only finishes after the fast one has
    assert finals[1].stop_reason == StopReason.EOS
    assert finals[0].text == "released"


def test_a_backend_that_crashes_ends_only_its_column(model_pool):
    cols = prepare_columns(["demo-llama", "demo-llama3"], MESSAGES, GREEDY)
    factory = lambda spec: _Fake(["par", "tial"], crash=True) if spec.id == "demo-llama" else LocalBackend(model_pool)  # noqa: E731
    finals = _finals(run_side_by_side(cols, threading.Event(), model_pool, factory))
    assert finals[0].kind == EventKind.ERROR and "backend bug" in finals[0].error and finals[0].text == "partial"
    assert finals[1].kind == EventKind.DONE


def test_models_that_cannot_fit_together_run_in_turn(demo_dir):
    probe = ModelPool(budget_bytes=1024**3, device="cpu")
    sizes = [probe.estimate(get_model(m), "fp32").total_bytes for m in ("demo-llama", "demo-mistral")]
    pool = ModelPool(budget_bytes=max(sizes) + 1, device="cpu")
    events = list(side_by_side(["demo-llama", "demo-mistral"], MESSAGES, GREEDY, threading.Event(), pool))
    statuses = [e for e in events if e.kind == EventKind.STATUS and e.status and "one after another" in e.status]
    assert {e.column for e in statuses} == {0, 1}
    finals = _finals(events)
    assert all(f.kind == EventKind.DONE for f in finals.values())
    # column 1 produced nothing until column 0 had finished
    first_token_1 = next(i for i, e in enumerate(events) if e.column == 1 and e.kind == EventKind.TOKEN)
    done_0 = next(i for i, e in enumerate(events) if e.column == 0 and e.final)
    assert done_0 < first_token_1
    assert len(pool.resident()) == 1
    together = ModelPool(budget_bytes=1024**3, device="cpu")
    again = _finals(side_by_side(["demo-llama", "demo-mistral"], MESSAGES, GREEDY, threading.Event(), together))
    assert [again[i].text for i in (0, 1)] == [finals[i].text for i in (0, 1)]


def test_cancel_ends_every_column(model_pool):
    cols = prepare_columns(["demo-llama", "demo-stablelm", "demo-llama3"], MESSAGES, SamplingOptions(temperature=0, max_new_tokens=400))
    hooks = [model_pool.get(c.request.spec, "fp32").model.register_forward_hook(lambda *a: __import__("time").sleep(0.01)) for c in cols]
    cancel = threading.Event()
    factory = lambda spec: LocalBackend(model_pool, {"min_new_tokens": 400})  # noqa: E731
    try:
        finals = {}
        for ev in run_side_by_side(cols, cancel, model_pool, factory):
            if ev.kind == EventKind.TOKEN:
                cancel.set()
            if ev.final:
                finals[ev.column] = ev
    finally:
        for h in hooks:
            h.remove()
    assert {c: f.stop_reason for c, f in finals.items()} == {0: StopReason.CANCELLED, 1: StopReason.CANCELLED, 2: StopReason.CANCELLED}
    assert all(f.generated_tokens < 50 for f in finals.values())


def test_abandoning_the_merged_stream_cancels_the_columns(model_pool):
    cancel = threading.Event()
    stream = run_side_by_side(prepare_columns(["demo-llama", "demo-llama3"], MESSAGES, GREEDY), cancel, model_pool)
    next(stream)
    stream.close()
    assert cancel.is_set()
    assert not [t for t in threading.enumerate() if t.name.startswith(("lineup-column", "lineup-generate"))]


def test_local_folder_format_is_detected_with_a_warning(model_pool, demo_dir):
    events = list(side_by_side([str(demo_dir / "llama")], MESSAGES, GREEDY, threading.Event(), model_pool))
    warnings = [e.status for e in events if e.kind == EventKind.STATUS and e.status and "format guessed" in e.status]
    assert warnings and "metharme" in warnings[0]
    assert events[-1].kind == EventKind.DONE and events[-1].text
