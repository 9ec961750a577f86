"""The studio's form ⇄ spec data: read form values from plain spec data and write edits back (no gradio).

The spec YAML is the source of truth. ``form_from_data`` reads what the form shows; ``apply_form``
writes back only the fields whose value changed, so everything the form does not show (stage
descriptions, column notes, stderrs, placements...) stays exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ui.studio_data import as_dict, as_items, as_text, mapping_at, put
from ui.studio_tables import (
    BENCH_FIXED,
    Row,
    bench_table,
    clean_rows,
    frame_rows,
    hyper_rows,
    set_bench_table,
    stages_from_rows,
    table_from_frame,
)

NO_CHOICE = "(none)"  # dropdown value for "no prompt format" / "no relation"


@dataclass(frozen=True)
class CardForm:
    """Every value the form shows, normalised (strings stripped of nothing, lists as tuples)."""

    model_name: str = ""
    repo_id: str = ""
    license: str = ""
    license_name: str = ""
    license_link: str = ""
    language: tuple[str, ...] = ()
    pipeline_tag: str = ""
    library_name: str = ""
    tags: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    base_model: tuple[str, ...] = ()
    base_model_relation: str = ""
    summary: str = ""
    training_intro: str = ""
    hyperparameters: tuple[Row, ...] = ()  # (stage, parameter, value)
    prompt_format: str = ""
    merge_config: str = ""
    bench_columns: tuple[str, ...] = ()  # column ids after BENCH_FIXED
    bench_rows: tuple[Row, ...] = ()  # (model, 'yes' or '', value per column)
    limitations: str = ""

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> CardForm:
        """A form from component values in FORM_FIELDS order (the bench table is one value)."""
        named = dict(zip(FORM_FIELDS, values, strict=True))
        bench = named.pop("benchmarks")
        columns, rows = table_from_frame(bench)
        out: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("bench_columns", "bench_rows"):
                continue
            value = named[f.name]
            if f.name == "hyperparameters":
                out[f.name] = clean_rows(frame_rows(value), 3)
            elif f.type.startswith("tuple"):
                out[f.name] = _strings(value)
            else:
                out[f.name] = "" if value in (None, NO_CHOICE) else str(value)
        return cls(**out, bench_columns=tuple(columns[len(BENCH_FIXED):]), bench_rows=rows)

    def values(self) -> list[Any]:
        """Component values in FORM_FIELDS order."""
        out: list[Any] = []
        for name in FORM_FIELDS:
            if name == "benchmarks":
                out.append({"headers": [*BENCH_FIXED, *self.bench_columns], "data": [list(r) for r in self.bench_rows]})
            elif name == "hyperparameters":
                out.append([list(r) for r in self.hyperparameters])
            elif name in ("prompt_format", "base_model_relation"):
                out.append(getattr(self, name) or NO_CHOICE)
            else:
                value = getattr(self, name)
                out.append(list(value) if isinstance(value, tuple) else value)
        return out


# Component order in the tab: the CardForm fields, with the two bench fields as one table.
FORM_FIELDS = tuple(
    "benchmarks" if f.name == "bench_columns" else f.name
    for f in fields(CardForm) if f.name != "bench_rows"
)


def _strings(value: Any) -> tuple[str, ...]:
    """A dropdown's value(s) as a tuple of non-empty strings."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, (list, tuple)) else [value]
    return tuple(str(v).strip() for v in items if v is not None and str(v).strip())


def _limitations(value: Any) -> str:
    """The limitations body (the spec allows a string or {title, body})."""
    return as_text(value.get("body")) if isinstance(value, dict) else as_text(value)


def form_from_data(data: Any) -> CardForm:
    """What the form shows for spec data.

    Args:
        data: the parsed spec YAML (any shape; unknown shapes show as blanks).

    Returns:
        The CardForm.
    """
    data = as_dict(data)
    meta = as_dict(data.get("metadata"))
    columns, rows = bench_table(data.get("benchmarks"))
    prompt = data.get("prompt_format")
    return CardForm(
        model_name=as_text(data.get("model_name")),
        repo_id=as_text(data.get("repo_id")),
        license=as_text(meta.get("license")),
        license_name=as_text(meta.get("license_name")),
        license_link=as_text(meta.get("license_link")),
        language=as_items(meta.get("language")),
        pipeline_tag=as_text(meta.get("pipeline_tag")),
        library_name=as_text(meta.get("library_name")),
        tags=as_items(meta.get("tags")),
        datasets=as_items(meta.get("datasets")),
        base_model=as_items(meta.get("base_model")),
        base_model_relation=as_text(meta.get("base_model_relation")),
        summary=as_text(data.get("summary")),
        training_intro=as_text(as_dict(data.get("training")).get("intro")),
        hyperparameters=hyper_rows(data.get("training")),
        prompt_format=as_text(as_dict(prompt).get("id")) if isinstance(prompt, dict) else as_text(prompt),
        merge_config=as_text(as_dict(data.get("merge")).get("config")),
        bench_columns=columns,
        bench_rows=rows,
        limitations=_limitations(data.get("limitations")),
    )


