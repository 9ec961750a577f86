"""Pure functions for the studio and other callers: text in, text or data out, no file or network I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cards.benchmarks import ComparisonSpec, comparison_from_runs
from cards.benchmarks_md import table_md
from cards.check import check_card
from cards.errors import MergeConfigError
from cards.evals import parse_results
from cards.findings import Finding
from cards.merge import MergeSpec, analyse, find_configs, implied_metadata
from cards.merge_md import merge_md
from cards.render import build_card
from cards.safeyaml import load_yaml
from cards.spec import CardSpec
from cards.specio import parse_spec, resolve_files


@dataclass(frozen=True)
class EvalsTable:
    """A comparison table made from results files."""

    spec: ComparisonSpec
    markdown: str
    rows: list[dict[str, Any]]  # one per model: {"model": ..., header: value, ...}
    chart: list[dict[str, Any]]  # long form: benchmark, model, value, stderr
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class MergeSection:
    """The merge section a mergekit config gives, and the metadata it implies."""

    markdown: str
    metadata: dict[str, Any]
    findings: list[Finding]


def build(spec: CardSpec | Mapping[str, Any] | str, base_dir: str | Path | None = None) -> str:
    """README text from a spec.

    Args:
        spec: a CardSpec, its plain data, or spec YAML text.
        base_dir: folder for files the spec names (config_file, results_file...); None refuses such references.

    Returns:
        The card text.
    """
    if isinstance(spec, str):
        spec = parse_spec(load_yaml(spec, "spec"), "spec")
    elif not isinstance(spec, CardSpec):
        spec = parse_spec(dict(spec), "spec")
    if base_dir is not None:
        spec = resolve_files(spec, Path(base_dir))
    return build_card(spec)


def check(text: str) -> list[Finding]:
    """Findings for a README (severity, field, problem, fix, line)."""
    return check_card(text)


def evals_table(
    results: Sequence[str] | Mapping[str, str],
    names: Sequence[str] | None = None,
    headline_metrics: Mapping[str, str] | None = None,
    subtasks: bool = False,
    show_stderr: bool = False,
) -> EvalsTable:
    """A comparison table straight from lm-evaluation-harness results JSON texts.

    Args:
        results: the JSON texts, or {file name: JSON text}.
        names: one row name per file (default: the model each file names).
        headline_metrics: task -> 'metric[,filter]' to override the headline rule.
        subtasks: include the subtasks of groups.
        show_stderr: write '73.4 ± 1.24'.

    Returns:
        EvalsTable with markdown, per-model rows, chart data and reviewer findings.
    """
    items = list(results.items()) if isinstance(results, Mapping) else [(f"results[{i}]", t) for i, t in enumerate(results)]
    runs = [parse_results(text, name) for name, text in items]
    spec = comparison_from_runs(runs, list(names) if names else None, dict(headline_metrics or {}), subtasks)
    spec = spec.model_copy(update={"show_stderr": show_stderr})
    rows = []
    for row in spec.rows:
        entry: dict[str, Any] = {"model": row.model}
        for col in spec.columns:
            cell = row.cell(col.id)
            entry[col.header()] = round(spec.scaled(col, cell.value), spec.decimals) if cell else None
        rows.append(entry)
    findings = [f for run in runs for f in run.findings] + _shot_mismatches(spec)
    return EvalsTable(spec, table_md(spec), rows, spec.chart_rows(), findings)


def _shot_mismatches(spec: ComparisonSpec) -> list[Finding]:
    """Tasks that appear in several columns because the files ran them differently."""
    out = []
    by_task: dict[str, list[str]] = {}
    for col in spec.columns:
        by_task.setdefault(col.task or col.label, []).append(col.header())
    for task, headers in by_task.items():
        if len(headers) > 1:
            out.append(Finding("warning", f"evals: {task}", f"run differently across files ({'; '.join(headers)})",
                               "compare only like with like; rerun with the same shots and metric"))
    return out


def merge_section(config_text: str, path_map: Mapping[str, str] | None = None) -> MergeSection:
    """The merge section and implied metadata for a mergekit YAML (or a README that contains one).

    Args:
        config_text: the mergekit config, or a model card whose code block holds it.
        path_map: local path -> Hub id for models given as paths.

    Returns:
        MergeSection(markdown, metadata, findings).
    """
    if config_text.lstrip().startswith("---") or "```" in config_text:
        found = find_configs(config_text)
        if not found:
            raise MergeConfigError("this looks like a model card, but none of its code blocks is a mergekit config")
        config_text = found[0][1]
    try:
        spec = MergeSpec(config=config_text, path_map=dict(path_map or {}))
    except ValidationError as exc:
        raise MergeConfigError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None
    plan = analyse(spec.config or "", spec.path_map)
    return MergeSection(merge_md(spec), implied_metadata(plan), list(plan.findings))


def chart_data(spec: CardSpec | ComparisonSpec) -> list[dict[str, Any]]:
    """Long-form benchmark data (benchmark, model, value, stderr) for a chart; [] without benchmarks."""
    table = spec.benchmarks if isinstance(spec, CardSpec) else spec
    return table.chart_rows() if table is not None else []
