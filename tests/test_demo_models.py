"""The offline demo family: real architectures, format tokens, templates, turns that end."""

from __future__ import annotations

import json

import pytest
import torch

from playground.catalog import get_model, list_models
from playground.demo import DEMOS, build_demo_models, get_demo
from playground.demo.build import BUILDER_VERSION, STAMP, stamp_matches
from playground.formats import get_format
from playground.formats.encode import encode_prompt, leading_bos_count
from playground.formats.lint import lint_prompt

CONVERSATION = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What colour is the sky?"},
    {"role": "assistant", "content": "The sky is blue on a clear day."},
    {"role": "user", "content": "What do bees make?"},
]
ARCH_CLASS = {"stablelm": "StableLmForCausalLM", "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM"}


def _load(demo_dir, name):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = demo_dir / name
    return AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)


def test_catalog_demo_entries_point_at_built_folders(demo_dir):
    demos = [m for m in list_models() if m.demo]
    assert {m.local_path.name for m in demos} == {d.name for d in DEMOS}
    for spec in demos:
        assert spec.local_path == demo_dir / spec.local_path.name
        assert (spec.local_path / "config.json").is_file()
        assert spec.label.startswith("[demo]")
        assert spec.format == get_demo(spec.local_path.name).format_id


@pytest.mark.parametrize("arch", DEMOS, ids=lambda d: d.name)
def test_demo_is_a_real_architecture_with_the_format_tokens(demo_dir, arch):
    config = json.loads((demo_dir / arch.name / "config.json").read_text())
    assert config["architectures"] == [ARCH_CLASS[arch.model_type]]
    model, tok = _load(demo_dir, arch.name)
    fmt = get_format(arch.format_id)
    for marker in (*fmt.special_tokens, *arch.special):
        assert len(tok(marker, add_special_tokens=False)["input_ids"]) == 1, marker
    assert (demo_dir / arch.name / "chat_template.jinja").read_text() == fmt.chat_template
    assert tok.apply_chat_template(CONVERSATION, tokenize=False, add_generation_prompt=True) == fmt.render(CONVERSATION)
    prompt = fmt.render(CONVERSATION)
    ids = encode_prompt(prompt, tok)
    assert leading_bos_count(ids, tok) == (1 if arch.add_bos else 0)
    # the tokenizer keeps every marker whole and the prompt ends with the generation prompt
    # (BOS findings are about naive encoding of prompts that carry BOS text; encode_prompt handles it)
    codes = {f.code for f in lint_prompt(prompt, tok, fmt)}
    assert not codes & {"split-token", "no-generation-prompt"}
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


@pytest.mark.parametrize("arch", DEMOS, ids=lambda d: d.name)
def test_demo_answers_and_ends_its_turn(demo_dir, arch):
    model, tok = _load(demo_dir, arch.name)
    fmt = get_format(arch.format_id)
    ids = torch.tensor([encode_prompt(fmt.render([{"role": "user", "content": "What colour is grass?"}]), tok)])
    eos = model.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else eos
    out = model.generate(ids, max_new_tokens=60, do_sample=False, pad_token_id=tok.pad_token_id)
    new = out[0, ids.shape[1]:].tolist()
    assert new[-1] in eos, tok.decode(new)
    assert "green" in tok.decode(new).lower()


def test_build_is_idempotent_and_stamped(demo_dir):
    assert stamp_matches(demo_dir)
    stamp = json.loads((demo_dir / STAMP).read_text())
    assert stamp["builder_version"] == BUILDER_VERSION
    assert build_demo_models(demo_dir) == []  # current: nothing rebuilt


def test_a_stale_or_partial_build_is_not_current(demo_dir, tmp_path):
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / STAMP).write_text(json.dumps({"builder_version": "0"}))
    assert not stamp_matches(stale)
    (stale / STAMP).write_text(json.dumps({"builder_version": BUILDER_VERSION}))
    assert not stamp_matches(stale)  # the folders are missing


def test_build_is_deterministic(demo_dir, tmp_path):
    from playground.demo.build import build_one

    build_one(get_demo("llama"), tmp_path / "llama")
    for name in ("model.safetensors", "tokenizer.json", "chat_template.jinja"):
        assert (tmp_path / "llama" / name).read_bytes() == (demo_dir / "llama" / name).read_bytes(), name


def test_ensure_demo_models_uses_the_demo_dir(demo_dir):
    from playground.demo import ensure_demo_models

    assert ensure_demo_models() == demo_dir
    assert get_model("demo-llama").local_path.parent == demo_dir