# ---------------------------------------------------------------- writing


def _set_meta(data: dict, key: str, value: Any) -> None:
    """Set or (for blank values) remove a metadata key; an emptied metadata mapping is removed."""
    meta = mapping_at(data, "metadata")
    if value in ("", (), None):
        meta.pop(key, None)
        if not meta:
            data.pop("metadata")
    else:
        meta[key] = list(value) if isinstance(value, tuple) else value


def _set_optional(data: dict, key: str, value: str) -> None:
    """Set a top-level text key, or remove it when blank."""
    if value.strip():
        put(data, key, value)
    else:
        data.pop(key, None)


def _training_left(training: dict) -> bool:
    """Whether a training mapping still has content (stages, compute or intro)."""
    return bool(training.get("stages") or training.get("compute") or training.get("intro"))


def _set_training_intro(data: dict, value: str) -> None:
    """Set the training intro; a training section left with nothing is removed."""
    training = mapping_at(data, "training")
    if value.strip():
        training["intro"] = value
    else:
        training.pop("intro", None)
        if not _training_left(training):
            data.pop("training")


def _set_hyperparameters(data: dict, rows: tuple[Row, ...]) -> None:
    """Rewrite the training stages from the table; a training section left with nothing is removed."""
    training = mapping_at(data, "training")
    stages = stages_from_rows(rows, training.get("stages"))
    if stages:
        training["stages"] = stages
    else:
        training.pop("stages", None)
        if not _training_left(training):
            data.pop("training")


def _set_prompt_format(data: dict, value: str) -> None:
    """Set the prompt-format id (keeping its examples), or remove the section for none."""
    if not value:
        data.pop("prompt_format", None)
    else:
        mapping_at(data, "prompt_format")["id"] = value


def _set_merge(data: dict, value: str) -> None:
    """Set the merge config text (replacing a config_file), or remove the section when blank."""
    if not value.strip():
        data.pop("merge", None)
        return
    merge = mapping_at(data, "merge")
    merge.pop("config_file", None)
    merge["config"] = value


def _set_limitations(data: dict, value: str) -> None:
    """Set the limitations body (keeping a custom title), or remove it when blank."""
    if not value.strip():
        data.pop("limitations", None)
    elif isinstance(data.get("limitations"), dict):
        data["limitations"]["body"] = value
    else:
        put(data, "limitations", value)


SETTERS: dict[str, Callable[[dict, Any], None]] = {
    "model_name": lambda d, v: put(d, "model_name", v),
    "repo_id": lambda d, v: _set_optional(d, "repo_id", v),
    "summary": lambda d, v: _set_optional(d, "summary", v),
    "training_intro": _set_training_intro,
    "hyperparameters": _set_hyperparameters,
    "prompt_format": _set_prompt_format,
    "merge_config": _set_merge,
    "limitations": _set_limitations,
}
META_KEYS = ("license", "license_name", "license_link", "language", "pipeline_tag", "library_name", "tags",
             "datasets", "base_model", "base_model_relation")


def apply_form(data: Any, form: CardForm) -> dict:
    """Spec data with the form's changed fields written in.

    Args:
        data: the spec data the form was filled from (not changed).
        form: the form's current values.

    Returns:
        New spec data; fields the user did not change keep their exact value and position.
    """
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    before = form_from_data(out)
    if (before.bench_columns, before.bench_rows) != (form.bench_columns, form.bench_rows):
        set_bench_table(out, form.bench_columns, form.bench_rows)
    for name in (f.name for f in fields(CardForm)):
        new = getattr(form, name)
        if name.startswith("bench_") or new == getattr(before, name):
            continue
        if name in META_KEYS:
            _set_meta(out, name, new)
        else:
            SETTERS[name](out, new)
    return out


