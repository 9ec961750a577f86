"""The studio's form ⇄ spec data: read form values from plain spec data and write edits back (no gradio).

The spec YAML is the source of truth. ``form_from_data`` reads what the form shows; ``apply_form``
writes back only the fields whose value changed, so everything the form does not show (stage
descriptions, column notes, stderrs, placements...) stays exactly as it was.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from cards.spec import CardSpec
from cards.specbase import fmt_num, fmt_scalar, parse_scalar

NO_CHOICE = "(none)"  # dropdown value for "no prompt format" / "no relation"
HYPER_HEADERS = ["stage", "parameter", "value"]
BENCH_FIXED = ["model", "this model"]
DICT_HYPERPARAMETERS = ("optimizer_settings", "loss_mix", "extra")
STAGE_KEPT = ("description", "hyperparameters_file")  # stage keys the table does not show, kept on write
TOP_ORDER = tuple(CardSpec.model_fields)
Row = tuple[str, ...]


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
                out[f.name] = clean_rows(_frame_rows(value), 3)
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


def _cell(value: Any) -> str:
    """A table cell as text ('' for None/NaN; booleans as 'yes'/'')."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value).strip()


def _frame_rows(value: Any) -> list[list[Any]]:
    """Rows from a Dataframe value: a list of lists, {'data': ...}, or a pandas DataFrame."""
    if value is None:
        return []
    if hasattr(value, "values") and hasattr(value, "columns"):
        return value.values.tolist()
    if isinstance(value, dict):
        return list(value.get("data") or [])
    return list(value)


def clean_rows(rows: Sequence[Sequence[Any]], width: int) -> tuple[Row, ...]:
    """Rows as text tuples of a fixed width, with all-blank rows dropped."""
    out = []
    for row in rows:
        cells = [_cell(v) for v in list(row)[:width]]
        cells += [""] * (width - len(cells))
        if any(cells):
            out.append(tuple(cells))
    return tuple(out)


def table_from_frame(value: Any) -> tuple[list[str], tuple[Row, ...]]:
    """(headers, rows) of the benchmark table from its component value."""
    if value is None:
        return list(BENCH_FIXED), ()
    if hasattr(value, "columns"):
        headers = [str(c) for c in value.columns]
    elif isinstance(value, dict):
        headers = [str(h) for h in value.get("headers") or BENCH_FIXED]
    else:
        headers = list(BENCH_FIXED)
    if headers[: len(BENCH_FIXED)] != BENCH_FIXED:
        headers = [*BENCH_FIXED, *headers[len(BENCH_FIXED):]]
    rows = []
    for row in clean_rows(_frame_rows(value), len(headers)):
        rows.append((row[0], "yes" if row[1].lower() in ("yes", "true", "1", "✓") else "", *row[2:]))
    return headers, tuple(rows)


# ---------------------------------------------------------------- reading


def _dict(value: Any) -> dict:
    """value if it is a mapping, else {} (the spec may be half-typed)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    """value if it is a list, else []."""
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    """A scalar shown in a text field ('' for None)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else fmt_scalar(value) if isinstance(value, (int, float)) else str(value)


def _items(value: Any) -> tuple[str, ...]:
    """A str-or-list metadata value as a tuple of strings."""
    if value is None:
        return ()
    return tuple(_text(v) for v in (value if isinstance(value, list) else [value]) if v is not None)


def hyper_rows(training: Any) -> tuple[Row, ...]:
    """The (stage, parameter, value) rows of a training section; one blank row per stage with none."""
    rows: list[Row] = []
    for stage in _list(_dict(training).get("stages")):
        stage = _dict(stage)
        name = _text(stage.get("name"))
        mine: list[Row] = []
        if "repeat" in stage:
            mine.append((name, "repeat", _text(stage["repeat"])))
        if stage.get("datasets"):
            mine.append((name, "datasets", ", ".join(_items(stage["datasets"]))))
        for key, value in _dict(stage.get("hyperparameters")).items():
            if isinstance(value, dict):
                mine += [(name, f"{key}.{k}", fmt_scalar(v) if _is_scalar(v) else str(v)) for k, v in value.items()]
            else:
                mine.append((name, key, fmt_scalar(value) if _is_scalar(value) else str(value)))
        for key, value in _dict(stage.get("generation")).items():
            if isinstance(value, dict):
                mine += [(name, f"generation.{key}.{k}", fmt_scalar(v) if _is_scalar(v) else str(v))
                         for k, v in value.items()]
            else:
                mine.append((name, f"generation.{key}", fmt_scalar(value) if _is_scalar(value) else str(value)))
        rows += mine or [(name, "", "")]
    return tuple(rows)


