"""Load test: many concurrent gradio_client sessions against the real app on loopback, with the demo models.

Every session sends its own message with its own seed to ``/generate`` (two demo columns) and
streams the updates. The run checks that every request completes, that no session ever sees
another's text (each partial update is a prefix of its own final text; its replay record holds its
own message and seed; its outputs equal a solo rerun of the same request), and that the app's
resident memory is flat: RSS after a warm-up round vs after the measured round.

Run (full size, about a minute; starts its own app on a free loopback port):
    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.load --sessions 50 --cancel-runs 10
Against a running app: ``--url http://127.0.0.1:7860/ --pid PID`` (the pid is needed for RSS).
The CI suite runs the same code at a reduced size (tests/test_reliability_app.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import app_process

MODELS = ("demo-llama", "demo-stablelm")
FINISHED = {"eos", "stop_string", "max_tokens"}
WORDS = ("otters", "lanterns", "glaciers", "violins", "comets", "orchards", "lighthouses", "bees", "deserts", "clocks")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc/PID/status (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def session_request(i: int, max_new_tokens: int) -> tuple[str, dict[str, Any]]:
    """The message and options of session i: unique text, unique seed, sampled decoding."""
    message = f"Session {i}: tell me something about {WORDS[i % len(WORDS)]} number {i}."
    return message, {"temperature": 0.9, "top_p": 0.95, "seed": 10_000 + i, "max_new_tokens": max_new_tokens}


@dataclass
class SessionResult:
    """What one session saw."""

    index: int
    ok: bool
    latency_s: float
    texts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    updates: int = 0


def connect(url: str):
    """A new gradio_client session (its own session hash)."""
    from gradio_client import Client

    return Client(url, verbose=False)


def run_session(client_or_url: Any, i: int, models: Sequence[str], max_new_tokens: int,
                timeout_s: float = 120.0) -> SessionResult:
    """One client session: stream /generate and check that everything it saw is its own."""
    message, options = session_request(i, max_new_tokens)
    result = SessionResult(i, False, 0.0)
    start = time.perf_counter()
    try:
        client = connect(client_or_url) if isinstance(client_or_url, str) else client_or_url
        start = time.perf_counter()  # latency: submit to final update (connecting is not part of it)
        job = client.submit(list(models), message, "", options, api_name="/generate")
        final = job.result(timeout=timeout_s)
        updates = job.outputs()
    except Exception as exc:  # a failed request is a finding, not a crash of the benchmark
        result.latency_s = time.perf_counter() - start
        result.problems.append(f"request failed: {type(exc).__name__}: {exc}")
        return result
    result.latency_s = time.perf_counter() - start
    result.updates = len(updates)
    cols = final.get("columns", [])
    result.texts = [c.get("text", "") for c in cols]
    if not final.get("done") or [c.get("model_id") for c in cols] != list(models):
        result.problems.append(f"final update not done or wrong columns: {[c.get('model_id') for c in cols]}")
    for c in cols:
        if c.get("error") or c.get("stop_reason") not in FINISHED:
            result.problems.append(f"{c.get('model_id')}: stop {c.get('stop_reason')} error {c.get('error')}")
        if c.get("seed") != options["seed"]:
            result.problems.append(f"{c.get('model_id')}: seed {c.get('seed')} is not this session's {options['seed']}")
    for update in updates:  # every partial text must grow into this session's own final text
        for col, final_text in zip(update.get("columns", []), result.texts, strict=False):
            if not final_text.startswith(col.get("text", "")):
                result.problems.append(f"a partial update of {col.get('model_id')} is not a prefix of the final text")
    record = json.loads(final.get("replay_json") or "{}")
    for col in record.get("columns", []):
        if col["messages"][-1]["content"] != message or col["seed"] != options["seed"]:
            result.problems.append(f"the replay record of column {col['column']} holds another session's message or seed")
    result.ok = not result.problems
    return result


@dataclass
class LoadReport:
    """The figures of one load run."""

    sessions: int
    completed: int
    mixed: int
    failures: list[str]
    latencies_s: list[float]
    rss_before: int | None
    rss_after: int | None
    wall_s: float

    @property
    def p50_s(self) -> float:
        """Median request latency (submit to final update)."""
        return statistics.median(self.latencies_s) if self.latencies_s else float("nan")

    @property
    def p95_s(self) -> float:
        """95th percentile request latency."""
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def lines(self) -> list[str]:
        """The report as text lines."""
        mib = 1024 * 1024
        out = [
            f"sessions {self.sessions}, completed {self.completed}, mixing detected {self.mixed}, wall {self.wall_s:.1f} s",
            f"latency p50 {self.p50_s:.2f} s, p95 {self.p95_s:.2f} s, max {max(self.latencies_s, default=float('nan')):.2f} s",
        ]
        if self.rss_before is not None and self.rss_after is not None:
            growth = self.rss_after - self.rss_before
            out.append(f"app RSS after warm-up {self.rss_before / mib:.1f} MiB, after the run {self.rss_after / mib:.1f} MiB "
                       f"(growth {growth / mib:+.1f} MiB, {growth / self.rss_before:+.1%})")
        out += [f"failure: {f}" for f in self.failures[:20]]
        return out


def _round(url: str, sessions: int, models: Sequence[str], max_new_tokens: int, offset: int = 0) -> list[SessionResult]:
    """Connect `sessions` clients, then run all their requests at once (one thread each)."""
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        clients = list(pool.map(lambda _: connect(url), range(sessions)))
        futures = [pool.submit(run_session, c, offset + i, models, max_new_tokens) for i, c in enumerate(clients)]
        return [f.result() for f in futures]


def run_load(url: str, sessions: int, pid: int | None = None, models: Sequence[str] = MODELS, max_new_tokens: int = 24,
             warmup: int | None = None, solo_check: int | None = None) -> LoadReport:
    """A warm-up round, RSS, the measured round, RSS, then solo reruns to prove no session got another's output.

    Args:
        url: the app's base URL (loopback).
        sessions: concurrent sessions in the measured round.
        pid: the app's process id, for RSS (None: not measured).
        models: the columns every session runs.
        max_new_tokens: tokens per column.
        warmup: sessions in the warm-up round (default: the same as the measured round).
        solo_check: how many sessions to rerun alone and compare exactly (default: all of them).

    Returns:
        The LoadReport.
    """
    _round(url, warmup if warmup is not None else sessions, models, max_new_tokens, offset=100_000)
    rss_before = rss_bytes(pid) if pid else None
    start = time.perf_counter()
    results = _round(url, sessions, models, max_new_tokens)
    wall = time.perf_counter() - start
    rss_after = rss_bytes(pid) if pid else None
    failures = [f"session {r.index}: {p}" for r in results for p in r.problems]
    mixed = sum(any("another" in p or "prefix" in p for p in r.problems) for r in results)
    for r in results[: solo_check if solo_check is not None else sessions]:  # same request, alone: same text
        if not r.ok:
            continue
        solo = run_session(url, r.index, models, max_new_tokens)
        if solo.texts != r.texts:
            mixed += 1
            failures.append(f"session {r.index}: its output under load differs from the same request run alone")
    return LoadReport(sessions, sum(r.ok for r in results), mixed, failures, [r.latency_s for r in results if r.ok],
                      rss_before, rss_after, wall)


# ---- cancel latency ---------------------------------------------------------------------------------------
def api_cancel_latency(url: str, runs: int = 10, models: Sequence[str] = ("demo-llama", "demo-mistral")) -> list[float]:
    """Seconds from calling /stop to the final update of a long stream, through gradio_client (one run each)."""
    out = []
    for i in range(runs):
        client = connect(url)
        options = {"temperature": 1.0, "seed": 500 + i, "max_new_tokens": 4000}
        job = client.submit(list(models), "Tell me a long story.", "", options, True, None, None, True, api_name="/generate")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(c["text"] for u in job.outputs() for c in u["columns"]):
            time.sleep(0.01)
        start = time.perf_counter()
        client.predict(api_name="/stop")
        final = job.result(timeout=60)
        out.append(time.perf_counter() - start)
        assert all(c["stop_reason"] == "cancelled" for c in final["columns"]), final
    return out


def engine_cancel_latency(runs: int = 10, models: Sequence[str] = ("demo-llama", "demo-mistral")) -> list[float]:
    """Seconds from setting a request's stop flag to the end of its generation threads (in this process)."""
    import threading

    from playground.pool import ModelPool
    from playground.sampling import SamplingOptions
    from playground.side_by_side import side_by_side

    pool = ModelPool(device="cpu")
    out = []
    for i in range(runs):
        cancel = threading.Event()
        options = SamplingOptions.parse({"temperature": 1.0, "seed": 900 + i, "max_new_tokens": 4000})
        start = None
        for ev in side_by_side(list(models), [{"role": "user", "content": "Tell me a long story."}], options, cancel, pool):
            if start is None and ev.generated_tokens >= 5:
                start = time.perf_counter()
                cancel.set()
        while any(t.name.startswith(("lineup-generate", "lineup-column")) for t in threading.enumerate()):
            time.sleep(0.001)
        out.append(time.perf_counter() - start)
    return out


