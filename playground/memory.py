"""Estimate the memory a model takes before loading it, and how much memory is free.

The estimate instantiates the model's config on the meta device (empty weights: nothing is read or
downloaded) and prices every parameter for the chosen quantization.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from playground.catalog import ModelSpec

GIB = 1024**3
NF4_BLOCK = 64  # bitsandbytes 4-bit block size: one absmax per 64 weights
DQ_BLOCK = 256  # double quantization: one fp32 scale per 256 absmax values
DEFAULT_CONTEXT_CAP = 4096  # the KV cache is priced for at most this many tokens unless asked

# Bytes per parameter for tensors that stay in the compute dtype, per quantization.
COMPUTE_BYTES = {"nf4": 2, "int8": 2, "bf16": 2, "fp16": 2, "fp32": 4}


@dataclass(frozen=True)
class MemoryEstimate:
    """What a model needs in memory with one quantization.

    ``weights_bytes`` is comparable with ``model.get_memory_footprint()`` (parameters and buffers);
    ``quant_state_bytes`` are the 4/8-bit scales bitsandbytes keeps beside them.
    """

    model_id: str
    quantization: str
    parameters: int
    weights_bytes: int
    quant_state_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    context_tokens: int
    approximate: bool  # True when priced from params_b because no config was available

    @property
    def total_bytes(self) -> int:
        """Everything: weights, quantization state, KV cache and working memory."""
        return self.weights_bytes + self.quant_state_bytes + self.kv_cache_bytes + self.overhead_bytes

    @property
    def resident_bytes(self) -> int:
        """What stays allocated while the model is loaded but idle (no KV cache)."""
        return self.weights_bytes + self.quant_state_bytes

    def describe(self) -> str:
        """One line for the UI: '4.62 GiB with nf4 (weights 3.50 GiB, KV cache 1.02 GiB for 2048 tokens)'."""
        approx = "~" if self.approximate else ""
        return (
            f"{approx}{format_bytes(self.total_bytes)} with {self.quantization} "
            f"(weights {format_bytes(self.resident_bytes)}, KV cache {format_bytes(self.kv_cache_bytes)} "
            f"for {self.context_tokens} tokens)"
        )


def format_bytes(n: int | float) -> str:
    """Bytes as a short human string: '3.50 GiB', '212.4 MiB', '96 KiB'."""
    if n >= GIB:
        return f"{n / GIB:.2f} GiB"
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MiB"
    return f"{n / 1024:.0f} KiB"


def _config_source(spec: ModelSpec) -> tuple[str, float] | None:
    """(config.json path, mtime) from the local folder or the Hub cache, without downloading."""
    path: Path | None = None
    if spec.local_path is not None:
        path = spec.local_path / "config.json"
    elif spec.repo:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(spec.repo, "config.json", revision=spec.revision)
        path = Path(cached) if isinstance(cached, str) else None
    if path is None or not path.is_file():
        return None
    return str(path), path.stat().st_mtime


def estimate_memory(
    spec: ModelSpec,
    quantization: str,
    context_tokens: int | None = None,
) -> MemoryEstimate:
    """Estimate a model's memory with a quantization, from its config (no weights read).

    Args:
        spec: the model; its config comes from the local folder or the Hub cache; without one the
            catalog's params_b gives an approximate figure.
        quantization: a resolved quantization: 'nf4', 'int8', 'bf16', 'fp16' or 'fp32'.
        context_tokens: tokens to price the KV cache for (default: the context length, at most 4096).

    Returns:
        A MemoryEstimate; raises ModelLoadError when neither a config nor params_b is known.
    """
    from playground.errors import ModelLoadError

    if quantization not in COMPUTE_BYTES:
        raise ModelLoadError(f"cannot estimate memory for quantization {quantization!r}; use one of {', '.join(COMPUTE_BYTES)}")
    src = _config_source(spec)
    if src is not None:
        return _estimate_from_config(spec.id, src[0], src[1], quantization, context_tokens or min(spec.context_length, DEFAULT_CONTEXT_CAP))
    if spec.params_b is None:
        raise ModelLoadError(f"model {spec.id!r}: no config.json is available locally and the catalog gives no size")
    return _estimate_from_params(spec, quantization, context_tokens or min(spec.context_length, DEFAULT_CONTEXT_CAP))


@functools.lru_cache(maxsize=64)
def _estimate_from_config(model_id: str, config_path: str, _mtime: float, quant: str, ctx: int) -> MemoryEstimate:
    """Price every parameter of the meta-device model built from config_path."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from playground.errors import ModelLoadError

    try:
        config = AutoConfig.from_pretrained(str(Path(config_path).parent), local_files_only=True)
        # The empty-weights idea of accelerate, but thread-local: init_empty_weights() patches
        # nn.Module for the whole process, which would put a model that another thread is
        # loading at the same moment on the meta device.
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"model {model_id!r}: cannot read its config ({config_path}): {exc}") from exc
    compute = COMPUTE_BYTES[quant]
    out_emb = model.get_output_embeddings()
    skip = {id(out_emb.weight)} if out_emb is not None else set()
    weights = quant_state = params = 0
    seen: set[int] = set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen:
                continue  # tied weights count once
            seen.add(id(p))
            n = p.numel()
            params += n
            quantized = isinstance(module, torch.nn.Linear) and name == "weight" and id(p) not in skip
            if quantized and quant == "nf4":
                weights += math.ceil(n / 2)
                blocks = math.ceil(n / NF4_BLOCK)
                quant_state += blocks + math.ceil(blocks / DQ_BLOCK) * 4  # uint8 absmax + fp32 second level
            elif quantized and quant == "int8":
                weights += n
                quant_state += p.shape[0] * 4  # one fp32 scale per output row
            else:
                weights += n * compute
    weights += sum(b.numel() * 4 for b in model.buffers() if b.is_floating_point())  # rotary tables stay fp32
    kv = _kv_cache_bytes(config, ctx, compute)
    return MemoryEstimate(model_id, quant, params, weights, quant_state, kv, _overhead(weights, config), ctx, False)


