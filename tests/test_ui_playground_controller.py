"""The Playground controller over the real engine and demo models, without a browser or a server."""

from __future__ import annotations

import json
import threading

import pytest

from playground.errors import LineupError
from playground.events import EventKind, GenerationEvent
from playground.replay import ReplayError
from playground.sampling import SamplingOptions
from ui.playground_controller import Playground, check_selection, commit, drop_last_turn
from ui.playground_export import read_record, record_markdown, replay_summary
from ui.playground_runner import CancelRegistry, ColumnSetup, column_seeds, with_ticks

GREEDY = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 48})


@pytest.fixture
def pg(model_pool):
    return Playground(pool=model_pool, throttle_s=0.05)


def run(pg, setups, user="Tell me a joke.", histories=None, options=GREEDY, session="s1", **kw):
    frames = list(pg.run_turn(session, setups, histories or {}, "", user, options, **kw))
    return frames[-1][0], [f for _, f in frames]


def test_a_turn_streams_both_columns_and_ends_with_a_record(pg):
    turn, frames = run(pg, [ColumnSetup("demo-llama"), ColumnSetup("demo-mistral")])
    assert frames[0].changed == {0, 1} and frames[-1].final and not any(f.final for f in frames[:-1])
    for slot in (0, 1):
        view = turn.views[slot]
        assert view.done and view.text and view.stop_reason in {"eos", "stop_string", "max_tokens"} and view.error is None
        raw = turn.raw[slot]
        assert raw["bos_count"] == 1 and raw["token_ids"] and raw["prompt"] == turn.plans[slot].prepared.request.prompt
    cols = turn.record.columns
    assert [c.model_id for c in cols] == ["demo-llama", "demo-mistral"] and cols[0].seed == cols[1].seed
    assert [c.output for c in cols] == [turn.views[0].text, turn.views[1].text]
    md = record_markdown(turn.record)
    assert "| 1 | demo-llama | `metharme` |" in md and "<|user|>Tell me a joke.<|model|>" in md


def test_history_is_committed_per_model_and_regenerate_drops_it(pg):
    turn, _ = run(pg, [ColumnSetup("demo-llama"), ColumnSetup("metharme-7b")], user="Hello!")
    histories = commit({}, turn)
    assert histories["demo-llama"] == [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": turn.views[0].text}]
    assert "metharme-7b" not in histories  # the failed column adds nothing
    assert drop_last_turn(histories, ["demo-llama", "metharme-7b"], "Hello!") == {"demo-llama": []}
    assert drop_last_turn(histories, ["demo-llama"], "Other") == histories
    second, _ = run(pg, [ColumnSetup("demo-llama")], user="Thank you!", histories=histories)
    assert second.plans[0].prepared.request.prompt.startswith("<|user|>Hello!<|model|>" + turn.views[0].text)


def test_a_failing_model_keeps_its_error_in_its_column(pg):
    turn, _ = run(pg, [ColumnSetup("metharme-7b"), ColumnSetup("demo-llama")])
    assert turn.views[0].error and "metharme-7b" in turn.views[0].error and turn.views[0].stop_reason == "error"
    assert turn.views[1].error is None and turn.views[1].text


def test_long_conversations_drop_the_oldest_turns_with_a_notice(pg):
    long = "Tell me about cats and the weather and the sea. " * 6
    history = []
    for i in range(6):
        history += [{"role": "user", "content": f"{i} {long}"}, {"role": "assistant", "content": long}]
    turn, _ = run(pg, [ColumnSetup("demo-llama")], user="What colour is snow?", histories={"demo-llama": history})
    plan = turn.plans[0]
    assert plan.notice and "dropped the" in plan.notice and "oldest turn" in plan.notice
    assert turn.views[0].notice == plan.notice and turn.views[0].text
    assert plan.messages[-1]["content"] == "What colour is snow?" and len(plan.messages) < len(history) + 1
    assert turn.views[0].prompt_tokens <= 512 - GREEDY.max_new_tokens


def test_stop_cancels_this_session_only(pg):
    options = SamplingOptions.parse({"temperature": 1.0, "max_new_tokens": 400, "seed": 5})
    assert pg.stop("other") == 0
    stream = pg.run_turn("s2", [ColumnSetup("demo-llama"), ColumnSetup("demo-llama3")], {}, "", "Tell me a story.", options, ignore_eos=True)
    started = None
    for turn, frame in stream:
        if started is None and any(v.generated_tokens for v in turn.views.values()):
            started = True
            assert pg.stop("other") == 0 and pg.stop("s2") == 1
        last = turn, frame
    turn, frame = last
    assert frame.final and started is not None
    assert [v.stop_reason for v in turn.views.values()] == ["cancelled", "cancelled"]
    assert all(v.generated_tokens < 400 for v in turn.views.values())
    assert pg.cancels.running("s2") == 0


def test_ignore_eos_generates_max_new_tokens(pg):
    options = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 60})
    turn, _ = run(pg, [ColumnSetup("demo-stablelm")], options=options, ignore_eos=True)
    assert turn.views[0].generated_tokens == 60 and turn.views[0].stop_reason == "max_tokens"


