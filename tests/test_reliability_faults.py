"""Faults in the engine: cancel mid-stream, models that fail to load or run out of memory, in their column only.

Cancel latency is the time from setting the request's stop flag until its generation thread has
ended; the issue asks for under a second (the figure is recorded in bench/RELIABILITY.md).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import pytest
import torch

from playground.backends import make_request
from playground.catalog import ModelSpec, get_model
from playground.events import EventKind, StopReason
from playground.formats import get_format
from playground.pool import ModelPool
from playground.sampling import SamplingOptions
from playground.side_by_side import ColumnChoice, side_by_side

CANCEL_LIMIT_S = 1.0
FINISHED = {StopReason.EOS, StopReason.STOP_STRING, StopReason.MAX_TOKENS}
GREEDY = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 16, "seed": 1})


def _generation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("lineup-generate", "lineup-column", "lineup-load"))]


def _wait_threads_gone(limit_s: float = 5.0) -> float:
    """Seconds until every generation/column/load thread has ended (bounded)."""
    start = time.perf_counter()
    while _generation_threads() and time.perf_counter() - start < limit_s:
        time.sleep(0.002)
    return time.perf_counter() - start


def _slow_down(model, seconds: float = 0.02):
    return model.register_forward_hook(lambda *a: time.sleep(seconds))


@pytest.fixture
def pool(demo_dir):
    return ModelPool(budget_bytes=4 * 1024**3, device="cpu")


def _finals(events) -> dict[int, object]:
    return {e.column: e for e in events if e.final}


# ---- cancel mid-stream ----------------------------------------------------------------------------------
@pytest.mark.parametrize("models", [["demo-llama"], ["demo-llama", "demo-mistral"]], ids=["one-column", "two-columns"])
def test_cancel_mid_stream_ends_generation_within_a_second_and_frees_the_model(pool, models):
    options = SamplingOptions.parse({"temperature": 1.0, "seed": 3, "max_new_tokens": 4000})
    for m in models:
        pool.get(get_model(m), "auto")
    hooks = [_slow_down(pool.loaded(get_model(m)).model) for m in models]
    cancel = threading.Event()
    events, cancelled_at = [], None
    try:
        for ev in side_by_side(models, [{"role": "user", "content": "Tell me a long story."}], options, cancel, pool):
            events.append(ev)
            if cancelled_at is None and ev.kind == EventKind.TOKEN and ev.generated_tokens >= 3:
                cancelled_at = time.perf_counter()
                cancel.set()
        latency = _wait_threads_gone()
        ended = time.perf_counter() - cancelled_at
    finally:
        for h in hooks:
            h.remove()
    assert cancelled_at is not None
    assert latency < CANCEL_LIMIT_S and ended < CANCEL_LIMIT_S + 0.5, (latency, ended)
    finals = _finals(events)
    assert sorted(finals) == list(range(len(models)))
    for fin in finals.values():
        assert fin.stop_reason == StopReason.CANCELLED and fin.generated_tokens < 400
    for m in models:  # the model is free: its lock is released and the next request runs to the end
        lock = pool.loaded(get_model(m)).lock
        assert lock.acquire(blocking=False)
        lock.release()
    after = _finals(side_by_side(models, [{"role": "user", "content": "Hello!"}], GREEDY, threading.Event(), pool))
    assert all(f.stop_reason in FINISHED for f in after.values())


def test_cancel_while_waiting_for_a_busy_model_returns_at_once(pool):
    spec = get_model("demo-llama")
    loaded = pool.get(spec, "auto")
    loaded.lock.acquire()  # another request is generating with this model
    cancel = threading.Event()
    try:
        stream = side_by_side(["demo-llama"], [{"role": "user", "content": "Hi"}], GREEDY, cancel, pool)
        for ev in stream:
            if ev.kind == EventKind.STATUS and "waiting" in (ev.status or ""):
                start = time.perf_counter()
                cancel.set()
            if ev.final:
                final, took = ev, time.perf_counter() - start
    finally:
        loaded.lock.release()
    assert final.stop_reason == StopReason.CANCELLED and took < CANCEL_LIMIT_S
    assert _wait_threads_gone() < CANCEL_LIMIT_S


def test_a_client_that_goes_away_stops_every_column(pool):
    models = ["demo-llama", "demo-stablelm"]
    for m in models:
        pool.get(get_model(m), "auto")
    hooks = [_slow_down(pool.loaded(get_model(m)).model) for m in models]
    options = SamplingOptions.parse({"temperature": 1.0, "seed": 4, "max_new_tokens": 4000})
    try:
        stream = side_by_side(models, [{"role": "user", "content": "Tell me a story."}], options, threading.Event(), pool)
        for ev in stream:
            if ev.kind == EventKind.TOKEN:
                break
        start = time.perf_counter()
        stream.close()  # the browser tab closed: the generator is dropped mid-stream
        latency = _wait_threads_gone()
        took = time.perf_counter() - start
    finally:
        for h in hooks:
            h.remove()
    assert latency < CANCEL_LIMIT_S and took < CANCEL_LIMIT_S + 0.5
    for m in models:
        lock = pool.loaded(get_model(m)).lock
        assert lock.acquire(blocking=False)
        lock.release()


# ---- models that fail to load: the failure stays in its column ---------------------------------------------
def _broken_folder(demo_dir: Path, tmp: Path, kind: str) -> Path:
    """A copy of the tiny Llama demo model, broken in one way."""
    src = demo_dir / "llama"
    dst = tmp / f"broken-{kind}"
    shutil.copytree(src, dst)
    weights = sorted(dst.glob("*.safetensors"))
    if kind == "missing-weights":
        for w in weights:
            w.unlink()
    elif kind == "corrupt-weights":
        weights[0].write_bytes(b"\x07\x00\x00\x00\x00\x00\x00\x00not a safetensors header")
    elif kind == "truncated-weights":
        data = weights[0].read_bytes()
        weights[0].write_bytes(data[: len(data) // 2])
    elif kind == "corrupt-config":
        (dst / "config.json").write_text("{ this is not json", encoding="utf-8")
    elif kind == "missing-folder":
        shutil.rmtree(dst)
    elif kind == "huge-config":  # a 70B-shaped config: the memory planner refuses it before loading
        cfg = json.loads((dst / "config.json").read_text(encoding="utf-8"))
        cfg.update(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64,
                   num_key_value_heads=8, vocab_size=128256)
        (dst / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    return dst


BROKEN = [
    ("missing-weights", "has no weights (*.safetensors or *.bin)"),
    ("corrupt-weights", "are corrupt or incomplete"),
    ("truncated-weights", "are corrupt or incomplete"),
    ("corrupt-config", "is corrupt"),
    ("missing-folder", "does not exist"),
    ("huge-config", "more than the whole memory budget"),
]


@pytest.mark.parametrize(("kind", "fragment"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_model_that_fails_to_load_fails_in_its_column_only(pool, demo_dir, tmp_path, kind, fragment):
    folder = _broken_folder(demo_dir, tmp_path, kind)
    broken = ModelSpec(id=f"broken-{kind}", label=kind, path=str(folder), architecture="llama", context_length=512, format="metharme")
    events = list(side_by_side([ColumnChoice(broken), "demo-llama"], [{"role": "user", "content": "Hello!"}], GREEDY,
                               threading.Event(), pool))
    finals = _finals(events)
    assert finals[0].kind == EventKind.ERROR and fragment in finals[0].error, finals[0].error
    assert "Traceback" not in finals[0].error
    assert finals[1].kind == EventKind.DONE and finals[1].stop_reason in FINISHED and finals[1].text
    assert pool.loaded(broken) is None  # no half-loaded entry keeps memory charged
    assert broken.id not in {r.model_id for r in pool.resident()}
    assert pool.used_bytes() == sum(r.charged_bytes for r in pool.resident())


def test_out_of_memory_while_loading_fails_in_its_column_and_frees_the_budget(pool, monkeypatch):
    import transformers

    real = transformers.AutoModelForCausalLM.from_pretrained

    def oom_for_mistral(path, *args, **kwargs):
        if str(path).endswith("mistral"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", oom_for_mistral)
    events = list(side_by_side(["demo-mistral", "demo-llama"], [{"role": "user", "content": "Hello!"}], GREEDY, threading.Event(), pool))
    finals = _finals(events)
    assert finals[0].kind == EventKind.ERROR and "ran out of cpu memory while loading" in finals[0].error
    assert finals[1].stop_reason in FINISHED
    assert pool.loaded(get_model("demo-mistral")) is None
    charged = {r.model_id for r in pool.resident()}
    assert "demo-mistral" not in charged
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", real)
    again = _finals(side_by_side(["demo-mistral"], [{"role": "user", "content": "Hello!"}], GREEDY, threading.Event(), pool))
    assert again[0].stop_reason in FINISHED  # the same model loads once memory is there


def test_out_of_memory_while_generating_fails_in_its_column_and_releases_the_model(pool, monkeypatch):
    loaded = pool.get(get_model("demo-llama3"), "auto")

    def oom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loaded.model, "generate", oom)
    finals = _finals(side_by_side(["demo-llama3", "demo-stablelm"], [{"role": "user", "content": "Hi"}], GREEDY, threading.Event(), pool))
    assert finals[0].kind == EventKind.ERROR and "ran out of cpu memory while generating" in finals[0].error
    assert "lower max_new_tokens" in finals[0].error and finals[1].stop_reason in FINISHED
    assert loaded.lock.acquire(blocking=False)
    loaded.lock.release()
    monkeypatch.undo()
    req = make_request(0, get_model("demo-llama3"), [{"role": "user", "content": "Hi"}], GREEDY, get_format("cat-llama3"))
    again = _finals(side_by_side([ColumnChoice(req.spec)], list(req.messages), GREEDY, threading.Event(), pool))
    assert again[0].stop_reason in FINISHED


def test_a_crashing_generate_thread_ends_its_column_with_an_error(pool, monkeypatch):
    loaded = pool.get(get_model("demo-stablelm"), "auto")
    monkeypatch.setattr(loaded.model, "generate", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("CUDA error: device-side assert")))
    finals = _finals(side_by_side(["demo-stablelm", "demo-llama"], [{"role": "user", "content": "Hi"}], GREEDY, threading.Event(), pool))
    assert finals[0].kind == EventKind.ERROR and "device-side assert" in finals[0].error
    assert finals[1].stop_reason in FINISHED
    assert _wait_threads_gone() < CANCEL_LIMIT_S