def _kv_cache_bytes(config, ctx: int, dtype_bytes: int) -> int:
    """2 (K and V) x layers x kv heads x head dim x tokens x bytes."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return 2 * text.num_hidden_layers * kv_heads * head_dim * ctx * dtype_bytes


def _overhead(weights: int, config) -> int:
    """Working memory for one forward pass: logits, activations, allocator slack (~3% + 2 logit rows)."""
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    return int(weights * 0.03) + 2 * text.vocab_size * 4


def _estimate_from_params(spec: ModelSpec, quant: str, ctx: int) -> MemoryEstimate:
    """A rough estimate from the parameter count: ~97% of weights in linear layers at 7B scale."""
    params = int(spec.params_b * 1e9)
    compute = COMPUTE_BYTES[quant]
    linear = int(params * 0.97)
    other = params - linear
    if quant == "nf4":
        weights, qstate = linear // 2 + other * compute, linear // NF4_BLOCK
    elif quant == "int8":
        weights, qstate = linear + other * compute, linear // 1000
    else:
        weights, qstate = params * compute, 0
    hidden = int(math.sqrt(params / (12 * 32)))  # a 32-layer transformer of this size
    kv = 2 * 32 * hidden * ctx * compute
    return MemoryEstimate(spec.id, quant, params, weights, qstate, kv, int(weights * 0.03), ctx, True)


def free_memory(device: str) -> int:
    """Bytes free on a device: CUDA from the driver, CPU from MemAvailable.

    Args:
        device: 'cuda', 'cuda:N' or 'cpu'.

    Returns:
        Free bytes (0 when unknown).
    """
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def check_fits(estimate: MemoryEstimate, device: str, budget_bytes: int | None = None) -> str | None:
    """None when the model fits in free memory (and the budget), else a message that says what to do."""
    free = free_memory(device)
    limit = min(free, budget_bytes) if budget_bytes else free
    if limit and estimate.total_bytes > limit:
        where = "the memory budget" if budget_bytes and budget_bytes < free else f"free {device} memory"
        hint = "pick nf4 quantization" if estimate.quantization != "nf4" else "pick a smaller model"
        return (
            f"{estimate.model_id} needs {estimate.describe()}, more than {where} ({format_bytes(limit)}): "
            f"{hint}, unload other models, or raise LINEUP_MEMORY_BUDGET_GB"
        )
    return None
