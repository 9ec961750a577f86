"""The `model-index` metadata: built from benchmark data through EvalResult, and checked offline."""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult

from cards.benchmarks import ComparisonSpec, LeaderboardSpec
from cards.refdata import leaderboard, pipeline_tags


def leaderboard_results(spec: LeaderboardSpec, repo_id: str | None) -> list[EvalResult]:
    """One EvalResult per leaderboard score, with the dataset fields the leaderboard bot writes.

    Args:
        spec: the leaderboard scores.
        repo_id: the card's repo, for the source link (the leaderboard's page when unknown).

    Returns:
        EvalResults in table order.
    """
    data = leaderboard()
    table = data["versions"][spec.version]
    url = data["source_url"].format(repo_id=repo_id) if repo_id else data["source_url"].split("?")[0]
    out = []
    for key, value in spec.scores.items():
        b = table[key]
        out.append(EvalResult(
            task_type=data["task_type"], task_name=data["task_name"],
            dataset_name=b["dataset_name"], dataset_type=b["dataset_type"], dataset_config=b.get("config"),
            dataset_split=b.get("split"), dataset_args={"num_few_shot": b["shots"]},
            metric_type=b["metric"], metric_value=value, metric_name=b.get("metric_name"),
            source_name=data["source_name"], source_url=url,
        ))
    return out


def comparison_results(spec: ComparisonSpec) -> list[EvalResult]:
    """EvalResults for the this_model row's cells in columns that name a dataset.

    Args:
        spec: the comparison table.

    Returns:
        EvalResults with values as the table displays them.
    """
    row = next((r for r in spec.rows if r.this_model), None)
    if row is None:
        return []
    out = []
    for col in spec.columns:
        cell = row.cell(col.id)
        if cell is None or not col.dataset:
            continue
        args = {"num_few_shot": col.shots} if isinstance(col.shots, int) else None
        out.append(EvalResult(
            task_type="text-generation", task_name="Text Generation", dataset_name=col.header(),
            dataset_type=col.dataset, dataset_args=args, metric_type=(col.metric or "accuracy").split(",")[0],
            metric_value=round(spec.scaled(col, cell.value), spec.decimals),
        ))
    return out


def model_index_problems(value: Any) -> list[tuple[str, str, str]]:
    """Everything wrong with a model-index value, as (path, problem, fix) triples.

    Args:
        value: the parsed `model-index` metadata.

    Returns:
        Problems the Hub would reject or misdisplay; empty when it is well formed.
    """
    out: list[tuple[str, str, str]] = []
    if not isinstance(value, list) or not value:
        return [("model-index", "must be a non-empty list of {name, results}", "see the model-index spec on the Hub")]
    for i, entry in enumerate(value):
        at = f"model-index[{i}]"
        if not isinstance(entry, dict):
            out.append((at, "is not a mapping", "give {name: ..., results: [...]}"))
            continue
        if not isinstance(entry.get("name"), str) or not entry.get("name"):
            out.append((f"{at}.name", "is missing", "add the model's name"))
        results = entry.get("results")
        if not isinstance(results, list) or not results:
            out.append((f"{at}.results", "is missing or empty", "add at least one {task, dataset, metrics} result"))
            continue
        for j, res in enumerate(results):
            out += _result_problems(res, f"{at}.results[{j}]")
    return out


def _result_problems(res: Any, at: str) -> list[tuple[str, str, str]]:
    """Problems of one model-index result."""
    if not isinstance(res, dict):
        return [(at, "is not a mapping", "give {task, dataset, metrics}")]
    out = []
    for part, keys in (("task", ("type",)), ("dataset", ("type", "name"))):
        block = res.get(part)
        if not isinstance(block, dict):
            out.append((f"{at}.{part}", "is missing", f"add {part}: with {' and '.join(keys)}"))
            continue
        out += [(f"{at}.{part}.{k}", "is missing", f"add {part}.{k}") for k in keys if not block.get(k)]
    task_type = (res.get("task") or {}).get("type") if isinstance(res.get("task"), dict) else None
    if isinstance(task_type, str) and task_type not in pipeline_tags():
        out.append((f"{at}.task.type", f"'{task_type}' is not a Hub task", "use a task id such as text-generation"))
    metrics = res.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        out.append((f"{at}.metrics", "is missing or empty", "add [{type: ..., value: ...}]"))
    else:
        for k, metric in enumerate(metrics):
            where = f"{at}.metrics[{k}]"
            if not isinstance(metric, dict):
                out.append((where, "is not a mapping", "give {type, value}"))
                continue
            if not metric.get("type"):
                out.append((f"{where}.type", "is missing", "add the metric id, e.g. acc"))
            val = metric.get("value")
            if "value" not in metric or val is None:
                out.append((f"{where}.value", "is missing", "add the number"))
            elif isinstance(val, bool) or not isinstance(val, (int, float)):
                out.append((f"{where}.value", f"{val!r} is not a number",
                             "write the number alone (put ± stderr in the card text)"))
    source = res.get("source")
    if source is not None and (not isinstance(source, dict) or not source.get("url")):
        out.append((f"{at}.source", "has no url", "add source.url (the Hub requires it with source.name)"))
    return out
