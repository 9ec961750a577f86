"""Loading: 4-bit on CPU, the memory estimate against real loads, and failures that say what to do."""

from __future__ import annotations

import shutil
import threading

import pytest
import torch

from playground.catalog import ModelSpec, get_model
from playground.errors import ModelLoadError, UnknownIdError
from playground.loading import QUANTIZATIONS, load_model, resolve_quantization
from playground.memory import MemoryEstimate, check_fits, estimate_memory, format_bytes, free_memory


def _folder_spec(path, model_id="broken") -> ModelSpec:
    return ModelSpec(id=model_id, label=model_id, path=str(path), architecture="llama", context_length=512)


def test_auto_quantization_is_fp32_on_cpu_and_nf4_on_cuda():
    assert resolve_quantization("auto", "cpu") == "fp32"
    assert resolve_quantization("auto", "cuda") == "nf4"
    assert resolve_quantization("int8", "cpu") == "int8"
    with pytest.raises(UnknownIdError, match="valid quantization ids: auto, nf4"):
        resolve_quantization("q4", "cpu")
    assert set(QUANTIZATIONS) == {"auto", "nf4", "int8", "bf16", "fp16", "fp32"}


def test_nf4_load_and_generate_on_cpu(demo_dir):
    import bitsandbytes as bnb

    loaded = load_model(get_model("demo-llama"), "nf4", device="cpu")
    layer = loaded.model.model.layers[0].mlp.up_proj
    assert isinstance(layer, bnb.nn.Linear4bit)
    state = layer.weight.quant_state
    assert state.quant_type == "nf4" and state.nested  # NF4 with double quantization
    assert loaded.model.config.quantization_config.bnb_4bit_compute_dtype in ("bfloat16", torch.bfloat16)
    tok = loaded.tokenizer
    ids = torch.tensor([tok("<|user|>What colour is grass?<|model|>")["input_ids"]])
    out = loaded.model.generate(ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
    assert "green" in tok.decode(out[0, ids.shape[1]:])
    assert loaded.quantization == "nf4" and loaded.device == "cpu"


@pytest.mark.parametrize("quant", ["nf4", "int8", "bf16", "fp32"])
@pytest.mark.parametrize("model_id", ["demo-llama", "demo-stablelm"])
def test_memory_estimate_matches_the_real_load(demo_dir, model_id, quant):
    spec = get_model(model_id)
    est = estimate_memory(spec, quant)
    loaded = load_model(spec, quant, device="cpu")
    real = loaded.model.get_memory_footprint()
    assert abs(est.weights_bytes - real) <= 0.02 * real, (est.weights_bytes, real)
    assert est.total_bytes > est.weights_bytes and not est.approximate
    assert est.kv_cache_bytes > 0 and est.context_tokens == spec.context_length


def test_estimate_orders_quantizations(demo_dir):
    spec = get_model("demo-mistral")
    sizes = {q: estimate_memory(spec, q).resident_bytes for q in ("nf4", "int8", "bf16", "fp32")}
    assert sizes["nf4"] < sizes["int8"] < sizes["bf16"] < sizes["fp32"]


def test_estimate_without_a_config_uses_the_catalog_size():
    est = estimate_memory(get_model("cat-llama3-70b"), "nf4")
    assert est.approximate
    assert 30 * 1024**3 < est.resident_bytes < 45 * 1024**3  # 70.6B parameters at ~4.5 bits


def test_check_fits_says_what_to_do():
    big = MemoryEstimate("huge", "fp32", 10**12, 4 * 10**12, 0, 0, 0, 512, True)
    assert free_memory("cpu") > 0
    message = check_fits(big, "cpu")
    assert message and "huge" in message and "nf4" in message
    small = MemoryEstimate("tiny", "nf4", 10, 10, 0, 0, 0, 512, False)
    assert check_fits(small, "cpu") is None
    assert format_bytes(3 * 1024**3) == "3.00 GiB"


def test_offline_hub_model_fails_fast_with_a_message():
    spec = ModelSpec(id="not-cached", label="x", repo="lineup-tests/not-a-real-repo", architecture="llama", context_length=512)
    with pytest.raises(ModelLoadError, match=r"offline .*HF_HUB_OFFLINE=1.*hf download"):
        load_model(spec, device="cpu")


def _copy_demo(demo_dir, tmp_path, name="llama"):
    dst = tmp_path / name
    shutil.copytree(demo_dir / name, dst)
    return dst


def _corrupt_weights(folder):
    (folder / "model.safetensors").write_bytes(b"\x00\x01garbage" * 10)


def _bad_config(folder):
    (folder / "config.json").write_text("{not json")


def _no_weights(folder):
    (folder / "model.safetensors").unlink()


def _no_config(folder):
    (folder / "config.json").unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_corrupt_weights, "corrupt or incomplete"),
        (_bad_config, "config.json is corrupt"),
        (_no_weights, "has no weights"),
        (_no_config, "has no config.json"),
    ],
)
def test_corrupt_folders_fail_with_what_to_do(demo_dir, tmp_path, damage, message):
    folder = _copy_demo(demo_dir, tmp_path)
    damage(folder)
    with pytest.raises(ModelLoadError, match=message):
        load_model(_folder_spec(folder), device="cpu")


def test_missing_folder_fails_fast(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(_folder_spec(tmp_path / "nowhere"), device="cpu")


def test_out_of_memory_is_a_model_load_error(demo_dir, monkeypatch):
    import transformers

    def boom(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)
    with pytest.raises(ModelLoadError, match=r"ran out of cpu memory .*fp32.*nf4"):
        load_model(get_model("demo-llama"), "fp32", device="cpu")


def test_loading_reports_progress(demo_dir):
    seen = []
    load_model(get_model("demo-stablelm"), "fp32", device="cpu", progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert any("weights" in m for _, m in seen)


@pytest.mark.parametrize(
    ("model_id", "stop", "in_eos"),
    [
        ("demo-llama3", "<|im_end|>", True),  # a single special token: also ends generate()
        ("demo-llama", "<|user|>", True),
        ("demo-stablelm", "### User:", False),  # plain text: matched as text, not as a token
    ],
)
def test_single_token_stop_markers_become_eos_ids(demo_dir, model_id, stop, in_eos):
    loaded = load_model(get_model(model_id), "fp32", device="cpu")
    ids = loaded.eos_ids_for((stop,))
    assert set(loaded.base_eos_ids) <= set(ids)
    if in_eos:
        assert loaded.tokenizer.convert_tokens_to_ids(stop) in ids
    else:
        assert ids == loaded.base_eos_ids


def test_estimating_beside_a_load_leaves_the_load_alone(demo_dir):
    """Estimates build meta-device models; a load running at the same time must stay real."""
    from torch import nn

    from playground.memory import _estimate_from_config

    original = nn.Module.register_parameter
    stop = threading.Event()

    def estimate_again_and_again():
        while not stop.is_set():
            _estimate_from_config.cache_clear()
            estimate_memory(get_model("demo-mistral"), "nf4")

    threads = [threading.Thread(target=estimate_again_and_again) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        models = [load_model(get_model("demo-llama"), "fp32", device="cpu").model for _ in range(3)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not any(p.is_meta for m in models for p in m.parameters())
    assert nn.Module.register_parameter is original
