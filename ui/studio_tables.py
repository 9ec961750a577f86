"""The studio's two editable tables as plain data: training stages (stage, parameter, value) and benchmarks.

Rows are text tuples as the browser sends them; writing back keeps what a table does not show
(stage descriptions, row links, stderrs) and leaves typos in place for the spec checks to name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cards.specbase import fmt_num, fmt_scalar, parse_scalar
from ui.studio_data import as_dict, as_items, as_list, as_text, mapping_at

HYPER_HEADERS = ["stage", "parameter", "value"]
BENCH_FIXED = ["model", "this model"]
DICT_HYPERPARAMETERS = ("optimizer_settings", "loss_mix", "extra")
STAGE_KEPT = ("description", "hyperparameters_file")  # stage keys the table does not show, kept on write
Row = tuple[str, ...]


def _cell(value: Any) -> str:
    """A table cell as text ('' for None/NaN; booleans as 'yes'/'')."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    return str(value).strip()


def frame_rows(value: Any) -> list[list[Any]]:
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
    for row in clean_rows(frame_rows(value), len(headers)):
        rows.append((row[0], "yes" if row[1].lower() in ("yes", "true", "1", "✓") else "", *row[2:]))
    return headers, tuple(rows)


# ---------------------------------------------------------------- reading



def hyper_rows(training: Any) -> tuple[Row, ...]:
    """The (stage, parameter, value) rows of a training section; one blank row per stage with none."""
    rows: list[Row] = []
    for stage in as_list(as_dict(training).get("stages")):
        stage = as_dict(stage)
        name = as_text(stage.get("name"))
        mine: list[Row] = []
        if "repeat" in stage:
            mine.append((name, "repeat", as_text(stage["repeat"])))
        if stage.get("datasets"):
            mine.append((name, "datasets", ", ".join(as_items(stage["datasets"]))))
        for key, value in as_dict(stage.get("hyperparameters")).items():
            if isinstance(value, dict):
                mine += [(name, f"{key}.{k}", fmt_scalar(v) if _is_scalar(v) else str(v)) for k, v in value.items()]
            else:
                mine.append((name, key, fmt_scalar(value) if _is_scalar(value) else str(value)))
        for key, value in as_dict(stage.get("generation")).items():
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
    bench = as_dict(benchmarks)
    ids = tuple(as_text(as_dict(c).get("id")) for c in as_list(bench.get("columns")))
    rows = []
    for row in as_list(bench.get("rows")):
        row = as_dict(row)
        values = as_dict(row.get("values"))
        cells = tuple(_value_text(values.get(i)) for i in ids)
        rows.append((as_text(row.get("model")), "yes" if row.get("this_model") is True else "", *cells))
    return ids, tuple(rows)


def _value_text(value: Any) -> str:
    """A benchmark value (number or {value, stderr}) as the table shows it."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_num(value)
    return as_text(value)



def stages_from_rows(rows: Sequence[Row], old_stages: Any) -> list[dict]:
    """Training stages from (stage, parameter, value) rows, keeping what the table does not show.

    Args:
        rows: the table rows, in order; a stage's first row fixes its position.
        old_stages: the stages before the edit (matched by name, then by position for renames).

    Returns:
        The stages as plain data.
    """
    old = [as_dict(s) for s in as_list(old_stages)]
    old_by_name = {as_text(s.get("name")): s for s in old}
    names: list[str] = []
    for row in rows:
        if row[0] not in names:
            names.append(row[0])
    parts: dict[str, dict[str, Any]] = {}
    for n, name in enumerate(names):
        before = old_by_name.get(name)
        if before is None and n < len(old) and as_text(old[n].get("name")) not in names:
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
    bench = mapping_at(data, "benchmarks")
    old_columns = {as_text(as_dict(c).get("id")): c for c in as_list(bench.get("columns"))}
    bench["columns"] = [old_columns.get(i) or {"id": i, "label": i} for i in column_ids]
    old_rows = [as_dict(r) for r in as_list(bench.get("rows"))]
    by_model = {as_text(r.get("model")): r for r in old_rows}
    new_rows = []
    for n, row in enumerate(rows):
        model, tick, cells = row[0], row[1], row[2:]
        before = by_model.get(model) or (old_rows[n] if n < len(old_rows) else {})
        out: dict[str, Any] = {"model": model}
        out.update({k: v for k, v in before.items() if k not in ("model", "this_model", "values")})
        if _truthy(tick):
            out["this_model"] = True
        old_values = as_dict(before.get("values"))
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


