"""mergekit configs: method, models in stable order, layer maps, local paths and their likely Hub ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards import build, merge_section
from cards.errors import CardError, MergeConfigError
from cards.hubids import guess_hub_id, is_local_path, model_id_problem
from cards.merge import analyse, layer_summary
from cards.merge_md import merge_md, parse_merge_md

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
OVERLAP = (FIXTURES / "passthrough-overlap.yml").read_text()
INTERLEAVE = "merge_method: passthrough\nslices:\n" + "".join(
    f"- sources:\n  - layer_range: [{s}, {s + 8}]\n    model: /Users/me/Workspace/AetherResearch/Cerebrum-1.0-7b\n"
    for s in range(0, 25, 4)
)
DARE = """models:
  - model: /mnt/models/Mistral-7B-Instruct-v0.2
    parameters: {density: 0.5}
  - model: ./runs/sft-3
merge_method: dare_ties
base_model: /mnt/models/Mistral-7B-v0.1
parameters:
  # normalize: false
dtype: bfloat16
"""
MOE = "base_model: org/base\nexperts:\n  - source_model: org/coder\n  - source_model: org/writer\n"
SLERP = """slices:
  - sources:
      - model: org/a
        layer_range: [0, 32]
      - model: org/b
        layer_range: [0, 32]
