"""Render the training section as markdown, and read it back (the two are tested as a round trip)."""

from __future__ import annotations

import re
from typing import Any

from cards.hubids import hub_url
from cards.mdtools import find_tables, heading_line, headings, plain, render_table, unescape_cell
from cards.specbase import fmt_mapping, fmt_num, fmt_scalar, parse_mapping, parse_scalar
from cards.training import Compute, GenerationSettings, Hyperparameters, TrainingSpec, TrainingStage

HYPER_LABELS: dict[str, str] = {
    "optimizer": "Optimizer",
    "optimizer_settings": "Optimizer settings",
    "learning_rate": "Learning rate",
    "lr_scheduler": "LR schedule",
    "warmup_ratio": "Warmup ratio",
    "warmup_steps": "Warmup steps",
    "epochs": "Epochs",
    "steps": "Steps",
    "sequence_length": "Sequence length",
    "effective_batch_size": "Effective batch size",
    "per_device_batch_size": "Per-device batch size",
    "gradient_accumulation_steps": "Gradient accumulation",
    "devices": "Devices",
    "weight_decay": "Weight decay",
    "precision": "Precision",
    "neftune_alpha": "NEFTune alpha",
    "frozen_embeddings": "Frozen embeddings",
    "train_on_inputs": "Train on inputs",
    "loss": "Loss",
    "loss_mix": "Loss mix",
}
GENERATION_LABELS: dict[str, str] = {
    "engine": "Engine",
    "samples_per_prompt": "Samples per prompt",
    "temperature": "Temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "max_new_tokens": "Max new tokens",
    "filtering": "Filtering",
}
MAPPING_FIELDS = {"optimizer_settings", "loss_mix"}
STAGE_TITLE = re.compile(r"^Stage (\d+): (.+?)(?: \(×(\d+)\))?$")
SUBSECTIONS = ("Hyperparameters", "Generation settings", "Compute")


def _cell(field: str, value: Any) -> str:
    """One hyperparameter value as table text."""
    return fmt_mapping(value) if field in MAPPING_FIELDS else fmt_scalar(value)


def settings_table(first: str, records: list[tuple[str, Any]], labels: dict[str, str]) -> str:
    """A table with one row per setting and one column per record (stage); blank where unset.

    Args:
        first: the first column's title.
        records: (column title, pydantic record) pairs.
        labels: field -> row label; fields not listed come from each record's `extra`.

    Returns:
        The markdown table.
    """
    rows = []
    for field, label in labels.items():
        values = [getattr(rec, field) for _, rec in records]
        if any(v is not None for v in values):
            rows.append([label] + [_cell(field, v) if v is not None else "" for v in values])
    extra_keys: list[str] = []
    for _, rec in records:
        extra_keys += [k for k in (rec.extra or {}) if k not in extra_keys]
    for key in extra_keys:
        rows.append([f"`{key}`"] + [fmt_scalar((rec.extra or {}).get(key)) for _, rec in records])
    return render_table([first] + [name for name, _ in records], rows)


def parse_settings_table(header: list[str], rows: list[list[str]], labels: dict[str, str]) -> dict[str, dict]:
    """Read back settings_table: column title -> field values (with `extra`)."""
    by_label = {label: field for field, label in labels.items()}
    out: dict[str, dict] = {name: {} for name in header[1:]}
    for row in rows:
        label = unescape_cell(row[0])
        for name, cell in zip(header[1:], row[1:], strict=False):
            text = unescape_cell(cell)
            if not text.strip():
                continue
            if label.startswith("`") and label.endswith("`"):
                out[name].setdefault("extra", {})[label[1:-1]] = parse_scalar(text)
            elif label in by_label:
                field = by_label[label]
                out[name][field] = parse_mapping(text) if field in MAPPING_FIELDS else parse_scalar(text)
            else:
                raise ValueError(f"unknown setting row {label!r}")
    return out


def _duration(hours: float) -> str:
    """'336 h (14 days)'."""
    days = f" ({fmt_num(hours / 24)} days)" if hours >= 48 and hours % 24 == 0 else ""
    return f"{fmt_num(hours)} h{days}"


def compute_md(compute: Compute) -> str:
    """The compute table: hardware, count, duration and GPU-hours."""
    total = compute.total_gpu_hours()
    row = [
        compute.hardware or "",
        fmt_num(compute.count) if compute.count is not None else "",
        _duration(compute.duration_hours) if compute.duration_hours is not None else "",
        f"{total:,.0f}" if total is not None and total >= 100 else (fmt_num(total) if total is not None else ""),
    ]
    return render_table(["Hardware", "Accelerators", "Duration", "GPU-hours"], [row], ["l", "r", "r", "r"])


