"""Import hyperparameters from a transformers TrainingArguments JSON or an axolotl YAML.

Secrets (tokens, keys, passwords) and local paths are dropped; the notes say which keys went,
never their values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from cards.errors import TrainingImportError
from cards.hubids import is_hub_id, is_local_path
from cards.safeyaml import check_size, load_yaml
from cards.training import Hyperparameters

SECRET_KEY = re.compile(r"(?:^|_)(?:token|secret|password|passwd|api_?key|access_?key|private_?key|credentials?)$",
                        re.IGNORECASE)
SECRET_VALUE = re.compile(r"^(?:hf_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9_-]{20,}|<[A-Z_]*TOKEN>)$")
PATH_KEYS = frozenset({
    "output_dir", "logging_dir", "resume_from_checkpoint", "deepspeed", "dataset_prepared_path", "lora_model_dir",
    "hub_model_id", "run_name", "wandb_project", "wandb_entity", "wandb_name", "wandb_run_id", "wandb_watch",
    "wandb_log_model", "save_safetensors_dir", "fsdp_config", "accelerator_config",
})
# source key -> Hyperparameters field, for each layout
TRAINING_ARGS_FIELDS = {
    "learning_rate": "learning_rate", "lr_scheduler_type": "lr_scheduler", "per_device_train_batch_size":
    "per_device_batch_size", "gradient_accumulation_steps": "gradient_accumulation_steps", "weight_decay":
    "weight_decay", "optim": "optimizer", "neftune_noise_alpha": "neftune_alpha", "max_seq_length":
    "sequence_length", "max_length": "sequence_length",
}
AXOLOTL_FIELDS = {
    "learning_rate": "learning_rate", "lr_scheduler": "lr_scheduler", "micro_batch_size": "per_device_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps", "weight_decay": "weight_decay", "optimizer":
    "optimizer", "neftune_noise_alpha": "neftune_alpha", "sequence_len": "sequence_length", "train_on_inputs":
    "train_on_inputs",
}
OPTIMIZER_SETTINGS = {"adam_beta1": "beta1", "adam_beta2": "beta2", "adam_epsilon": "epsilon"}
EXTRA_KEYS = ("max_grad_norm", "seed", "gradient_checkpointing", "adapter", "lora_r", "lora_alpha", "lora_dropout",
              "lora_target_modules", "lora_target_linear", "sample_packing", "load_in_4bit", "load_in_8bit",
              "flash_attention", "num_train_epochs_ignored")


@dataclass(frozen=True)
class TrainingImport:
    """What a trainer config says, ready for a spec stage."""

    hyperparameters: Hyperparameters
    datasets: list[str] = field(default_factory=list)
    base_model: str | None = None
    notes: list[str] = field(default_factory=list)


def _number(value: Any) -> Any:
    """Numbers written as strings ('2e-5') become numbers."""
    if isinstance(value, str) and re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", value.strip()):
        return float(value) if re.search(r"[.eE]", value) else int(value)
    return value


def _precision(data: dict) -> str | None:
    """bf16/fp16/tf32 flags -> one precision word."""
    for key in ("bf16", "fp16"):
        if data.get(key) in (True, "auto", "true"):
            return key
    if data.get("tf32") is True:
        return "tf32"
    return None


def _scalar_extra(value: Any) -> Any:
    """Extra values must be scalars; lists become comma-separated text."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value if isinstance(value, (str, int, float, bool)) else None