def _is_scalar(value: Any) -> bool:
    """True for the scalars fmt_scalar writes."""
    return value is None or isinstance(value, (str, int, float, bool))


def bench_table(benchmarks: Any) -> tuple[tuple[str, ...], tuple[Row, ...]]:
    """(column ids, rows) of a comparison table as the form shows it."""
    bench = _dict(benchmarks)
    ids = tuple(_text(_dict(c).get("id")) for c in _list(bench.get("columns")))
    rows = []
    for row in _list(bench.get("rows")):
        row = _dict(row)
        values = _dict(row.get("values"))
        cells = tuple(_value_text(values.get(i)) for i in ids)
        rows.append((_text(row.get("model")), "yes" if row.get("this_model") is True else "", *cells))
    return ids, tuple(rows)


def _value_text(value: Any) -> str:
    """A benchmark value (number or {value, stderr}) as the table shows it."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_num(value)
    return _text(value)


def _limitations(value: Any) -> str:
    """The limitations body (the spec allows a string or {title, body})."""
    return _text(value.get("body")) if isinstance(value, dict) else _text(value)


def form_from_data(data: Any) -> CardForm:
    """What the form shows for spec data.

    Args:
        data: the parsed spec YAML (any shape; unknown shapes show as blanks).

    Returns:
        The CardForm.
    """
    data = _dict(data)
    meta = _dict(data.get("metadata"))
    columns, rows = bench_table(data.get("benchmarks"))
    prompt = data.get("prompt_format")
    return CardForm(
        model_name=_text(data.get("model_name")),
        repo_id=_text(data.get("repo_id")),
        license=_text(meta.get("license")),
        license_name=_text(meta.get("license_name")),
        license_link=_text(meta.get("license_link")),
        language=_items(meta.get("language")),
        pipeline_tag=_text(meta.get("pipeline_tag")),
        library_name=_text(meta.get("library_name")),
        tags=_items(meta.get("tags")),
        datasets=_items(meta.get("datasets")),
        base_model=_items(meta.get("base_model")),
        base_model_relation=_text(meta.get("base_model_relation")),
        summary=_text(data.get("summary")),
        training_intro=_text(_dict(data.get("training")).get("intro")),
        hyperparameters=hyper_rows(data.get("training")),
        prompt_format=_text(_dict(prompt).get("id")) if isinstance(prompt, dict) else _text(prompt),
        merge_config=_text(_dict(data.get("merge")).get("config")),
        bench_columns=columns,
        bench_rows=rows,
        limitations=_limitations(data.get("limitations")),
    )


# ---------------------------------------------------------------- writing


def put(data: dict, key: str, value: Any) -> None:
    """Set a top-level key; a new key goes where CardSpec declares it, not at the end."""
    if key in data or key not in TOP_ORDER:
        data[key] = value
        return
    rank = TOP_ORDER.index(key)
    items = list(data.items())
    at = next((i for i, (k, _) in enumerate(items) if k in TOP_ORDER and TOP_ORDER.index(k) > rank), len(items))
    items.insert(at, (key, value))
    data.clear()
    data.update(items)


def _section(data: dict, key: str) -> dict:
    """The mapping under a top-level key, created (in place) when missing or not a mapping."""
    if not isinstance(data.get(key), dict):
        put(data, key, {})
    return data[key]


def _set_meta(data: dict, key: str, value: Any) -> None:
    """Set or (for blank values) remove a metadata key; an emptied metadata mapping is removed."""
    meta = _section(data, "metadata")
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
    training = _section(data, "training")
    if value.strip():
        training["intro"] = value
    else:
        training.pop("intro", None)
        if not _training_left(training):
            data.pop("training")


def stages_from_rows(rows: Sequence[Row], old_stages: Any) -> list[dict]:
    """Training stages from (stage, parameter, value) rows, keeping what the table does not show.

    Args:
        rows: the table rows, in order; a stage's first row fixes its position.
        old_stages: the stages before the edit (matched by name, then by position for renames).

    Returns:
        The stages as plain data.
    """
    old = [_dict(s) for s in _list(old_stages)]
    old_by_name = {_text(s.get("name")): s for s in old}
    names: list[str] = []
    for row in rows:
        if row[0] not in names:
            names.append(row[0])
    parts: dict[str, dict[str, Any]] = {}
    for n, name in enumerate(names):
        before = old_by_name.get(name)
        if before is None and n < len(old) and _text(old[n].get("name")) not in names:
            before = old[n]  # the stage at this position was renamed
        parts[name] = {"kept": {k: before[k] for k in STAGE_KEPT if before and k in before},
                       "stage": {}, "hyper": {}, "generation": {}}
    for name, param, value in rows:
        _put_param(parts[name], param.strip(), value)
    stages = []
    for name in names:
        part = parts[name]
        stage: dict[str, Any] = {"name": name}
        if "description" in part["kept"]:
            stage["description"] = part["kept"]["description"]
        stage.update(part["stage"])
        if part["hyper"]:
            stage["hyperparameters"] = part["hyper"]
        if "hyperparameters_file" in part["kept"]:
            stage["hyperparameters_file"] = part["kept"]["hyperparameters_file"]
        if part["generation"]:
            stage["generation"] = part["generation"]
        stages.append(stage)
    return stages


def _put_param(part: dict[str, dict[str, Any]], param: str, text: str) -> None:
    """Put one table row's parameter into a stage's parts (blank parameters or values are skipped)."""
    if not param or not text.strip():
        return
    if param == "datasets":
        part["stage"]["datasets"] = [d.strip() for d in text.split(",") if d.strip()]
        return
    value = parse_scalar(text)
    if param in ("repeat", "description"):
        part["stage"][param] = value if param == "repeat" else text
        return
    target = part["hyper"]
    if param.startswith("generation."):
        target, param = part["generation"], param.removeprefix("generation.")
    head, dot, tail = param.partition(".")
    if dot and (head in DICT_HYPERPARAMETERS or (target is part["generation"] and head == "extra")):
        target.setdefault(head, {})[tail] = value
    else:
        target[param] = value


def _set_hyperparameters(data: dict, rows: tuple[Row, ...]) -> None:
    """Rewrite the training stages from the table; a training section left with nothing is removed."""
    training = _section(data, "training")
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
        _section(data, "prompt_format")["id"] = value


def _set_merge(data: dict, value: str) -> None:
    """Set the merge config text (replacing a config_file), or remove the section when blank."""
    if not value.strip():
        data.pop("merge", None)
        return
    merge = _section(data, "merge")
    merge.pop("config_file", None)
    merge["config"] = value


def _truthy(text: str) -> bool:
    """A 'this model' cell that is ticked."""
    return text.strip().lower() in ("yes", "true", "1", "✓", "x")


def set_bench_table(data: dict, column_ids: Sequence[str], rows: Sequence[Row]) -> None:
    """Write the benchmark table back: typed values, row names and the this-model tick.

    Args:
        data: the spec data (changed in place).
        column_ids: column ids in table order (an unknown id becomes a new column labelled by it).
        rows: (model, tick, value per column) rows.
    """
    if not rows and not column_ids:
        data.pop("benchmarks", None)
        return
    bench = _section(data, "benchmarks")
    old_columns = {_text(_dict(c).get("id")): c for c in _list(bench.get("columns"))}
    bench["columns"] = [old_columns.get(i) or {"id": i, "label": i} for i in column_ids]
    old_rows = [_dict(r) for r in _list(bench.get("rows"))]
    by_model = {_text(r.get("model")): r for r in old_rows}
    new_rows = []
    for n, row in enumerate(rows):
        model, tick, cells = row[0], row[1], row[2:]
        before = by_model.get(model) or (old_rows[n] if n < len(old_rows) else {})
        out: dict[str, Any] = {"model": model}
        out.update({k: v for k, v in before.items() if k not in ("model", "this_model", "values")})
        if _truthy(tick):
            out["this_model"] = True
        old_values = _dict(before.get("values"))
        values: dict[str, Any] = {}
        for col, text in zip(column_ids, cells, strict=False):
            if not text.strip():
                continue
            previous = old_values.get(col)
            if previous is not None and _value_text(previous) == text.strip():
                values[col] = previous  # unchanged: keep its stderr and exact value
            else:
                parsed = parse_scalar(text)
                values[col] = parsed if isinstance(parsed, (int, float)) and not isinstance(parsed, bool) else text
        out["values"] = values
        new_rows.append(out)
    bench["rows"] = new_rows


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


def slug(text: str, taken: Sequence[str] = ()) -> str:
    """A short column id from a label ('GSM8K (5-shot)' -> 'gsm8k_5_shot'), unique among taken."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "col"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    return out