merge_method: slerp
base_model: org/a
"""


@pytest.mark.parametrize(
    ("path", "guess"),
    [
        ("/Users/jsarnecki/opt/Workspace/AetherResearch/Cerebrum-1.0-7b", "AetherResearch/Cerebrum-1.0-7b"),
        ("./extra_hdd2/Mixtral-8x7B-Instruct-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1"),
        ("./extra_hdd/Mixtral-8x7B-v0.1-LimaRP-ZLoss", None),
        ("/home/u/.cache/huggingface/hub/models--org--name/snapshots/abc123", "org/name"),
        ("C:\\models\\SomeOrg\\Thing-7B", "SomeOrg/Thing-7B"),
        ("/mnt/models/checkpoints/run-7", None),
        ("~/Mistral-7B-v0.1", "mistralai/Mistral-7B-v0.1"),
    ],
)
def test_guess_hub_id(path, guess):
    assert is_local_path(path)
    assert guess_hub_id(path) == guess


@pytest.mark.parametrize(
    ("value", "problem"),
    [("org/name", None), ("org/name.v2-x_y", None), ("./x", "local path"), ("gpt2", "no organisation"),
     ("https://hf.co/org/m", "is a URL"), ("org/a/b", "local path"), ("org//x", "local path"), ("", "empty"),
     (5, "not a string"), ("bad--name/x", "not an 'org/name' id")],
)
def test_model_id_problem(value, problem):
    found = model_id_problem(value)
    assert (found is None) if problem is None else (problem in found[0])


def test_overlapping_passthrough():
    plan = analyse(OVERLAP)
    assert plan.method == "passthrough" and plan.hub_ids() == ["example-org/Alpha-13B", "example-org/Beta-13B"]
    assert [(r.out_start, r.out_end) for r in plan.slices] == [(0, 30), (30, 45)]
    assert layer_summary(plan) == ("45 output layers from 2 slices: layers 0–29 (30 layers) of example-org/Alpha-13B; "
                                   "layers 25–39 (15 layers) of example-org/Beta-13B.")
    assert plan.findings == ()


def test_interleaved_self_merge_with_path_map():
    path = "/Users/me/Workspace/AetherResearch/Cerebrum-1.0-7b"
    plan = analyse(INTERLEAVE, {path: "AetherResearch/Cerebrum-1.0-7b"})
    assert plan.slices[-1].out_end == 56 and plan.hub_ids() == ["AetherResearch/Cerebrum-1.0-7b"]
    assert "layers 0–31 (32 layers)" in layer_summary(plan) and "24 of them used twice (4–27)" in layer_summary(plan)
    md = merge_md(parse_merge_md(merge_md(_spec(INTERLEAVE, {path: "AetherResearch/Cerebrum-1.0-7b"}))))
    assert f"(config path: `{path}`)" in md and "| 7 | 48–55 | AetherResearch/Cerebrum-1.0-7b | 24–31 |" in md


def _spec(config: str, path_map: dict | None = None):
    """A MergeSpec."""
    from cards.merge import MergeSpec

    return MergeSpec(config=config, path_map=path_map or {})


@pytest.mark.parametrize(
    ("config", "field", "text"),
    [
        (DARE, "models", "'/mnt/models/Mistral-7B-v0.1' is a local path (most likely mistralai/Mistral-7B-v0.1)"),
        (DARE, "models", "'./runs/sft-3' is a local path with no known Hub id"),
        (DARE, "parameters", "only comments"),
        ("models:\n  - model: org/a\n  - model: org/b\nmerge_method: ties\n", "base_model", "ties needs a base_model"),
        ("merge_method: wizardry\nmodels:\n  - model: org/a\n", "merge_method", "unknown merge method 'wizardry'"),
        ("merge_method: slerp\nbase_model: org/a\nslices:\n  - sources:\n    - model: org/a\n      layer_range: [0, 4]\n",
         "slices", "exactly two models"),
        ("slices:\n  - sources:\n    - model: org/a\n      layer_range: [0, 4]\n    - model: org/b\n"
         "      layer_range: [0, 8]\nmerge_method: linear\n", "slices[0]", "different numbers of layers"),
        ("slices:\n  - sources: []\nmerge_method: passthrough\n", "slices[0]", "has no sources"),
        ("merge_method: linear\nmodels: []\n", "models", "names no models"),
    ],
)
def test_findings(config, field, text):
    plan = analyse(config)
    assert any(f.field == field and text in f.problem for f in plan.findings), plan.findings


def test_model_order_is_base_first_then_config_order():
    assert analyse(MOE).hub_ids() == ["org/base", "org/coder", "org/writer"]
    assert analyse(MOE).method == "moe"
    assert analyse("models:\n  - model: org/x+org/lora\nmerge_method: linear\n").hub_ids() == ["org/x", "org/lora"]


@pytest.mark.parametrize("text", ["just text", "a: 1", "- 1\n- 2", "a: [1"])
def test_not_a_config(text):
    with pytest.raises(MergeConfigError):
        analyse(text)


def test_merge_section_api():
    section = merge_section(SLERP)
    assert section.metadata == {"base_model": ["org/a", "org/b"], "base_model_relation": "merge",
                                "tags": ["merge", "mergekit"]}
    assert "[SLERP](https://en.wikipedia.org/wiki/Slerp) merge method, with [org/a]" in section.markdown
    assert "- [org/b](https://huggingface.co/org/b)" in section.markdown
    assert "```yaml\n" + SLERP + "```" in section.markdown


def test_build_refuses_unmapped_local_paths_with_a_fix():
    with pytest.raises(CardError) as err:
        build({"model_name": "M", "merge": {"config": DARE}})
    assert "'/mnt/models/Mistral-7B-v0.1' (likely mistralai/Mistral-7B-v0.1)" in str(err.value)
    assert "merge.path_map" in str(err.value)


def test_build_with_path_map_fills_metadata_and_keeps_tags():
    card = build({"model_name": "M", "metadata": {"tags": ["mergekit", "chat"]}, "merge": {"config": DARE, "path_map": {
        "/mnt/models/Mistral-7B-Instruct-v0.2": "mistralai/Mistral-7B-Instruct-v0.2",
        "./runs/sft-3": "me/sft-3", "/mnt/models/Mistral-7B-v0.1": "mistralai/Mistral-7B-v0.1"}}})
    assert ("tags:\n- mergekit\n- chat\n- merge\nbase_model:\n- mistralai/Mistral-7B-v0.1\n"
            "- mistralai/Mistral-7B-Instruct-v0.2\n- me/sft-3\nbase_model_relation: merge\n") in card