def test_format_override_memphis_cot_splits_the_rationale(pg):
    turn, _ = run(pg, [ColumnSetup("demo-stablelm", "memphis-cot")], user="What is two plus three?", options=SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 64}))
    assert turn.plans[0].format_source[:2] == ("override", "memphis-cot")
    assert turn.plans[0].split is not None and turn.views[0].rationale is not None


def test_an_imported_record_replays_identically(pg):
    turn, _ = run(pg, [ColumnSetup("demo-llama"), ColumnSetup("demo-llama3")], options=SamplingOptions.parse({"temperature": 0.8, "seed": 9, "max_new_tokens": 32}))
    record = read_record(turn.record.to_json().encode())
    frames = list(pg.run_record("s3", record))
    again = frames[-1][0]
    assert again.diffs == [] and replay_summary(again.diffs).endswith("exactly ✓")
    assert [again.views[i].text for i in (0, 1)] == [turn.views[i].text for i in (0, 1)]


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda r: r["columns"][0].update(model_id="evil", path="/etc"), "not in this app's catalog"),
        (lambda r: r["columns"][0].update(path="/home/someone/model"), "different source"),
        (lambda r: r.update(columns=[]), "1 to 4 columns"),
        (lambda r: r.update(schema_version=7), "schema_version 7"),
    ],
)
def test_imported_records_must_stay_inside_the_catalog(pg, mutate, fragment):
    turn, _ = run(pg, [ColumnSetup("demo-llama")])
    data = json.loads(turn.record.to_json())
    mutate(data)
    with pytest.raises(ReplayError, match=fragment):
        read_record(json.dumps(data))


def test_read_record_rejects_junk():
    with pytest.raises(ReplayError, match="not valid JSON"):
        read_record(b"{nope")
    with pytest.raises(ReplayError, match="not UTF-8"):
        read_record(b"\xff\xfe")
    with pytest.raises(ReplayError, match="limit"):
        read_record(b" " * (3 * 1024 * 1024))


@pytest.mark.parametrize(("ids", "fragment"), [([], "at least one"), (["a"] * 5, "at most 4"), (["nope"], "unknown model 'nope'")])
def test_check_selection(ids, fragment):
    with pytest.raises(LineupError, match=fragment):
        check_selection(ids)


def test_empty_message_is_refused(pg):
    with pytest.raises(LineupError, match="type a message"):
        next(pg.run_turn("s", [ColumnSetup("demo-llama")], {}, "", "  ", GREEDY))


def test_column_seeds():
    shared = column_seeds(SamplingOptions(), 3, same_seed=True)
    assert len({o.seed for o in shared}) == 1 and shared[0].seed is not None
    assert [o.seed for o in column_seeds(SamplingOptions(seed=7), 3, same_seed=False)] == [7, 8, 9]
    assert len({o.seed for o in column_seeds(SamplingOptions(), 3, same_seed=False)}) == 3


def test_cancel_registry_is_per_session():
    reg = CancelRegistry()
    a1, a2, b = reg.open("a"), reg.open("a"), reg.open("b")
    assert reg.cancel("a") == 2 and a1.is_set() and a2.is_set() and not b.is_set()
    reg.close("a", a1)
    reg.close("a", a2)
    assert reg.running("a") == 0 and reg.running("b") == 1


def test_with_ticks_yields_idle_ticks_and_cancels_when_abandoned():
    cancel, release = threading.Event(), threading.Event()

    def slow():
        yield GenerationEvent(kind=EventKind.TOKEN, text="a")
        release.wait(5)
        yield GenerationEvent(kind=EventKind.DONE, text="a")

    stream = with_ticks(slow(), cancel, tick_s=0.01)
    assert next(stream).text == "a"
    assert next(stream) is None  # quiet engine: an idle tick
    stream.close()
    assert cancel.is_set()
    release.set()


def test_a_selection_that_does_not_fit_runs_in_turn_and_says_so(demo_dir):
    from playground.pool import ModelPool

    small = Playground(pool=ModelPool(budget_bytes=int(1.5 * 1024**2), device="cpu"), throttle_s=0.05)
    assert "one after another" in small.status(["demo-llama", "demo-mistral"])
    assert "one after another" not in small.status(["demo-llama"])
    statuses = set()
    for turn, _frame in small.run_turn("s4", [ColumnSetup("demo-llama"), ColumnSetup("demo-mistral")], {}, "", "Hello!", GREEDY):
        statuses |= {v.status for v in turn.views.values() if v.status}
    assert any("waits for its turn" in s for s in statuses)
    assert all(v.text and v.error is None for v in turn.views.values())
    assert len(small.pool.resident()) == 1  # the second model evicted the first


def test_committed_replies_drop_the_end_of_turn_text(pg):
    turn, _ = run(pg, [ColumnSetup("demo-stablelm")], user="What colour is snow?")
    reply = commit({}, turn)["demo-stablelm"][-1]["content"]
    assert turn.views[0].text.endswith("\n") and reply == turn.views[0].text[:-1]
