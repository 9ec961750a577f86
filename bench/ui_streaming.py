"""Benchmark: UI streaming overhead of the Playground, seen through gradio_client against `python app.py`.

For each run, two demo columns generate exactly --tokens tokens (ignore_eos) through the app's
/generate endpoint. Per column it compares the decode rate the client sees (tokens between its
first and last update, over the time between them) with the rate the engine reports for the same
run. It also runs the same columns in this process without a server, to show what the server
costs the engine itself. Prints ratios; no assertions.

Run: HF_HUB_OFFLINE=1 .venv/bin/python -m bench.ui_streaming [--runs 5] [--tokens 400]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["demo-llama", "demo-llama3"]
PROMPT = "Tell me a story."


def client_run(client, tokens: int, seed: int) -> list[tuple[float, float]]:
    """One /generate call; returns (client tokens/s, engine tokens/s) per column.

    The client's rate counts the tokens that arrived between its first update with text and the
    final update of a column (each update carries the column's token count), over the time between
    the two arrivals.
    """
    job = client.submit(MODELS, PROMPT, "", {"temperature": 0.8, "max_new_tokens": tokens, "seed": seed}, True, None, None, True, api_name="/generate")
    first: dict[int, tuple[float, int]] = {}
    last: dict[int, tuple[float, int]] = {}
    final = None
    for update in job:
        now = time.perf_counter()
        for i, col in enumerate(update["columns"]):
            n = col["metrics"]["generated_tokens"]
            if col["text"] and i not in first:
                first[i] = (now, n)
            if col["stop_reason"] and i not in last:
                last[i] = (now, n)
        final = update
    out = []
    for i, col in enumerate(final["columns"]):
        (t0, n0), (t1, n1) = first[i], last[i]
        seen = (n1 - n0) / (t1 - t0) if t1 > t0 else float("nan")
        out.append((seen, col["metrics"]["tokens_per_s"] or float("nan")))
    return out


def engine_alone(pg, tokens: int, seed: int) -> list[float]:
    """The same two columns run in this process with no server: the engine's tokens/s per column."""
    from playground.sampling import SamplingOptions
    from ui.playground_runner import ColumnSetup

    opts = SamplingOptions.parse({"temperature": 0.8, "max_new_tokens": tokens, "seed": seed})
    last = None
    for turn, _frame in pg.run_turn("bench", [ColumnSetup(m) for m in MODELS], {}, "", PROMPT, opts, True, ignore_eos=True):
        last = turn
    return [last.views[i].tokens_per_s for i in range(len(MODELS))]


def main() -> None:
    """Start the app, run the comparison, print a table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=400, help="tokens per column (the demo context is 512)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from app_support import start_app
    from gradio_client import Client

    from playground.demo import ensure_demo_models
    from ui.playground_controller import Playground

    demo = ensure_demo_models()
    pg = Playground()
    rows, alone = [], []
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_app({"LINEUP_DEMO_DIR": str(demo)}, Path(tmp) / "app.log")
        try:
            client = Client(url, verbose=False)
            client_run(client, 16, 0)  # warm up: load both models in the app, and here
            engine_alone(pg, 16, 0)
            for seed in range(1, args.runs + 1):  # interleaved, so that other load on the machine hits both alike
                rows.append(client_run(client, args.tokens, seed))
                alone.append(engine_alone(pg, args.tokens, seed))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"{'run':>3} {'column':12} {'client tok/s':>12} {'engine tok/s':>12} {'ratio':>6}")
    ratios, in_app = [], []
    for r, row in enumerate(rows, 1):
        for (seen, engine), model in zip(row, MODELS, strict=True):
            ratios.append(seen / engine)
            in_app.append(engine)
            print(f"{r:>3} {model:12} {seen:12.1f} {engine:12.1f} {seen / engine:6.3f}")
    alone_flat = [x for row in alone for x in row]
    print(f"UI streaming ratio (client-seen / engine tokens/s, same run): median {statistics.median(ratios):.3f}, min {min(ratios):.3f}")
    print(f"engine in the app / engine alone (tokens/s, medians): {statistics.median(in_app):.1f} / {statistics.median(alone_flat):.1f} = {statistics.median(in_app) / statistics.median(alone_flat):.3f}")


if __name__ == "__main__":
    main()
