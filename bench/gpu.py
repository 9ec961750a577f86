"""GPU benchmark: real-size configs of the family with random weights, NF4 and bf16.

For StableLM-3B (Memphis), Llama-7B (Metharme) and Mistral-7B with 56 layers (Cerebrum-12.25B):
load time through Lineup's loader, peak VRAM against the NF4 theory (Lineup's estimate), decode
tokens/s through the engine against the memory-bandwidth ceiling, and the side-by-side ratio of
the NF4 models (wall time of all columns / slowest column alone).

Random weights are written once as safetensors into --workdir (about 44 GB for all three in bf16;
each model's folder is deleted after its run unless --keep). Needs a CUDA GPU (written for an H100,
torch 2.11+/transformers 5.17+). A CPU smoke test of the code path: ``--scale tiny --device cpu``.

    python bench/gpu.py                                  # all three, nf4 + bf16, JSON lines + summary
    python bench/gpu.py --models cerebrum-12b --quants nf4 --tokens 128
    python bench/gpu.py --scale tiny --device cpu        # seconds, no GPU
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GB = 1e9
# Real configs (from the models' config.json files); 'tiny' shrinks them for a CPU smoke test.
CONFIGS = {
    "memphis-3b": ("stablelm", "memphis", dict(vocab_size=50304, hidden_size=2560, intermediate_size=6912, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, partial_rotary_factor=0.25, max_position_embeddings=4096, rope_theta=10000, use_qkv_bias=False, layer_norm_eps=1e-5)),
    "metharme-7b": ("llama", "metharme", dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=2048, rms_norm_eps=1e-6)),
    "cerebrum-12b": ("mistral", "cerebrum", dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=56, num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=32768, rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=None)),
}
TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4)
# Peak HBM bandwidth in bytes/s by device-name fragment (first match wins); --bandwidth-gbs overrides.
BANDWIDTH = (("H200", 4.8e12), ("H100 NVL", 3.9e12), ("H100 PCIe", 2.0e12), ("H100", 3.35e12), ("A100-SXM4-80GB", 2.04e12), ("A100", 1.94e12), ("L40S", 0.864e12), ("L4", 0.3e12), ("A10G", 0.6e12))


def word_tokenizer(vocab_size: int, special: tuple[str, ...], bos: str, eos: str):
    """A word-level tokenizer that can decode every id of a random model's vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(special)}
    vocab |= {f"w{i}": i for i in range(len(special), vocab_size)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=special[0]))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, unk_token=special[0], pad_token=eos)


