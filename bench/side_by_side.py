"""Side-by-side cost: wall time for N columns divided by the slowest single column alone.

Every column generates exactly --tokens tokens (EOS banned with min_new_tokens); the models are
loaded before timing. A ratio of 1.0 means the columns ran fully in parallel, N means serially.

    python bench/side_by_side.py                       # CPU, demo models, N = 1..4
    python bench/side_by_side.py --quantization nf4 --tokens 200
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("demo-llama", "demo-stablelm", "demo-mistral", "demo-llama3")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help="up to 4 catalog ids")
    p.add_argument("--quantization", default="auto")
    p.add_argument("--tokens", type=int, default=200)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    import torch

    from playground.backends.local import LocalBackend
    from playground.demo import ensure_demo_models
    from playground.pool import ModelPool
    from playground.sampling import SamplingOptions
    from playground.side_by_side import ColumnChoice, prepare_columns, run_side_by_side

    if args.threads:
        torch.set_num_threads(args.threads)
    ensure_demo_models()
    ids = [m for m in args.models.split(",") if m][:4]
    pool = ModelPool()
    backend = LocalBackend(pool, {"min_new_tokens": args.tokens})
    options = SamplingOptions(temperature=0.0, max_new_tokens=args.tokens)
    messages = [{"role": "user", "content": "Tell me a story."}]

    def wall(models: list[str]) -> float:
        cols = prepare_columns([ColumnChoice(m, quantization=args.quantization) for m in models], messages, options)
        t0 = time.perf_counter()
        finals = [e for e in run_side_by_side(cols, threading.Event(), pool, lambda spec: backend) if e.final]
        dt = time.perf_counter() - t0
        bad = [f for f in finals if f.generated_tokens != args.tokens]
        if bad:
            raise SystemExit(f"a column did not generate {args.tokens} tokens: {bad[0]}")
        return dt

    wall(ids)  # load everything and warm up
    alone = {m: statistics.median(wall([m]) for _ in range(args.reps)) for m in ids}
    rows = []
    for n in range(1, len(ids) + 1):
        group = ids[:n]
        together = statistics.median(wall(group) for _ in range(args.reps))
        slowest = max(alone[m] for m in group)
        rows.append({"columns": n, "models": group, "wall_s": round(together, 3), "slowest_alone_s": round(slowest, 3), "ratio": round(together / slowest, 2)})
    header = {"quantization": args.quantization, "device": pool.device, "tokens": args.tokens, "reps": args.reps, "threads": torch.get_num_threads()}
    if args.json:
        print(json.dumps({**header, "results": rows}, indent=2))
    else:
        print(" ".join(f"{k}={v}" for k, v in header.items()))
        for r in rows:
            print(f"N={r['columns']}  wall {r['wall_s']:.3f} s  slowest alone {r['slowest_alone_s']:.3f} s  ratio {r['ratio']:.2f}  ({', '.join(r['models'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
