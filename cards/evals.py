"""Read lm-evaluation-harness results (0.3 and 0.4.x layouts) and pick one headline metric per task.

Headline rule, in order:
1. an override for the task (``{"gsm8k": "exact_match,flexible-extract"}``; the filter is optional);
2. the first metric of ``HEADLINE_METRICS`` the task reports: length-normalised accuracy before plain
   accuracy (what the Open LLM Leaderboard and the family's cards report), then exact match, mc2, f1, ...;
   among filters, ``FILTER_PREFERENCE`` order (strict-match before flexible-extract);
3. otherwise the first numeric metric in the file.
Values stay as the harness wrote them (fractions); tables convert to percent when they display.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cards.errors import ResultsError
from cards.findings import Finding
from cards.safeyaml import check_size, read_text

HEADLINE_METRICS = (
    "acc_norm", "acc", "exact_match", "mc2", "prompt_level_strict_acc", "inst_level_strict_acc", "f1", "em",
    "mcc", "mc1", "pass@1", "bleu", "rougeL", "chrf", "word_perplexity", "perplexity",
)
FILTER_PREFERENCE = ("none", "strict-match", "get-answer", "remove_whitespace", "flexible-extract")
# Metrics that are not proportions: never shown as percent.
UNSCALED_METRICS = frozenset({
    "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "bleu", "chrf", "ter", "rouge1",
    "rouge2", "rougeL", "rougeLsum",
})
LOWER_IS_BETTER = frozenset({"perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte", "ter"})
CHANCE_LEVEL = {"mcc": 0.0}  # metrics whose chance value is known whatever the task
# lm-eval task -> Open LLM Leaderboard v1 key, to flag shot counts that differ from the leaderboard's.
LEADERBOARD_TASKS = {
    "arc_challenge": "arc", "hellaswag": "hellaswag", "mmlu": "mmlu", "truthfulqa_mc2": "truthfulqa",
    "winogrande": "winogrande", "gsm8k": "gsm8k",
}


@dataclass(frozen=True)
class MetricValue:
    """One metric of one task."""

    metric: str
    filter: str  # '' in the 0.3 layout
    value: float
    stderr: float | None

    @property
    def key(self) -> str:
        """'metric,filter' as the 0.4 layout writes it ('metric' when there is no filter)."""
        return f"{self.metric},{self.filter}" if self.filter else self.metric


@dataclass(frozen=True)
class TaskResult:
    """One task or group of a results file."""

    task: str
    alias: str
    n_shot: int | None
    is_group: bool
    parent: str | None
    metrics: tuple[MetricValue, ...]
    samples: tuple[int, int] | None = None  # (original, effective)

    def find(self, spec: str) -> MetricValue | None:
        """The metric named 'metric' or 'metric,filter', or None."""
        name, _, filt = spec.partition(",")
        matches = [m for m in self.metrics if m.metric == name and (not filt or m.filter == filt)]
        return _best_filter(matches)

    def headline(self, override: str | None = None) -> MetricValue | None:
        """The metric a table shows for this task (see the module docstring for the rule).

        Args:
            override: 'metric' or 'metric,filter' to use instead of the rule.

        Returns:
            The chosen metric, or None when the task has no numeric metric (or lacks the override).
        """
        if override:
            return self.find(override)
        for name in HEADLINE_METRICS:
            found = self.find(name)
            if found:
                return found
        return self.metrics[0] if self.metrics else None


def _best_filter(matches: list[MetricValue]) -> MetricValue | None:
    """The match whose filter comes first in FILTER_PREFERENCE (unknown filters after, in file order)."""
    if not matches:
        return None
    rank = {f: i for i, f in enumerate(FILTER_PREFERENCE)}
    return min(matches, key=lambda m: rank.get(m.filter, len(rank)) if m.filter else -1)


@dataclass(frozen=True)
class EvalRun:
    """A parsed results file."""

    model: str
    source: str
    layout: str  # '0.3' or '0.4'
    tasks: dict[str, TaskResult]
    limit: float | None = None
    findings: tuple[Finding, ...] = field(default=())


def _number(value: Any) -> float | None:
    """A finite float, or None for 'N/A', null, strings and NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _model_name(data: dict, fallback: str) -> str:
    """The model named by the results file (model_name, or pretrained= in model_args)."""
    if isinstance(data.get("model_name"), str) and data["model_name"]:
        return data["model_name"]
    config = data.get("config")
    args = config.get("model_args") if isinstance(config, dict) else None
    if isinstance(args, dict) and isinstance(args.get("pretrained"), str):
        return args["pretrained"]
    if isinstance(args, str):
        m = re.search(r"(?:^|,)pretrained=([^,]+)", args)
        if m:
            return m.group(1)
    return fallback


def _metrics(entry: dict, layout: str) -> tuple[MetricValue, ...]:
    """The numeric metrics of one results entry, in file order, with their stderr."""
    out = []
    for key, raw in entry.items():
        if key == "alias" or not isinstance(key, str):
            continue
        name, sep, filt = key.partition(",")
        if name.endswith("_stderr") or (layout == "0.4" and not sep):
            continue
        value = _number(raw)
        if value is None:
            continue
        stderr_key = f"{name}_stderr,{filt}" if layout == "0.4" else f"{name}_stderr"
        out.append(MetricValue(name, filt, value, _number(entry.get(stderr_key))))
    return tuple(out)


