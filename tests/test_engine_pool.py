"""ModelPool: LRU eviction inside a budget, pinning, plans, reporting."""

from __future__ import annotations

import threading

import pytest

from playground.catalog import ModelSpec, get_model
from playground.errors import CancelledError, ModelLoadError
from playground.loading import load_model
from playground.memory import GIB
from playground.pool import BUDGET_ENV, ModelPool

IDS = ("demo-llama", "demo-stablelm", "demo-mistral")


class CountingLoader:
    """load_model, counting calls per model id."""

    def __init__(self):
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, spec, quantization, device, progress=None):
        with self.lock:
            self.calls.append(spec.id)
        return load_model(spec, quantization, device, progress)


def _totals(quant="fp32") -> dict[str, int]:
    probe = ModelPool(budget_bytes=GIB, device="cpu")
    return {m: probe.estimate(get_model(m), quant).total_bytes for m in IDS}


@pytest.fixture
def two_fit(demo_dir):
    """A pool whose budget holds any two demo models but never three."""
    sizes = _totals()
    ordered = sorted(sizes.values())
    budget = ordered[-1] + ordered[-2] + 1
    assert budget < sum(ordered)
    loader = CountingLoader()
    return ModelPool(budget_bytes=budget, device="cpu", loader=loader, wait_s=5), loader


def test_lru_eviction(two_fit):
    pool, loader = two_fit
    a, b, c = (get_model(m) for m in IDS)
    pool.get(a, "fp32")
    pool.get(b, "fp32")
    pool.get(a, "fp32")  # a is now the most recently used: no reload
    assert loader.calls == ["demo-llama", "demo-stablelm"]
    pool.get(c, "fp32")
    assert [r.model_id for r in pool.resident()] == ["demo-mistral", "demo-llama"]  # b evicted
    pool.get(b, "fp32")  # loads again, evicting a (now the least recently used)
    assert loader.calls[-1] == "demo-stablelm"
    assert {r.model_id for r in pool.resident()} == {"demo-mistral", "demo-stablelm"}
    assert pool.used_bytes() <= pool.budget_bytes


def test_pinned_models_are_not_evicted(two_fit):
    pool, _ = two_fit
    a, b, c = (get_model(m) for m in IDS)
    with pool.use(a, "fp32"), pool.use(b, "fp32"):
        cancel = threading.Event()
        cancel.set()
        with pytest.raises(CancelledError):
            pool.acquire(c, "fp32", cancel=cancel)
        short = ModelPool(budget_bytes=pool.budget_bytes, device="cpu", wait_s=0.3)
        with short.use(a, "fp32"), short.use(b, "fp32"), pytest.raises(ModelLoadError, match="waited too long"):
            short.acquire(c, "fp32")
    assert {r.model_id for r in pool.resident()} == {"demo-llama", "demo-stablelm"}


def test_waiting_request_loads_once_a_pin_is_released(two_fit):
    pool, _ = two_fit
    a, b, c = (get_model(m) for m in IDS)
    lease_a = pool.acquire(a, "fp32")
    lease_b = pool.acquire(b, "fp32")
    timer = threading.Timer(0.3, lease_a.release)
    timer.start()
    with pool.use(c, "fp32") as loaded:
        assert loaded.spec.id == "demo-mistral"
    timer.join()
    lease_b.release()
    assert {r.model_id for r in pool.resident()} == {"demo-stablelm", "demo-mistral"}


def test_concurrent_requests_for_one_model_load_it_once(demo_dir):
    loader = CountingLoader()
    pool = ModelPool(budget_bytes=GIB, device="cpu", loader=loader)
    spec = get_model("demo-llama3")
    got = []
    threads = [threading.Thread(target=lambda: got.append(pool.get(spec, "fp32"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls == ["demo-llama3"]
    assert len({id(x) for x in got}) == 1


def test_a_model_bigger_than_the_budget_fails_fast(demo_dir):
    pool = ModelPool(budget_bytes=1024, device="cpu")
    with pytest.raises(ModelLoadError, match=r"more than the whole memory budget.*LINEUP_MEMORY_BUDGET_GB"):
        pool.get(get_model("demo-llama"), "fp32")
    assert pool.resident() == []


def test_a_failed_load_leaves_nothing_behind(demo_dir, tmp_path):
    pool = ModelPool(budget_bytes=GIB, device="cpu")
    bad = ModelSpec(id="bad", label="bad", path=str(tmp_path), architecture="llama", context_length=512)
    with pytest.raises(ModelLoadError):
        pool.get(bad)
    assert pool.used_bytes() == 0 and pool.resident() == []


def test_plan_together_or_in_turn(two_fit):
    pool, _ = two_fit
    specs = [get_model(m) for m in IDS]
    assert pool.plan(specs[:2], "fp32").together
    plan = pool.plan(specs, "fp32")
    assert not plan.together and plan.too_big == ()
    assert "one after another" in plan.message
    assert plan.needed_bytes == sum(e.total_bytes for e in plan.estimates)
    assert pool.plan(specs, ["nf4", "nf4", "nf4"]).together  # 4-bit makes them fit
    tiny = ModelPool(budget_bytes=1024, device="cpu")
    assert tiny.plan(specs[:1], "fp32").too_big == ("demo-llama",)


def test_plan_ignores_remote_models(two_fit):
    pool, _ = two_fit
    remote = ModelSpec.model_validate(
        {"id": "remote", "label": "r", "endpoint": {"url": "http://127.0.0.1:9", "protocol": "openai"}, "architecture": "llama", "context_length": 512}
    )
    plan = pool.plan([remote, get_model("demo-llama")], "fp32")
    assert plan.together and [e.model_id for e in plan.estimates] == ["demo-llama"]


def test_resident_reports_models_and_bytes(demo_dir):
    pool = ModelPool(budget_bytes=GIB, device="cpu")
    spec = get_model("demo-stablelm")
    with pool.use(spec, "nf4") as loaded:
        (row,) = pool.resident()
        assert (row.model_id, row.quantization, row.in_use) == ("demo-stablelm", "nf4", 1)
        assert row.bytes == loaded.model.get_memory_footprint()
        assert "demo-stablelm (nf4" in pool.summary()
    assert pool.resident()[0].in_use == 0
    assert pool.loaded(spec, "nf4") is not None and pool.loaded(spec, "fp32") is None
    assert pool.evict("demo-stablelm") and pool.resident() == []
    pool.get(spec, "fp32")
    pool.clear()
    assert pool.used_bytes() == 0


@pytest.mark.parametrize(("value", "ok"), [("0.5", True), ("2", True), ("abc", False), ("-1", False), ("0", False)])
def test_budget_from_the_environment(monkeypatch, value, ok):
    monkeypatch.setenv(BUDGET_ENV, value)
    if ok:
        assert ModelPool(device="cpu").budget_bytes == int(float(value) * GIB)
    else:
        with pytest.raises(ModelLoadError, match=BUDGET_ENV):
            ModelPool(device="cpu")


def test_default_budget_is_a_share_of_free_memory(monkeypatch):
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    assert 0 < ModelPool(device="cpu").budget_bytes < 1024 * GIB
