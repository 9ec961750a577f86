"""A pool of resident models inside a memory budget, evicting the least recently used.

Models stay loaded while they fit in the budget (LINEUP_MEMORY_BUDGET_GB, or most of the free
memory). A model in use is pinned and never evicted; ``plan()`` tells whether a set of models can be
resident together or must take turns.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from playground.catalog import ModelSpec
from playground.errors import CancelledError, ModelLoadError
from playground.loading import (
    LoadedModel,
    ProgressFn,
    check_available,
    load_model,
    resolve_device,
    resolve_quantization,
    unload,
)
from playground.memory import GIB, MemoryEstimate, estimate_memory, format_bytes, free_memory

BUDGET_ENV = "LINEUP_MEMORY_BUDGET_GB"
DEFAULT_SHARE = {"cuda": 0.92, "cpu": 0.8}  # of the memory free when the pool is created


@dataclass(frozen=True)
class ResidentModel:
    """One loaded model, as reported to the UI."""

    model_id: str
    quantization: str
    device: str
    bytes: int  # parameters + buffers (model.get_memory_footprint())
    charged_bytes: int  # what the pool counts against the budget (estimate incl. KV cache)
    in_use: int
    idle_s: float
    load_s: float


@dataclass(frozen=True)
class Plan:
    """Whether a set of models fits in the budget together."""

    together: bool
    needed_bytes: int
    budget_bytes: int
    estimates: tuple[MemoryEstimate, ...]
    too_big: tuple[str, ...]  # models that exceed the budget even alone
    message: str


@dataclass
class _Entry:
    key: tuple[str, str]
    spec: ModelSpec
    quantization: str
    charged: int
    loaded: LoadedModel | None = None
    pins: int = 0
    last_used: float = 0.0


def _default_budget(device: str) -> int:
    env = os.environ.get(BUDGET_ENV)
    if env:
        try:
            value = float(env)
        except ValueError:
            raise ModelLoadError(f"{BUDGET_ENV} must be a number of GiB, got {env!r}") from None
        if value <= 0:
            raise ModelLoadError(f"{BUDGET_ENV} must be positive, got {env!r}")
        return int(value * GIB)
    kind = "cuda" if device.startswith("cuda") else "cpu"
    return int(free_memory(device) * DEFAULT_SHARE[kind])


class ModelPool:
    """Loaded models shared by every request, kept within a memory budget (LRU eviction).

    Args:
        budget_bytes: the budget (default: LINEUP_MEMORY_BUDGET_GB, else a share of free memory).
        device: where models load (default: CUDA when available, else CPU).
        loader: the function that loads a model (load_model; tests may pass a fake).
        wait_s: how long a request waits for models in use to free memory before failing.
    """

    def __init__(
        self,
        budget_bytes: int | None = None,
        device: str | None = None,
        loader: Callable[..., LoadedModel] = load_model,
        wait_s: float = 600.0,
    ):
        self.device = resolve_device(device)
        self.budget_bytes = int(budget_bytes) if budget_bytes is not None else _default_budget(self.device)
        self._loader = loader
        self._wait_s = wait_s
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._loading: set[tuple[str, str]] = set()
        self._cond = threading.Condition(threading.RLock())

    # ---- planning ------------------------------------------------------------------
    def key(self, spec: ModelSpec, quantization: str = "auto") -> tuple[str, str]:
        """The pool key of a model with a quantization (resolved for this pool's device)."""
        return (f"{spec.id}|{spec.source}", resolve_quantization(quantization, self.device))

    def estimate(self, spec: ModelSpec, quantization: str = "auto") -> MemoryEstimate:
        """The memory estimate for a model on this pool's device."""
        check_available(spec)
        return estimate_memory(spec, resolve_quantization(quantization, self.device))

    def plan(self, specs: Sequence[ModelSpec], quantization: str | Sequence[str] = "auto") -> Plan:
        """Can these (local) models be resident together?

        Args:
            specs: the models of one request (remote ones are ignored).
            quantization: one quantization for all, or one per spec.

        Returns:
            A Plan whose message says whether the columns run together or one after another.
        """
        quants = [quantization] * len(specs) if isinstance(quantization, str) else list(quantization)
        seen: dict[tuple[str, str], MemoryEstimate] = {}
        for spec, q in zip(specs, quants, strict=True):
            if spec.is_remote:
                continue
            k = self.key(spec, q)
            if k not in seen:
                seen[k] = self.estimate(spec, q)
        ests = tuple(seen.values())
        needed = sum(e.total_bytes for e in ests)
        too_big = tuple(e.model_id for e in ests if e.total_bytes > self.budget_bytes)
        together = needed <= self.budget_bytes
        budget = format_bytes(self.budget_bytes)
        if not ests:
            msg = "no local models to load"
        elif together:
            msg = f"{len(ests)} model(s) fit together: {format_bytes(needed)} of the {budget} budget"
        else:
            sizes = ", ".join(f"{e.model_id} {format_bytes(e.total_bytes)}" for e in ests)
            msg = f"these models need {format_bytes(needed)} together ({sizes}), more than the {budget} budget: the columns run one after another, each loading in turn"
        if too_big:
            msg += f"; {', '.join(too_big)} does not fit even alone"
        return Plan(together, needed, self.budget_bytes, ests, too_big, msg)

    # ---- using models ----------------------------------------------------------------
    def acquire(
        self,
        spec: ModelSpec,
        quantization: str = "auto",
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> Lease:
        """Load (or reuse) a model and pin it against eviction until the lease is released.

        Args:
            spec: the model.
            quantization: as for load_model.
            progress: loading progress callback (only called when the model is actually loaded).
            cancel: a set event aborts waiting for memory with CancelledError.

        Returns:
            A Lease: ``lease.loaded`` is the LoadedModel (generate under its ``lock``);
            ``lease.release()`` unpins it (also a context manager).
        """
        return Lease(self, self._acquire(spec, quantization, progress, cancel))

    @contextlib.contextmanager
    def use(
        self,
        spec: ModelSpec,
        quantization: str = "auto",
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[LoadedModel]:
        """``with pool.use(spec) as loaded:`` the model stays pinned inside the block."""
        with self.acquire(spec, quantization, progress, cancel) as lease:
            yield lease.loaded

    def get(self, spec: ModelSpec, quantization: str = "auto", progress: ProgressFn | None = None) -> LoadedModel:
        """Load (or reuse) a model without pinning it (it may be evicted later)."""
        with self.use(spec, quantization, progress) as loaded:
            return loaded

    def _unpin(self, entry: _Entry) -> None:
        with self._cond:
            entry.pins -= 1
            entry.last_used = time.monotonic()
            self._cond.notify_all()

    def _acquire(self, spec: ModelSpec, quantization: str, progress: ProgressFn | None, cancel: threading.Event | None) -> _Entry:
        key = self.key(spec, quantization)
        est: MemoryEstimate | None = None
        deadline = time.monotonic() + self._wait_s
        with self._cond:
            while True:
                if cancel is not None and cancel.is_set():
                    raise CancelledError(f"cancelled while waiting for {spec.id}")
                entry = self._entries.get(key)
                if entry is not None and key not in self._loading:
                    entry.pins += 1
                    entry.last_used = time.monotonic()
                    return entry
                if key in self._loading:  # another request is loading it: wait for that
                    self._wait(deadline, spec)
                    continue
                if est is None:
                    est = self._estimate_unlocked(spec, key[1])
                    continue  # the estimate ran without the lock held: look again
                if est.total_bytes > self.budget_bytes:
                    raise ModelLoadError(
                        f"{spec.id} needs {est.describe()}, more than the whole memory budget "
                        f"({format_bytes(self.budget_bytes)}): pick nf4, a smaller model, or raise {BUDGET_ENV}"
                    )
                if self._used() + est.total_bytes > self.budget_bytes:
                    if not self._evict_lru():
                        self._wait(deadline, spec)
                    continue
                entry = _Entry(key, spec, key[1], est.total_bytes, pins=1, last_used=time.monotonic())
                self._entries[key] = entry
                self._loading.add(key)
                break
        try:
            loaded = self._loader(spec, key[1], self.device, progress)
        except BaseException:
            with self._cond:
                self._entries.pop(key, None)
                self._loading.discard(key)
                self._cond.notify_all()
            raise
        with self._cond:
            entry.loaded = loaded
            self._loading.discard(key)
            self._cond.notify_all()
        return entry

    def _estimate_unlocked(self, spec: ModelSpec, quant: str) -> MemoryEstimate:
        """Estimate with the pool lock released (reading a config may take a moment)."""
        self._cond.release()
        try:
            return self.estimate(spec, quant)
        finally:
            self._cond.acquire()

    def _wait(self, deadline: float, spec: ModelSpec) -> None:
        if time.monotonic() > deadline:
            raise ModelLoadError(f"{spec.id} waited too long for memory held by models in use; try again when they finish")
        self._cond.wait(timeout=0.2)

    def _used(self) -> int:
        return sum(e.charged for e in self._entries.values())

    def _evict_lru(self) -> bool:
        """Evict the least recently used unpinned model; False when every model is in use."""
        idle = [e for e in self._entries.values() if e.pins == 0 and e.loaded is not None]
        if not idle:
            return False
        victim = min(idle, key=lambda e: e.last_used)
        self._drop(victim)
        return True

    def _drop(self, entry: _Entry) -> None:
        del self._entries[entry.key]
        if entry.loaded is not None:
            unload(entry.loaded)

    # ---- reporting and control -------------------------------------------------------
    def resident(self) -> list[ResidentModel]:
        """The loaded models, most recently used first."""
        now = time.monotonic()
        with self._cond:
            rows = [
                ResidentModel(
                    e.spec.id, e.quantization, self.device, e.loaded.footprint_bytes, e.charged, e.pins, now - e.last_used, e.loaded.load_s
                )
                for e in self._entries.values()
                if e.loaded is not None
            ]
        return sorted(rows, key=lambda r: r.idle_s)

    def loaded(self, spec: ModelSpec, quantization: str = "auto") -> LoadedModel | None:
        """The resident LoadedModel for a spec and quantization, or None (does not load or pin)."""
        with self._cond:
            entry = self._entries.get(self.key(spec, quantization))
            return entry.loaded if entry is not None else None

    def used_bytes(self) -> int:
        """Bytes charged against the budget by resident (and loading) models."""
        with self._cond:
            return self._used()

    def summary(self) -> str:
        """One line: what is resident and how much of the budget it uses."""
        rows = self.resident()
        names = ", ".join(f"{r.model_id} ({r.quantization}, {format_bytes(r.bytes)})" for r in rows) or "none"
        return f"resident: {names}; {format_bytes(self.used_bytes())} of {format_bytes(self.budget_bytes)} budget"

    def evict(self, model_id: str) -> bool:
        """Unload an idle model by id; False when it is not resident or in use."""
        with self._cond:
            for e in list(self._entries.values()):
                if e.spec.id == model_id and e.pins == 0 and e.loaded is not None:
                    self._drop(e)
                    self._cond.notify_all()
                    return True
        return False

    def clear(self) -> None:
        """Unload every idle model."""
        with self._cond:
            for e in list(self._entries.values()):
                if e.pins == 0 and e.loaded is not None:
                    self._drop(e)
            self._cond.notify_all()


class Lease:
    """A pinned model from the pool; release it (or leave its ``with`` block) when done."""

    def __init__(self, pool: ModelPool, entry: _Entry):
        self._pool, self._entry, self._released = pool, entry, False
        self._lock = threading.Lock()

    @property
    def loaded(self) -> LoadedModel:
        """The loaded model."""
        assert self._entry.loaded is not None
        return self._entry.loaded

    def release(self) -> None:
        """Unpin the model (idempotent)."""
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._unpin(self._entry)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_DEFAULT: ModelPool | None = None
_DEFAULT_LOCK = threading.Lock()


def default_pool() -> ModelPool:
    """The process-wide pool (created on first use): models are shared, requests are not."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = ModelPool()
        return _DEFAULT
