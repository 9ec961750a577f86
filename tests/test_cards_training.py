"""Training summaries: render/parse round trip, and imports that drop secrets and local paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cards import import_training, load_spec_file
from cards.errors import TrainingImportError
from cards.training import Compute, GenerationSettings, Hyperparameters, TrainingSpec, TrainingStage
from cards.training_md import parse_training_md, training_md

FIXTURES = Path(__file__).parent / "fixtures" / "cards"

SPECS = [
    TrainingSpec(
        intro="Intro with a [link](https://example.org).",
        stages=[
            TrainingStage(name="SFT", description="First.\n\n1. a\n2. b", datasets=["org/d1", "squad"],
                          hyperparameters=Hyperparameters(
                              optimizer="Adalite", optimizer_settings={"lambda": 0.01}, learning_rate=1e-5,
                              lr_scheduler="cosine", warmup_ratio=0.2, epochs=2, sequence_length=4096,
                              effective_batch_size=128, precision="bf16", neftune_alpha=10, frozen_embeddings=True,
                              train_on_inputs=False, loss="MixCE", loss_mix={"MixCE ratio": 0.75},
                              extra={"note": "yes", "seed": 3, "flag": True})),
            TrainingStage(name="Rank finetuning", repeat=4,
                          hyperparameters=Hyperparameters(learning_rate=5e-7, steps=300, warmup_steps=10),
                          generation=GenerationSettings(engine="vllm", samples_per_prompt=8, temperature=0.5,
                                                        top_p=0.8, max_new_tokens=512, extra={"min_p": 0.05})),
            TrainingStage(name="Average", description="slerp, weight 0.8"),
        ],
        compute=Compute(hardware="A100 80GB", count=16, duration_hours=336),
    ),
    TrainingSpec(title="How", level=3, stages=[TrainingStage(name="Only")], compute=Compute(gpu_hours=12.5)),
    TrainingSpec(intro="Just words."),
]


@pytest.mark.parametrize("spec", SPECS)
def test_render_parse_round_trip(spec):
    assert parse_training_md(training_md(spec)) == spec


def test_rendering_reads_well():
    md = training_md(SPECS[0])
    assert "### Stage 2: Rank finetuning (×4)" in md
    assert "| Learning rate | 1e-5 | 5e-7 |" in md
    assert "| Loss mix | MixCE ratio=0.75 |  |" in md
    assert "| `note` | \"yes\" |  |" in md  # a string that would read back as a boolean is quoted
    assert "| A100 80GB | 16 | 336 h (14 days) | 5,376 |" in md
    assert "Datasets: [org/d1](https://huggingface.co/datasets/org/d1), [squad](https://huggingface.co/datasets/squad)" in md


@pytest.mark.parametrize(
    "content",
    ["No heading", "## T\n\n### Mystery\n\n| a | b |\n|---|---|\n| x | y |\n",
     "## T\n\n### Hyperparameters\n\n| Hyperparameter | Ghost |\n|---|---|\n| Epochs | 1 |\n",
     "## T\n\n### Stage 1: A\n\n### Hyperparameters\n\n| Hyperparameter | A |\n|---|---|\n| Colour | red |\n"],
)
def test_parse_refuses_other_shapes(content):
    with pytest.raises(ValueError):
        parse_training_md(content)


def test_training_arguments_import_drops_secrets_and_paths():
    text = (FIXTURES / "training_args.json").read_text()
    result = import_training(text, "training_args.json")
    hp = result.hyperparameters
    assert (hp.learning_rate, hp.epochs, hp.lr_scheduler, hp.warmup_ratio, hp.precision) == (2e-5, 3, "cosine", 0.03, "bf16")
    assert (hp.per_device_batch_size, hp.gradient_accumulation_steps, hp.neftune_alpha) == (4, 8, 5)
    assert hp.optimizer == "adamw_torch" and hp.optimizer_settings == {"beta1": 0.9, "beta2": 0.95, "epsilon": 1e-8}
    assert hp.extra == {"max_grad_norm": 1.0, "seed": 42, "gradient_checkpointing": True}
    dumped = json.dumps(hp.model_dump()) + " ".join(result.notes)
    assert "hf_FAKE" not in dumped and "/home/alice" not in dumped
    assert "dropped secret 'hub_token' (value not shown)" in result.notes
    assert "dropped local path or run-specific 'output_dir'" in result.notes


def test_axolotl_import():
    result = import_training((FIXTURES / "axolotl.yml").read_text(), "axolotl.yml")
    hp = result.hyperparameters
    assert (hp.sequence_length, hp.per_device_batch_size, hp.epochs, hp.learning_rate) == (4096, 2, 1, 2e-4)
    assert (hp.warmup_steps, hp.train_on_inputs, hp.precision, hp.optimizer) == (10, False, "bf16", "paged_adamw_32bit")
    assert hp.extra["adapter"] == "qlora" and hp.extra["lora_r"] == 32
    assert result.datasets == ["example-org/writing-prompts"] and result.base_model == "example-org/Lamp-7B"
    assert "dropped secret 'wandb_api_key' (value not shown)" in result.notes
    assert "dropped dataset '/data/private/dump.jsonl': not a Hub dataset id" in result.notes
    assert "0123456789abcdef" not in " ".join(result.notes) + json.dumps(hp.model_dump())


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"max_steps": 500, "num_train_epochs": 3}, {"steps": 500}),
        ({"warmup_steps": 0.05}, {"warmup_ratio": 0.05}),  # transformers 5 puts ratios in warmup_steps
        ({"warmup_steps": 20, "warmup_ratio": 0.1}, {"warmup_steps": 20}),
        ({"fp16": True}, {"precision": "fp16"}),
        ({"learning_rate": "3e-5"}, {"learning_rate": 3e-5}),
        ({"api_key": "sk-secretsecretsecretsecret", "run_name": "/tmp/x"}, {}),
    ],
)
def test_training_arguments_rules(data, expected):
    hp = import_training(json.dumps({"optim": "sgd", **data})).hyperparameters.model_dump(exclude_none=True)
    assert hp == {"optimizer": "sgd", **expected}


@pytest.mark.parametrize(("text", "message"), [("{oops", "not valid JSON"), ("[1]", "expected a mapping"),
                                               ('{"learning_rate": -1}', "settings do not validate"),
                                               ('{"results": {}, "max_length": 2048}', "no training settings found")])
def test_import_errors(text, message):
    with pytest.raises(TrainingImportError, match=message):
        import_training(text, "cfg")


def test_spec_can_name_a_trainer_config(tmp_path):
    (tmp_path / "args.json").write_text((FIXTURES / "training_args.json").read_text())
    (tmp_path / "spec.yaml").write_text(
        "model_name: M\ntraining:\n  stages:\n    - name: SFT\n      hyperparameters_file: args.json\n"
        "      hyperparameters: {learning_rate: 1e-4}\n")
    stage = load_spec_file(tmp_path / "spec.yaml").training.stages[0]
    assert stage.hyperparameters.learning_rate == 1e-4  # the spec wins over the file
    assert stage.hyperparameters.epochs == 3 and stage.hyperparameters_file is None