def _summary(name: str, values: list[float]) -> str:
    """'name: median X ms, max Y ms over N runs'."""
    return (f"{name}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms "
            f"over {len(values)} runs")


# ---- starting the app ----------------------------------------------------------------------------------
def start_app(env_extra: dict[str, str] | None = None, log_path: Path | None = None, timeout_s: float = 180.0,
              session_capacity: int | None = None):
    """app_process.start_app; with session_capacity, LINEUP_SESSION_CAPACITY (gradio's state_session_capacity) is set."""
    if session_capacity is not None:
        env_extra = {**(env_extra or {}), "LINEUP_SESSION_CAPACITY": str(session_capacity)}
    return app_process.start_app(env_extra, log_path, timeout_s)


stop_app = app_process.stop_app


def main() -> None:
    """Run the load test and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--tokens", type=int, default=24, help="max_new_tokens per column")
    parser.add_argument("--url", help="a running app (default: start one)")
    parser.add_argument("--pid", type=int, help="the running app's pid (for RSS)")
    parser.add_argument("--concurrency", type=int, default=4, help="LINEUP_CONCURRENCY for the app this starts")
    parser.add_argument("--cancel-runs", type=int, default=10, help="measure Stop latency this many times (0: skip)")
    parser.add_argument("--rounds", type=int, default=0, help="then run this many more rounds, printing RSS after each")
    parser.add_argument("--session-capacity", type=int, help="launch with gradio's state_session_capacity set to this")
    args = parser.parse_args()
    proc = None
    url, pid = args.url, args.pid
    if url is None:
        proc, url = start_app({"LINEUP_CONCURRENCY": str(args.concurrency)}, session_capacity=args.session_capacity)
        pid = proc.pid
    try:
        report = run_load(url, args.sessions, pid, max_new_tokens=args.tokens)
        api_cancel = api_cancel_latency(url, args.cancel_runs) if args.cancel_runs else []
        rounds = []
        for r in range(args.rounds):
            done = _round(url, args.sessions, MODELS, args.tokens, offset=(r + 1) * 1_000_000)
            rounds.append((sum(x.ok for x in done), rss_bytes(pid) if pid else 0))
    finally:
        if proc is not None:
            stop_app(proc)
    print(f"load test: {args.sessions} concurrent gradio_client sessions, columns {', '.join(MODELS)}, "
          f"{args.tokens} tokens each, app concurrency {args.concurrency}")
    for line in report.lines():
        print(line)
    for r, (ok, rss) in enumerate(rounds, 1):
        print(f"extra round {r}: {ok}/{args.sessions} completed, app RSS {rss / 2**20:.1f} MiB")
    if args.cancel_runs:
        print(_summary("Stop through the API (/stop call to the final update, 2 columns)", api_cancel))
        print(_summary("engine cancel (stop flag to the generation threads ended, 2 columns)",
                       engine_cancel_latency(args.cancel_runs)))


if __name__ == "__main__":
    main()
