"""Engine overhead: engine tokens/s divided by raw ``model.generate`` tokens/s.

Same model, prompt, settings and token count (EOS is banned with min_new_tokens on both sides, so
every run generates exactly --tokens tokens), measured in one run, raw and engine interleaved,
several repetitions, medians reported. Target: ratio >= 0.97.

    python bench/engine_overhead.py                      # CPU, demo-llama, fp32, greedy + sampled
    python bench/engine_overhead.py --model demo-mistral --quantization nf4 --tokens 300
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

SETTINGS = {
    "greedy": {"temperature": 0.0},
    "sampled": {"temperature": 0.7, "top_p": 0.9, "top_k": 40, "seed": 1},
}


def _raw_kwargs(options, eos_ids, pad_id, tokens):
    """What a plain transformers user would pass to generate() for these options."""
    kw = options.generation_kwargs()
    kw.update(max_new_tokens=tokens, min_new_tokens=tokens, eos_token_id=list(eos_ids), pad_token_id=pad_id)
    return kw


def measure(model_id: str, quantization: str, tokens: int, reps: int, setting: str, device: str | None) -> dict:
    """Run raw and engine generation alternately; return medians and the ratio."""
    import torch

    from playground.backends import make_request
    from playground.backends.local import LocalBackend
    from playground.catalog import get_model
    from playground.formats import get_format
    from playground.formats.encode import encode_prompt
    from playground.pool import ModelPool
    from playground.sampling import SamplingOptions
    from playground.stream import collect

    spec = get_model(model_id)
    pool = ModelPool(device=device)
    options = SamplingOptions.parse({**SETTINGS[setting], "max_new_tokens": tokens})
    req = make_request(0, spec, [{"role": "user", "content": "Tell me a story."}], options, get_format(spec.format), quantization)
    loaded = pool.get(spec, quantization)
    model, tok = loaded.model, loaded.tokenizer
    ids = torch.tensor([encode_prompt(req.prompt, tok)], device=model.device)
    eos = loaded.eos_ids_for(req.stop_strings)
    raw_kw = _raw_kwargs(options, eos, tok.pad_token_id, tokens)
    backend = LocalBackend(pool, {"min_new_tokens": tokens})

    def raw() -> float:
        if options.seed is not None:
            torch.manual_seed(options.seed)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), **raw_kw)
        dt = time.perf_counter() - t0
        assert out.shape[1] - ids.shape[1] == tokens
        return tokens / dt

    def engine() -> float:
        t0 = time.perf_counter()
        final = collect(backend.stream(req, threading.Event()))
        dt = time.perf_counter() - t0
        assert final.generated_tokens == tokens, final
        return tokens / dt

    for _ in range(2):  # warm-up (allocator, kernels, bitsandbytes first calls)
        raw()
        engine()
    raw_tps, eng_tps = [], []
    for _ in range(reps):
        raw_tps.append(raw())
        eng_tps.append(engine())
    ratios = [e / r for e, r in zip(eng_tps, raw_tps, strict=True)]
    return {
        "setting": setting,
        "raw_tokens_per_s": round(statistics.median(raw_tps), 1),
        "engine_tokens_per_s": round(statistics.median(eng_tps), 1),
        "ratio_of_medians": round(statistics.median(eng_tps) / statistics.median(raw_tps), 3),
        "median_ratio": round(statistics.median(ratios), 3),
        "best_ratio": round(max(eng_tps) / max(raw_tps), 3),  # fastest run of each: least disturbed by other load
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="demo-llama")
    p.add_argument("--quantization", default="auto")
    p.add_argument("--tokens", type=int, default=400)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (tiny models: 1 is fastest)")
    p.add_argument("--device", default=None)
    p.add_argument("--setting", choices=[*SETTINGS, "all"], default="all")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    import torch

    from playground.demo import ensure_demo_models

    torch.set_num_threads(args.threads)
    ensure_demo_models()
    settings = list(SETTINGS) if args.setting == "all" else [args.setting]
    rows = [measure(args.model, args.quantization, args.tokens, args.reps, s, args.device) for s in settings]
    header = {"model": args.model, "quantization": args.quantization, "tokens": args.tokens, "reps": args.reps, "threads": args.threads, "torch": torch.__version__}
    if args.json:
        print(json.dumps({**header, "results": rows}, indent=2))
    else:
        print(" ".join(f"{k}={v}" for k, v in header.items()))
        for r in rows:
            print(
                f"{r['setting']:<8} raw {r['raw_tokens_per_s']:>8.1f} tok/s  engine {r['engine_tokens_per_s']:>8.1f} tok/s  "
                f"ratio {r['ratio_of_medians']:.3f} (median of per-rep ratios {r['median_ratio']:.3f}, best-of-{args.reps} {r['best_ratio']:.3f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