def write_random_model(name: str, folder: Path, scale: str, device: str) -> dict:
    """Create the model with random weights (bf16) and save it as safetensors; return its facts."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    model_type, fmt_id, cfg = CONFIGS[name]
    cfg = {**cfg, **(TINY if scale == "tiny" else {})}
    if scale == "tiny":
        cfg["num_key_value_heads"] = min(cfg["num_key_value_heads"], TINY["num_attention_heads"])
    config = AutoConfig.for_model(model_type, bos_token_id=1, eos_token_id=2, pad_token_id=2, tie_word_embeddings=False, **cfg)
    t0 = time.perf_counter()
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    params = sum(p.numel() for p in model.parameters())
    model.generation_config.eos_token_id = 2
    model.save_pretrained(folder, max_shard_size="5GB")
    word_tokenizer(cfg["vocab_size"], ("<unk>", "<s>", "</s>", "<|system|>", "<|user|>", "<|model|>"), "<s>", "</s>").save_pretrained(folder)
    del model
    _free(device)
    return {"model": name, "format": fmt_id, "params_b": round(params / 1e9, 3), "write_s": round(time.perf_counter() - t0, 1)}


def _free(device: str) -> None:
    import torch

    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def bandwidth(device: str, override_gbs: float | None) -> tuple[str, float | None]:
    """(device name, peak bytes/s or None when unknown)."""
    import torch

    if override_gbs:
        return "override", override_gbs * 1e9
    if not device.startswith("cuda"):
        return "cpu", None
    name = torch.cuda.get_device_name(torch.device(device))
    return name, next((bw for frag, bw in BANDWIDTH if frag in name), None)


def run_one(spec, quant: str, device: str, tokens: int, peak_bw: float | None, pool) -> dict:
    """Load into the pool, measure memory and decode speed (engine and raw generate)."""
    import torch

    from playground.backends import make_request
    from playground.backends.local import LocalBackend
    from playground.formats import get_format
    from playground.formats.encode import encode_prompt
    from playground.memory import estimate_memory
    from playground.sampling import SamplingOptions
    from playground.stream import collect

    est = estimate_memory(spec, quant, context_tokens=tokens + 64)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    t0 = time.perf_counter()
    loaded = pool.get(spec, quant)
    load_s = time.perf_counter() - t0
    row = {"model": spec.id, "quantization": quant, "load_s": round(load_s, 1), "footprint_gb": round(loaded.footprint_bytes / GB, 3), "estimate_weights_gb": round(est.resident_bytes / GB, 3)}
    if device.startswith("cuda"):
        row["peak_load_gb"] = round((torch.cuda.max_memory_allocated() - base) / GB, 3)
        row["peak_vs_theory"] = round((torch.cuda.max_memory_allocated() - base) / est.resident_bytes, 3)
    options = SamplingOptions(temperature=0.0, max_new_tokens=tokens)
    fmt = get_format(CONFIGS[spec.id][1])
    req = make_request(0, spec, [{"role": "user", "content": "w10 w11 w12 w13 w14 w15 w16 w17"}], options, fmt, quant)
    backend = LocalBackend(pool, {"min_new_tokens": tokens})
    collect(backend.stream(req, threading.Event()))  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    final = collect(backend.stream(req, threading.Event()))
    row["engine_decode_tok_s"] = round(final.tokens_per_s or 0.0, 1)  # after the first token
    row["engine_e2e_tok_s"] = round(final.generated_tokens / final.elapsed_s, 1)  # prefill included
    row["ttft_ms"] = round((final.ttft_s or 0.0) * 1000, 1)
    ids = torch.tensor([encode_prompt(req.prompt, loaded.tokenizer)], device=loaded.model.device)
    raw_kw = dict(attention_mask=torch.ones_like(ids), do_sample=False, pad_token_id=2, eos_token_id=2)
    with torch.inference_mode():
        loaded.model.generate(ids, max_new_tokens=8, min_new_tokens=8, **raw_kw)  # warm-up
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t1 = time.perf_counter()
        loaded.model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, **raw_kw)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        row["peak_total_gb"] = round((torch.cuda.max_memory_allocated() - base) / GB, 3)
    row["raw_e2e_tok_s"] = round(tokens / (time.perf_counter() - t1), 1)  # prefill included, like engine_e2e
    if peak_bw:
        bytes_per_token = est.resident_bytes + est.kv_cache_bytes / 2  # weights + the average KV read
        ceiling = peak_bw / bytes_per_token
        row["bandwidth_ceiling_tok_s"] = round(ceiling, 1)
        row["fraction_of_ceiling"] = round(row["engine_decode_tok_s"] / ceiling, 3)
    return row


def side_by_side_ratio(pool, specs, tokens: int) -> dict:
    """Wall time of all columns together / the slowest column alone (models already resident)."""
    from playground.backends.local import LocalBackend
    from playground.sampling import SamplingOptions
    from playground.side_by_side import ColumnChoice, prepare_columns, run_side_by_side

    backend = LocalBackend(pool, {"min_new_tokens": tokens})
    options = SamplingOptions(temperature=0.0, max_new_tokens=tokens)

    def wall(group) -> float:
        cols = prepare_columns([ColumnChoice(s, quantization="nf4") for s in group], [{"role": "user", "content": "w10 w11 w12"}], options)
        t0 = time.perf_counter()
        for _ in run_side_by_side(cols, threading.Event(), pool, lambda spec: backend):
            pass
        return time.perf_counter() - t0

    wall(specs)
    alone = [wall([s]) for s in specs]
    together = wall(specs)
    return {"side_by_side": [s.id for s in specs], "wall_s": round(together, 2), "slowest_alone_s": round(max(alone), 2), "ratio": round(together / max(alone), 2)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(CONFIGS), help=f"comma-separated, from {', '.join(CONFIGS)}")
    p.add_argument("--quants", default="nf4,bf16")
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--device", default="cuda")
    p.add_argument("--scale", choices=["real", "tiny"], default="real")
    p.add_argument("--workdir", default=None, help="where random checkpoints are written (default: a temp dir)")
    p.add_argument("--bandwidth-gbs", type=float, default=None, help="peak memory bandwidth, GB/s (default: from the GPU name)")
    p.add_argument("--keep", action="store_true", help="keep the written checkpoints")
    p.add_argument("--no-side-by-side", action="store_true")
    args = p.parse_args()

    import torch

    from playground.catalog import ModelSpec

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU: run with --scale tiny --device cpu for a smoke test", file=sys.stderr)
        return 2
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lineup-gpu-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    name, peak_bw = bandwidth(args.device, args.bandwidth_gbs)
    print(json.dumps({"device": name, "peak_bandwidth_gbs": peak_bw and peak_bw / 1e9, "torch": torch.__version__, "scale": args.scale}))
    from playground.pool import ModelPool

    rows, nf4_specs = [], []
    nf4_pool = ModelPool(budget_bytes=10**15, device=args.device)  # NF4 models stay for the side-by-side run
    for model in [m for m in args.models.split(",") if m]:
        folder = work / model
        facts = write_random_model(model, folder, args.scale, args.device)
        print(json.dumps(facts), flush=True)
        spec = ModelSpec(id=model, label=model, path=str(folder), architecture=CONFIGS[model][0], context_length=4096, format=CONFIGS[model][1], params_b=facts["params_b"] or None)
        for quant in [q for q in args.quants.split(",") if q]:
            keep_resident = quant == "nf4" and not args.no_side_by_side
            pool = nf4_pool if keep_resident else ModelPool(budget_bytes=10**15, device=args.device)
            row = run_one(spec, quant, args.device, args.tokens, peak_bw, pool)
            print(json.dumps(row), flush=True)
            rows.append(row)
            if keep_resident:
                nf4_specs.append(spec)
            else:
                pool.clear()
                _free(args.device)
        if not args.keep and spec not in nf4_specs:
            shutil.rmtree(folder, ignore_errors=True)  # side-by-side still needs the NF4 folders
    if len(nf4_specs) > 1:
        print(json.dumps(side_by_side_ratio(nf4_pool, nf4_specs, args.tokens)), flush=True)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("\nmodel          quant  load_s  weights_GB  est_GB  peak/theory  decode tok/s  e2e engine/raw  ceiling  frac")
    for r in rows:
        print(
            f"{r['model']:<14} {r['quantization']:<5} {r['load_s']:>7} {r['footprint_gb']:>10} {r['estimate_weights_gb']:>7} "
            f"{r.get('peak_vs_theory', '-'):>11} {r['engine_decode_tok_s']:>13} {r['engine_e2e_tok_s']:>7}/{r['raw_e2e_tok_s']:<7} "
            f"{r.get('bandwidth_ceiling_tok_s', '-'):>8} {r.get('fraction_of_ceiling', '-'):>5}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
