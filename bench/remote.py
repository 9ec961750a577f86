"""Benchmark: one model as a remote column (llama.cpp server on loopback) vs the same weights local.

Prints time to first token and decode tokens/s for each, and their ratios (no assertions).
Run: HF_HUB_OFFLINE=1 .venv/bin/python -m bench.remote [--runs 5] [--tokens 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from pathlib import Path


def main() -> None:
    """Run the benchmark and print a small table."""
    from playground.backends.base import backend_for
    from playground.catalog import ModelSpec
    from playground.pool import ModelPool
    from tests.remote_support.columns import final, remote_spec, request, run
    from tests.remote_support.gguf_model import build_gguf, build_hf_twin
    from tests.remote_support.server import llama_cpp_missing, running_server

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    if llama_cpp_missing():
        raise SystemExit(llama_cpp_missing())
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        gguf = build_gguf(tmp_path / "tiny.gguf")
        local = ModelSpec(id="tiny-local", label="local", path=str(build_hf_twin(tmp_path / "twin")), architecture="llama", context_length=512, format="chatml")
        pool = ModelPool(device="cpu")
        with running_server(gguf, tmp_path, n_ctx=512) as srv:
            remote = remote_spec(srv.url)
            results = {}
            for name, spec in (("local", local), ("remote", remote)):
                backend = backend_for(spec, pool) if name == "local" else backend_for(spec)
                run(backend, request(spec, temperature=0.0, max_new_tokens=8))  # warm up (load, probe)
                finals = [final(run(backend, request(spec, temperature=0.0, max_new_tokens=args.tokens), threading.Event())) for _ in range(args.runs)]
                results[name] = (
                    statistics.median(f.ttft_s for f in finals),
                    statistics.median(f.tokens_per_s or 0.0 for f in finals),
                )
    print(f"{'column':8} {'ttft ms':>9} {'tok/s':>9}")
    for name, (ttft, tps) in results.items():
        print(f"{name:8} {ttft * 1000:9.1f} {tps:9.1f}")
    (lt, lr), (rt, rr) = results["local"], results["remote"]
    print(f"remote/local ttft ratio {rt / lt:.2f}, tokens/s ratio {rr / lr:.2f}")


if __name__ == "__main__":
    main()
