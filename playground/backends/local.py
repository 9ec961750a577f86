"""The local backend: load into the model pool (progress as STATUS events), then stream."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from playground.backends.base import ColumnEmitter, ColumnRequest
from playground.errors import CancelledError
from playground.events import GenerationEvent, StopReason
from playground.memory import format_bytes

_END = object()


class LocalBackend:
    """Runs columns on models loaded here (transformers + bitsandbytes), through a ModelPool.

    Args:
        pool: the ModelPool to load into (default: the process-wide pool).
        generate_overrides: extra generate() arguments for every request (benchmarks only).
    """

    def __init__(self, pool: Any = None, generate_overrides: dict[str, Any] | None = None):
        if pool is None:
            from playground.pool import default_pool

            pool = default_pool()
        self.pool = pool
        self.generate_overrides = generate_overrides

    def stream(self, req: ColumnRequest, cancel: threading.Event) -> Iterator[GenerationEvent]:
        """Load the model if needed, then generate; see backends.base for the event contract."""
        from playground.stream import stream_local

        emitter = ColumnEmitter(req)
        yield emitter.status(f"preparing {req.spec.id}", 0.0)
        lease = None
        try:
            lease, failure = yield from self._acquire(req, cancel, emitter)
            if failure is not None:
                if isinstance(failure, CancelledError) or cancel.is_set():
                    yield from emitter.done(StopReason.CANCELLED)
                else:
                    yield emitter.error(failure)
                return
            loaded = lease.loaded
            yield emitter.status(f"{req.spec.id} ready ({loaded.quantization} on {loaded.device}, {format_bytes(loaded.footprint_bytes)})", 1.0)
            if cancel.is_set():
                yield from emitter.done(StopReason.CANCELLED)
                return
            yield from stream_local(loaded, req, cancel, self.generate_overrides)
        except Exception as exc:  # a bug must still end this column with an ERROR event
            yield emitter.error(exc)
        finally:
            if lease is not None:
                lease.release()

    def _acquire(self, req: ColumnRequest, cancel: threading.Event, emitter: ColumnEmitter):
        """Acquire the model in a helper thread, yielding its loading progress as STATUS events.

        Returns (via ``yield from``): (lease, None) or (None, exception).
        """
        progress_q: queue.SimpleQueue = queue.SimpleQueue()
        box: dict[str, Any] = {}
        abandoned = threading.Event()

        def work() -> None:
            try:
                lease = self.pool.acquire(req.spec, req.quantization, progress=lambda f, m: progress_q.put((f, m)), cancel=cancel)
                if abandoned.is_set():
                    lease.release()
                else:
                    box["lease"] = lease
            except BaseException as exc:  # handed to the reader
                box["error"] = exc
            finally:
                progress_q.put(_END)

        worker = threading.Thread(target=work, name=f"lineup-load-{req.column}", daemon=True)
        worker.start()
        finished = False
        try:
            while True:
                try:
                    item = progress_q.get(timeout=0.2)
                except queue.Empty:
                    continue
                if item is _END:
                    finished = True
                    break
                fraction, message = item
                yield emitter.status(message, fraction)
        finally:
            if not finished:  # the reader went away mid-load: release the model when it arrives
                abandoned.set()
        return box.get("lease"), box.get("error")