def parse_compute(row: list[str]) -> Compute:
    """Read back compute_md's row."""
    hardware, count, duration, total = (unescape_cell(c).strip() for c in row[:4])
    data: dict[str, Any] = {}
    if hardware:
        data["hardware"] = hardware
    if count:
        data["count"] = int(count)
    if duration:
        data["duration_hours"] = float(duration.split(" h", 1)[0])
    if total and not (count and duration):
        data["gpu_hours"] = float(total.replace(",", ""))
    return Compute.model_validate(data)


def _stage_md(index: int, stage: TrainingStage, level: int) -> str:
    """One stage: heading, description, datasets."""
    title = f"Stage {index}: {stage.name}" + (f" (×{stage.repeat})" if stage.repeat > 1 else "")
    parts = [heading_line(level, title) + "\n"]
    if stage.description:
        parts.append(stage.description.strip("\n") + "\n")
    if stage.datasets:
        links = ", ".join(f"[{d}]({hub_url(d, 'dataset')})" for d in stage.datasets)
        parts.append(f"Datasets: {links}\n")
    return "\n".join(parts)


def training_md(spec: TrainingSpec) -> str:
    """The whole training section.

    Args:
        spec: the training part of a card spec (files already resolved).

    Returns:
        Markdown starting with the section heading.
    """
    sub = spec.level + 1
    parts = [heading_line(spec.level, spec.title) + "\n"]
    if spec.intro:
        parts.append(spec.intro.strip("\n") + "\n")
    parts += [_stage_md(i, s, sub) for i, s in enumerate(spec.stages, 1)]
    hyper = [(s.name, s.hyperparameters) for s in spec.stages if s.hyperparameters is not None]
    if hyper:
        parts.append(heading_line(sub, "Hyperparameters") + "\n")
        parts.append(settings_table("Hyperparameter", hyper, HYPER_LABELS))
    gen = [(s.name, s.generation) for s in spec.stages if s.generation is not None]
    if gen:
        parts.append(heading_line(sub, "Generation settings") + "\n")
        parts.append(settings_table("Setting", gen, GENERATION_LABELS))
    if spec.compute is not None:
        parts.append(heading_line(sub, "Compute") + "\n")
        parts.append(compute_md(spec.compute))
    return "\n".join(parts)


def _text(lines: list[str]) -> str | None:
    """Lines joined, blank edges removed; None when empty."""
    text = "\n".join(lines).strip("\n")
    return text or None


def parse_training_md(content: str) -> TrainingSpec:
    """Read back training_md's output.

    Args:
        content: the section's markdown (between the managed markers).

    Returns:
        The TrainingSpec; raises ValueError when the text is not in training_md's shape.
    """
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    if not heads or heads[0].index != 0:
        raise ValueError("training section does not start with a heading")
    level, sub = heads[0].level, heads[0].level + 1
    subs = [h for h in heads[1:] if h.level == sub]
    bounds = [h.index for h in subs] + [len(lines)]
    data: dict[str, Any] = {"title": heads[0].title, "level": level, "stages": []}
    intro = _text(lines[1: bounds[0]])
    if intro:
        data["intro"] = intro
    stage_data: dict[str, dict] = {}
    for head, end in zip(subs, bounds[1:], strict=True):
        body = lines[head.index + 1: end]
        m = STAGE_TITLE.match(head.title)
        if m:
            stage: dict[str, Any] = {"name": m.group(2), "repeat": int(m.group(3) or 1)}
            if body and any(b.startswith("Datasets: ") for b in body):
                k = max(i for i, b in enumerate(body) if b.startswith("Datasets: "))
                stage["datasets"] = [plain(x) for x in re.findall(r"\[[^\]]*\]\([^)]*\)", body[k])]
                body = body[:k] + body[k + 1:]
            desc = _text(body)
            if desc:
                stage["description"] = desc
            data["stages"].append(stage)
            stage_data[stage["name"]] = stage
            continue
        tables = find_tables(body)
        if head.title not in SUBSECTIONS or len(tables) != 1:
            raise ValueError(f"unexpected subsection {head.title!r} in the training section")
        table = tables[0]
        if head.title == "Compute":
            data["compute"] = parse_compute(table.rows[0])
            continue
        labels, key, model = (
            (HYPER_LABELS, "hyperparameters", Hyperparameters) if head.title == "Hyperparameters"
            else (GENERATION_LABELS, "generation", GenerationSettings)
        )
        for name, values in parse_settings_table(table.header, table.rows, labels).items():
            if name not in stage_data:
                raise ValueError(f"settings column {name!r} matches no stage")
            stage_data[name][key] = model.model_validate(values)
    return TrainingSpec.model_validate(data)
