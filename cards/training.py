"""Training-summary data: ordered stages, each with a typed hyperparameter record, plus compute."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cards.specbase import Markdown, Scalar, Strict, check_keys

Precision = Literal["fp32", "fp16", "bf16", "tf32", "fp8", "int8", "int4", "mixed"]


class Hyperparameters(Strict):
    """One stage's hyperparameters; anything without a field goes in `extra`."""

    optimizer: str | None = Field(None, description="Optimizer name, e.g. AdamW or Adalite.")
    optimizer_settings: dict[str, Scalar] | None = Field(None, description="Optimizer settings, e.g. {lambda: 0.01}.")
    learning_rate: float | None = Field(None, gt=0, description="Peak learning rate.")
    lr_scheduler: str | None = Field(None, description="Learning-rate schedule, e.g. cosine.")
    warmup_ratio: float | None = Field(None, ge=0, le=1, description="Warmup as a fraction of steps.")
    warmup_steps: int | None = Field(None, ge=0, description="Warmup in optimizer steps.")
    epochs: float | None = Field(None, gt=0, description="Passes over the data.")
    steps: int | None = Field(None, gt=0, description="Optimizer steps (instead of epochs).")
    sequence_length: int | None = Field(None, gt=0, description="Maximum sequence length in tokens.")
    effective_batch_size: int | None = Field(None, gt=0, description="Sequences per optimizer step, all devices.")
    per_device_batch_size: int | None = Field(None, gt=0)
    gradient_accumulation_steps: int | None = Field(None, gt=0)
    devices: int | None = Field(None, gt=0, description="Data-parallel devices.")
    weight_decay: float | None = Field(None, ge=0)
    precision: Precision | None = None
    neftune_alpha: float | None = Field(None, gt=0, description="NEFTune noise alpha.")
    frozen_embeddings: bool | None = None
    train_on_inputs: bool | None = Field(None, description="Whether the loss covers prompt tokens too.")
    loss: str | None = Field(None, description="Loss, e.g. 'MixCE' or 'ranking + cross-entropy'.")
    loss_mix: dict[str, float] | None = Field(None, description="Loss weights, e.g. {MixCE ratio: 0.75}.")
    extra: dict[str, Scalar] | None = Field(None, description="Anything else, shown as given.")

    @field_validator("optimizer_settings", "loss_mix", "extra")
    @classmethod
    def _safe_keys(cls, value: dict[str, Any] | None, info) -> dict[str, Any] | None:
        check_keys(value, info.field_name)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Hyperparameters:
        if self.warmup_ratio is not None and self.warmup_steps is not None:
            raise ValueError("give warmup_ratio or warmup_steps, not both")
        if self.epochs is not None and self.steps is not None:
            raise ValueError("give epochs or steps, not both (steps override epochs in most trainers)")
        parts = (self.per_device_batch_size, self.gradient_accumulation_steps, self.devices)
        if self.effective_batch_size is not None and all(p is not None for p in parts):
            product = parts[0] * parts[1] * parts[2]
            if product != self.effective_batch_size:
                raise ValueError(
                    f"effective_batch_size {self.effective_batch_size} != per_device_batch_size × "
                    f"gradient_accumulation_steps × devices = {product}; fix one of them"
                )
        return self

    def effective_batch(self) -> int | None:
        """The effective batch size, given or computed from its parts."""
        if self.effective_batch_size is not None:
            return self.effective_batch_size
        parts = (self.per_device_batch_size, self.gradient_accumulation_steps, self.devices)
        return parts[0] * parts[1] * parts[2] if all(p is not None for p in parts) else None


class GenerationSettings(Strict):
    """How a stage's self-generated data was sampled."""

    engine: str | None = Field(None, description="e.g. vllm (git version).")
    samples_per_prompt: int | None = Field(None, gt=0, description="N completions per prompt.")
    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, gt=0)
    max_new_tokens: int | None = Field(None, gt=0)
    filtering: str | None = Field(None, description="What was kept or discarded.")
    extra: dict[str, Scalar] | None = None

    @field_validator("extra")
    @classmethod
    def _safe_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        check_keys(value, "extra")
        return value


class Compute(Strict):
    """Hardware and time; GPU-hours follow from count × duration."""

    hardware: str | None = Field(None, description="Accelerator, e.g. A100 80GB.")
    count: int | None = Field(None, gt=0, description="Number of accelerators.")
    duration_hours: float | None = Field(None, gt=0, description="Wall-clock hours (or give duration_days).")
    gpu_hours: float | None = Field(None, gt=0, description="Only when count or duration is unknown.")

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "duration_days" in data:
            days = data.pop("duration_days")
            if data.get("duration_hours") is not None:
                raise ValueError("give duration_hours or duration_days, not both")
            if not isinstance(days, (int, float)) or isinstance(days, bool) or days <= 0:
                raise ValueError("duration_days must be a positive number")
            data["duration_hours"] = days * 24
        count, hours, total = data.get("count"), data.get("duration_hours"), data.get("gpu_hours")
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (count, hours, total))
        if numbers:
            if abs(count * hours - total) > 0.01 * total:
                raise ValueError(f"gpu_hours {total} != count × duration_hours = {count * hours:g}; fix one")
            data.pop("gpu_hours")
        return data

    def total_gpu_hours(self) -> float | None:
        """GPU-hours, given or computed."""
        if self.count is not None and self.duration_hours is not None:
            return self.count * self.duration_hours
        return self.gpu_hours


class TrainingStage(Strict):
    """One step of the recipe, e.g. SFT; `repeat` for rounds (four rounds of rank fine-tuning)."""

    name: str = Field(min_length=1, description="Short name, used as the table column.")
    description: Markdown | None = Field(None, description="Markdown: what this stage did and why.")
    repeat: int = Field(1, ge=1, description="How many times the stage ran.")
    datasets: list[str] | None = Field(None, description="Dataset ids used in this stage.")
    hyperparameters: Hyperparameters | None = None
    hyperparameters_file: str | None = Field(
        None, description="TrainingArguments JSON or axolotl YAML, relative to the spec; read by load_spec_file."
    )
    generation: GenerationSettings | None = Field(None, description="Sampling of self-generated data.")

    @field_validator("name")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "|" in value or value != value.strip():
            raise ValueError("stage name must be one line without '|' or edge spaces")
        return value


class TrainingSpec(Strict):
    """The training section: intro, ordered stages, hyperparameter tables, compute."""

    title: str = "Training procedure"
    level: int = Field(2, ge=1, le=4)
    intro: Markdown | None = Field(None, description="Markdown before the stages.")
    stages: list[TrainingStage] = Field(default_factory=list)
    compute: Compute | None = None

    @model_validator(mode="after")
    def _check(self) -> TrainingSpec:
        names = [s.name for s in self.stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"stage names must be unique (they head table columns): {', '.join(dupes)}")
        if not self.stages and self.compute is None and not self.intro:
            raise ValueError("training is empty; give stages, compute or intro (or remove training)")
        limit = self.level + 1
        for stage in self.stages:
            for text in (stage.description or "").splitlines():
                m = re.match(r"^(#{1,6})\s", text)
                if m and len(m.group(1)) <= limit:
                    raise ValueError(
                        f"stage {stage.name!r} description has a level-{len(m.group(1))} heading, which would "
                        f"split the training section; use level {limit + 1} or deeper"
                    )
        return self