def parse_results(text: str, source: str = "results.json") -> EvalRun:
    """Parse one lm-evaluation-harness results JSON.

    Args:
        text: the file's text.
        source: a name for messages (usually the file name).

    Returns:
        The EvalRun with its reviewer findings; raises ResultsError for files that are not results.
    """
    check_size(text, source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (this looks like a per-sample .jsonl log, not the results file)" if text.lstrip().startswith("{") \
            and "\n{" in text.strip() else ""
        raise ResultsError(f"{source}: not valid JSON at line {exc.lineno}: {exc.msg}{hint}") from None
    except RecursionError:
        raise ResultsError(f"{source}: JSON nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or not data["results"]:
        raise ResultsError(f"{source}: no 'results' object; give the results_*.json that lm-evaluation-harness writes")
    results: dict[str, Any] = data["results"]
    layout = "0.4" if any("," in k for e in results.values() if isinstance(e, dict) for k in e) else "0.3"
    n_shot = data.get("n-shot") if isinstance(data.get("n-shot"), dict) else {}
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    groups = data.get("groups") if isinstance(data.get("groups"), dict) else {}
    subtasks = data.get("group_subtasks") if isinstance(data.get("group_subtasks"), dict) else {}
    parent = {child: grp for grp, children in subtasks.items() if isinstance(children, list) for child in children
              if isinstance(child, str)}
    samples = data.get("n-samples") if isinstance(data.get("n-samples"), dict) else {}
    tasks: dict[str, TaskResult] = {}
    for name, entry in results.items():
        if not isinstance(entry, dict):
            continue
        shots = n_shot.get(name, config.get("num_fewshot"))
        s = samples.get(name) if isinstance(samples.get(name), dict) else None
        tasks[name] = TaskResult(
            task=name,
            alias=str(entry.get("alias", name)).strip().removeprefix("- ").strip() or name,
            n_shot=shots if isinstance(shots, int) and not isinstance(shots, bool) and shots >= 0 else None,
            is_group=name in groups or bool(subtasks.get(name)),
            parent=parent.get(name),
            metrics=_metrics(entry, layout),
            samples=(s["original"], s["effective"]) if s and all(isinstance(s.get(k), int) for k in
                                                                   ("original", "effective")) else None,
        )
    limit = _number(config.get("limit"))
    run = EvalRun(_model_name(data, Path(source).stem), source, layout, tasks, limit)
    return EvalRun(run.model, run.source, run.layout, run.tasks, run.limit, tuple(review_run(run, subtasks)))


def load_results(path: str | Path) -> EvalRun:
    """Read and parse a results file (5 MB cap)."""
    return parse_results(read_text(path), Path(path).name)


def review_run(run: EvalRun, subtasks: dict[str, Any] | None = None) -> list[Finding]:
    """What a careful reviewer would say about a results file before its numbers go in a card.

    Args:
        run: the parsed results.
        subtasks: the file's group_subtasks mapping, to judge group averages.

    Returns:
        Findings (warnings and notes; results files have no hard errors once they parse).
    """
    out: list[Finding] = []
    src = run.source
    if run.limit is not None:
        out.append(Finding("warning", f"{src}: config.limit", f"evaluated on a subset (limit={run.limit:g})",
                           "rerun without --limit before publishing these numbers"))
    for task in run.tasks.values():
        where = f"{src}: {task.task}"
        if not task.metrics:
            out.append(Finding("warning", where, "no numeric metric", "check the task ran; it is left out"))
            continue
        if task.samples and task.samples[1] < task.samples[0]:
            out.append(Finding("warning", where, f"scored {task.samples[1]} of {task.samples[0]} documents",
                               "rerun on the full split"))
        head = task.headline()
        if head and head.stderr is None and any(m.metric == head.metric for m in task.metrics):
            out.append(Finding("info", where, f"{head.key} has no stderr (written as N/A)",
                               "show it without ± or rerun with bootstrap_iters > 0"))
        for m in () if task.is_group else task.metrics:
            chance = CHANCE_LEVEL.get(m.metric)
            if chance is not None and m.stderr is not None and abs(m.value - chance) < 2 * m.stderr:
                out.append(Finding("warning", where,
                                   f"{m.metric} {m.value:.4f} ± {m.stderr:.4f} is within 2 stderr of chance ({chance:g})",
                                   "do not read this score as skill; the model is at chance on this task"))
        board = LEADERBOARD_TASKS.get(task.task)
        if board and task.n_shot is not None:
            from cards.refdata import leaderboard

            shots = leaderboard()["versions"]["v1"][board]["shots"]
            if shots != task.n_shot:
                out.append(Finding("info", where,
                                   f"run {task.n_shot}-shot; the Open LLM Leaderboard uses {shots}-shot",
                                   "label the shots in the table and do not compare with leaderboard values"))
    for group, listed in (subtasks or {}).items():
        children = [c for c in listed if isinstance(c, str)] if isinstance(listed, list) else []
        if not children or group not in run.tasks:
            continue
        for m in run.tasks[group].metrics:
            have = [c for c in children if c in run.tasks and run.tasks[c].find(m.metric)]
            if 0 < len(have) < len(children):
                out.append(Finding(
                    "warning", f"{src}: {group}",
                    f"group {m.metric} averages only {len(have)} of {len(children)} subtasks ({', '.join(sorted(have))})",
                    f"report the subtasks, or label it '{group} ({m.metric}, {len(have)} of {len(children)} tasks)'",
                ))
    return out