def import_training(text: str, source: str = "training config") -> TrainingImport:
    """Read a TrainingArguments JSON (from `args.to_json_string()`) or an axolotl YAML.

    Args:
        text: the file's text.
        source: a name for messages.

    Returns:
        TrainingImport with typed hyperparameters, Hub datasets, base model and notes on what was dropped.
    """
    check_size(text, source)
    stripped = text.lstrip()
    try:
        data = json.loads(text) if stripped.startswith("{") else load_yaml(text, source)
    except json.JSONDecodeError as exc:
        raise TrainingImportError(f"{source}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise TrainingImportError(f"{source}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise TrainingImportError(f"{source}: expected a mapping of training settings")
    axolotl = any(k in data for k in ("sequence_len", "micro_batch_size", "num_epochs", "base_model", "datasets"))
    notes: list[str] = []
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if SECRET_KEY.search(key) or (isinstance(value, str) and SECRET_VALUE.match(value.strip())):
            if isinstance(value, str) and value:
                notes.append(f"dropped secret '{key}' (value not shown)")
            continue
        if key in PATH_KEYS or (isinstance(value, str) and is_local_path(value) and key != "base_model"):
            if value not in (None, "", False, [], {}):
                notes.append(f"dropped local path or run-specific '{key}'")
            continue
        clean[key] = _number(value)
    table = AXOLOTL_FIELDS if axolotl else TRAINING_ARGS_FIELDS
    hp: dict[str, Any] = {}
    for key, target in table.items():
        if clean.get(key) not in (None, ""):
            hp[target] = clean[key]
    if isinstance(hp.get("lr_scheduler"), str):
        hp["lr_scheduler"] = hp["lr_scheduler"].removeprefix("SchedulerType.").lower()
    if isinstance(hp.get("optimizer"), str):
        hp["optimizer"] = hp["optimizer"].removeprefix("OptimizerNames.").lower()
    if hp.get("weight_decay") == 0 and not axolotl:
        hp.pop("weight_decay")
    if not hp.get("neftune_alpha"):
        hp.pop("neftune_alpha", None)
    steps, ratio = clean.get("warmup_steps") or 0, clean.get("warmup_ratio") or 0
    if isinstance(steps, float) and 0 < steps < 1:  # transformers 5 takes a ratio in warmup_steps
        steps, ratio = 0, steps
    if steps:
        hp["warmup_steps"] = steps
        if ratio:
            notes.append("both warmup_steps and warmup_ratio are set; trainers use warmup_steps, so it is kept")
    elif ratio:
        hp["warmup_ratio"] = ratio
    max_steps = clean.get("max_steps") or 0
    epochs = clean.get("num_epochs" if axolotl else "num_train_epochs")
    if isinstance(max_steps, int) and max_steps > 0:
        hp["steps"] = max_steps
        if epochs:
            notes.append(f"max_steps={max_steps} overrides epochs={epochs}; steps kept")
    elif epochs:
        hp["epochs"] = epochs
    precision = _precision(clean)
    if precision:
        hp["precision"] = precision
    settings = {name: clean[k] for k, name in OPTIMIZER_SETTINGS.items() if isinstance(clean.get(k), (int, float))}
    if settings and str(hp.get("optimizer", "adam")).startswith("adam"):
        hp["optimizer_settings"] = settings
    extra = {k: _scalar_extra(clean[k]) for k in EXTRA_KEYS if clean.get(k) not in (None, False, "", [])}
    extra = {k: v for k, v in extra.items() if v is not None}
    if extra:
        hp["extra"] = extra
    if not hp.keys() & {"learning_rate", "epochs", "steps", "per_device_batch_size", "optimizer", "lr_scheduler"}:
        raise TrainingImportError(f"{source}: no training settings found; give a TrainingArguments JSON "
                                  "(args.to_json_string()) or an axolotl YAML")
    try:
        hyper = Hyperparameters.model_validate(hp)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise TrainingImportError(f"{source}: settings do not validate: {problems}") from None
    datasets = []
    for entry in clean.get("datasets") or []:
        path = entry.get("path") if isinstance(entry, dict) else entry
        if isinstance(path, str) and is_hub_id(path):
            datasets.append(path)
        elif path:
            notes.append(f"dropped dataset '{path}': not a Hub dataset id")
    base = clean.get("base_model") if isinstance(clean.get("base_model"), str) else None
    if base and not is_hub_id(base):
        notes.append(f"base_model '{base}' is not a Hub id; not used")
        base = None
    return TrainingImport(hyper, datasets, base, notes)


def import_hyperparameters(text: str, source: str = "training config") -> tuple[Hyperparameters, list[str]]:
    """Just the hyperparameters and notes of import_training (for a stage's hyperparameters_file)."""
    result = import_training(text, source)
    return result.hyperparameters, result.notes
