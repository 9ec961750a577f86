"""Each seed card is rebuilt from its example spec: golden files, seed metadata and table values, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from golden_util import assert_golden

from cards import build, check, import_card, load_spec_file
from cards.mdtools import split_front_matter
from cards.safeyaml import load_yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "cards"
SCRIBE_DATASETS = [
    "euclaise/TinyCoT", "euclaise/mathoverflow-accepted", "euclaise/reddit-instruct-curated",
    "euclaise/WritingPrompts_curated", "sablo/oasst2_curated", "euclaise/mathqa_programs",
    "BEE-spoke-data/coedit-reworded-deduped", "pszemraj/booksum-short", "euclaise/reddit-instruct", "euclaise/SciCoT",
    "euirim/goodwiki", "neulab/conala", "squad", "ropes", "euclaise/logician", "chargoddard/rpguild", "lemonilia/LimaRP",
]
MEMPHIS_TABLE = [
    "| GSM8K (5-shot) | AGIEval (English/Nous subset, acc_norm) | BIG Bench Hard (CoT, few-shot\\*) |",
    "StableLM 3B Base", "| 2.05% | 25.14% | 36.75% |", "| 18.8% | 27.22% | 36.92% |",
    "\\*5-shot, as performed automatically by LM Evaluation Harness bbh_cot_fewshot even with num_fewshot=0",
]
# seed file -> (metadata the seed card declares, text every rebuilt card must contain)
SEEDS = {
    "memphis-scribe-3b": (
        {"license": "cc-by-4.0", "library_name": "transformers",
         "tags": ["supertrainer2000", "not-for-all-audiences", "writing", "roleplay"], "datasets": SCRIBE_DATASETS,
         "base_model": ["euclaise/Memphis-CoT-3B"], "language": ["en"]},
        [*MEMPHIS_TABLE, "| Memphis-scribe 3B | 9.55% | 24.78% |  |", "ranking loss weight=0.2", "| `weight` |  | 0.8 |",
         "### User:\n[insert instruction here]\n### Assistant:\n[insert response here]\n### User:\n...\n",
         "### System:\n[Insert system message here, focused on roleplay]\n### User:\n"],
    ),
    "memphis-cot-3b": (
        {"license": "cc-by-sa-3.0", "datasets": ["euclaise/TinyCoT", "euclaise/reddit-instruct", "sablo/oasst2_curated"],
         "library_name": "transformers", "tags": ["supertrainer2000"]},
        [*MEMPHIS_TABLE, "| Learning rate | 1e-5 | 5e-7 |", "| Sequence length | 4096 | 1024 |",
         "| Effective batch size | 128 | 128 |", "| Warmup ratio | 0.2 | 0.1 |", "| NEFTune alpha | 10 | 10 |",
         "| Optimizer settings | lambda=0.01 | lambda=0.01 |", "| Loss mix | MixCE ratio=0.75 | rank loss weight=5 |",
         "| Frozen embeddings | yes | yes |", "| Train on inputs | no | no |", "| Epochs | 2 | 1 |",
         "| Samples per prompt | 8 |", "| Temperature | 0.5 |", "| top_p | 0.8 |", "| Max new tokens | 512 |",
         "### Stage 2: Rank finetuning (×4)",
         "### User:\n[insert instruction here]\n### Rationale:\n[insert reasoning here]\n### Answer:\n"
         "[insert direct answer here]\n"],
    ),
    "metharme-7b": (
        {"language": ["en"], "thumbnail": None, "tags": ["text generation", "instruct"],
         "pipeline_tag": "text-generation", "inference": False},
        ["| Avg. | 41.5 |", "| ARC (25-shot) | 53.67 |", "| HellaSwag (10-shot) | 78.62 |", "| MMLU (5-shot) | 35.91 |",
         "| TruthfulQA (0-shot) | 39.16 |", "| Winogrande (5-shot) | 72.53 |", "| GSM8K (5-shot) | 5.0 |",
         "| DROP (3-shot) | 5.62 |",
         "<|system|>This is a text adventure game. Describe the scenario to the user and give him three options to "
         "pick from on each turn.<|user|>Start!<|model|>\n",
         "- Run as fast as you can.<|user|>go inside<|model|>\n"],
    ),
    "cerebrum-1.0-12.25b": (
        # the seed's `base_model: []` is the mergekit bug this spec fixes through merge.path_map
        {"library_name": "transformers", "tags": ["mergekit", "merge"], "license": "apache-2.0",
         "base_model": ["AetherResearch/Cerebrum-1.0-7b"]},
        ["56 output layers from 7 slices: layers 0–31 (32 layers) of AetherResearch/Cerebrum-1.0-7b",
         "| 7 | 48–55 | AetherResearch/Cerebrum-1.0-7b | 24–31 |", "merge_method: passthrough",
         "# s = 56 = 32 + 24 = n + M", "This model was merged using the passthrough merge method.",
         "<s>A chat between a user and a thinking artificial intelligence assistant. The assistant describes its "
         "thought process and gives helpful and detailed answers to the user's questions.\nUser: Are you conscious?\nAI:\n"],
    ),
    "cat-llama3-instruct-70b": (
        {},
        ["| A100 | 16 | 336 h (14 days) | 5,376 |", "| Epochs | 4 |",
         "<|begin_of_text|><|im_start|>system\nThe following is a conversation between an user and a cat",
         "Let's chat and have a fun time together! Nyan!<|im_end|>\n"],
    ),
}


def _card(name: str) -> str:
    """The card built from examples/cards/NAME.yaml."""
    return build(load_spec_file(EXAMPLES / f"{name}.yaml"))


def _metadata(card: str) -> dict:
    """The parsed front matter."""
    fm = split_front_matter(card)
    return load_yaml(fm.yaml_text, "front matter") if fm.yaml_text else {}


def test_every_example_has_a_seed_row():
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == sorted(SEEDS)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_golden(name):
    assert_golden(f"cards/{name}.md", _card(name))


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_metadata_and_table_values_appear(name):
    card = _card(name)
    seed_meta, texts = SEEDS[name]
    meta = _metadata(card)
    for key, value in seed_meta.items():
        assert key in meta, key
        assert meta[key] == value, key
    missing = [t for t in texts if t not in card]
    assert not missing


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_examples_check_without_errors(name):
    assert [f for f in check(_card(name)) if f.severity == "error"] == []


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_import_then_build_reproduces_the_card_exactly(name):
    card = _card(name)
    assert build(import_card(card)) == card


def test_metadata_key_order_follows_the_spec():
    meta = _metadata(_card("memphis-cot-3b"))
    assert list(meta)[:4] == ["license", "datasets", "library_name", "tags"]
    assert list(meta)[4:] == ["base_model", "base_model_relation"]  # implied by the lineage, appended


def test_leaderboard_writes_model_index_with_source():
    meta = _metadata(_card("metharme-7b"))
    results = meta["model-index"][0]["results"]
    assert meta["model-index"][0]["name"] == "metharme-7b"
    assert [r["metrics"][0]["value"] for r in results] == [53.67, 78.62, 35.91, 39.16, 72.53, 5.0, 5.62]
    assert results[0]["source"]["url"].endswith("?query=Neko-Institute-of-Science/metharme-7b")
