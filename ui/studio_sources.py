"""Where a card starts and what flows into it: examples, uploads, trainer configs, lm-eval results (no gradio).

Every function returns new spec data or text plus a short message; failures raise ``StudioInputError``
with a message for the user, so the tab can show it and keep the form as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cards
from cards.errors import CardError
from cards.evals import parse_results
from cards.prompt import skeleton_messages
from cards.safeyaml import decode_text, load_yaml
from playground.errors import LineupError
from playground.formats import get_format, list_formats
from ui.studio_data import put, slug
from ui.studio_view import dump_data

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples" / "cards"
EMPTY = "empty"
EMPTY_LABEL = "Empty card"
EMPTY_SPEC: dict[str, Any] = {
    "spec_version": 1,
    "model_name": "My-Model-7B",
    "repo_id": "my-org/My-Model-7B",
    "metadata": {"license": "apache-2.0", "language": ["en"], "library_name": "transformers",
                 "pipeline_tag": "text-generation"},
    "summary": "One paragraph on what this model is, what it is for, and what it was made from.",
}


class StudioInputError(LineupError, ValueError):
    """An upload or import the studio cannot use; the message says why and what to do."""


@dataclass(frozen=True)
class Loaded:
    """A starting point: spec YAML, the card to diff against (None: the first build), and a note."""

    spec_yaml: str
    original: str | None
    message: str


def example_choices(folder: Path = EXAMPLES_DIR) -> list[tuple[str, str]]:
    """(label, id) pairs for the Start-from picker: the empty card, then the family's example specs."""
    out = [(EMPTY_LABEL, EMPTY)]
    for path in sorted(folder.glob("*.yaml")):
        out.append((f"Example: {path.stem}", path.stem))
    return out


def load_start(choice: str, folder: Path = EXAMPLES_DIR) -> Loaded:
    """The spec for a Start-from choice ('empty' or an example's file stem).

    Args:
        choice: the picker value.
        folder: where the example specs live.

    Returns:
        Loaded; the example's file references (results files, configs) are read and inlined.
    """
    if choice in (None, "", EMPTY):
        return Loaded(dump_data(EMPTY_SPEC), None, "Started an empty card.")
    names = {p.stem: p for p in folder.glob("*.yaml")}
    if choice not in names:
        raise StudioInputError(f"unknown example {choice!r}; examples: {', '.join(sorted(names)) or 'none'}")
    try:
        spec = cards.load_spec_file(names[choice])
    except CardError as exc:
        raise StudioInputError(f"example {choice} does not load: {exc}") from None
    return Loaded(cards.dump_spec(spec), None, f"Loaded the example spec **{choice}**.")


def read_upload(path: str | Path | None, what: str, max_bytes: int) -> str:
    """The text of an uploaded file (UTF-8, size-capped); raises StudioInputError."""
    if not path:
        raise StudioInputError(f"nothing was uploaded as {what}")
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise StudioInputError(f"{what} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
        return decode_text(p.read_bytes(), what)
    except CardError as exc:
        raise StudioInputError(str(exc)) from None
    except OSError as exc:
        raise StudioInputError(f"{what}: cannot read the upload ({exc.strerror})") from None


def import_readme(text: str) -> Loaded:
    """A spec from an existing README.md, through the cards round trip.

    Args:
        text: the README text.

    Returns:
        Loaded with the README as the original (the diff shows what the studio changes).
    """
    try:
        report = cards.import_card_report(text)
    except CardError as exc:
        raise StudioInputError(f"this README cannot be imported: {exc}") from None
    notes = "".join(f"\n- {n}" for n in report.notes)
    return Loaded(cards.dump_spec(report.spec), text, f"Imported the README ({len(text.splitlines())} lines).{notes}")


def import_spec(text: str) -> Loaded:
    """An uploaded spec YAML, kept as typed (a spec that does not validate still loads, with its findings)."""
    try:
        data = load_yaml(text, "uploaded spec")
    except CardError as exc:
        raise StudioInputError(str(exc)) from None
    if not isinstance(data, dict):
        raise StudioInputError("the uploaded spec is not a mapping; a spec starts with 'spec_version: 1' and "
                               "'model_name: ...'")
    return Loaded(text, None, "Loaded the uploaded spec YAML.")


def import_training(data: Any, text: str, source: str, stage: str) -> tuple[dict, str]:
    """Spec data with a trainer config's hyperparameters put into a stage (created when new).

    Args:
        data: the current spec data.
        text: TrainingArguments JSON or axolotl YAML.
        source: the file name, for messages.
        stage: the stage name to fill; typed values already in that stage win.

    Returns:
        (new data, message listing what was dropped).
    """
    try:
        imported = cards.import_training(text, source)
    except CardError as exc:
        raise StudioInputError(str(exc)) from None
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    if not isinstance(out.get("training"), dict):
        put(out, "training", {})
    training = out["training"]
    if not isinstance(training.get("stages"), list):
        training["stages"] = []
    stages = training["stages"]
    name = stage.strip() or "Fine-tuning"
    target = next((s for s in stages if isinstance(s, dict) and s.get("name") == name), None)
    if target is None:
        target = {"name": name}
        stages.append(target)
    given = target.get("hyperparameters") if isinstance(target.get("hyperparameters"), dict) else {}
    target["hyperparameters"] = {**imported.hyperparameters.model_dump(mode="json", exclude_none=True), **given}
    if imported.datasets and not target.get("datasets"):
        target["datasets"] = list(imported.datasets)
    meta = out.get("metadata") if isinstance(out.get("metadata"), dict) else None
    if imported.base_model and (meta is None or not meta.get("base_model")):
        if meta is None:
            put(out, "metadata", {})
            meta = out["metadata"]
        meta["base_model"] = [imported.base_model]
    notes = "".join(f"\n- {n}" for n in imported.notes)
    return out, f"Imported the hyperparameters of **{source}** into stage **{name}**.{notes}"


def metrics_overview(files: dict[str, str]) -> str:
    """Markdown listing each results file's tasks and metrics, so the user can pick headline metrics."""
    lines = []
    for name, text in files.items():
        try:
            run = parse_results(text, name)
        except CardError as exc:
            lines.append(f"- **{name}**: ✖ {exc}")
            continue
        lines.append(f"- **{name}** (model `{run.model}`, lm-eval {run.layout} layout)")
        for task in run.tasks.values():
            if task.parent:
                continue
            head = task.headline()
            metrics = ", ".join(sorted({m.key for m in task.metrics}))
            lines.append(f"  - `{task.task}`: {metrics}" + (f" — shown: `{head.key}`" if head else ""))
    return "\n".join(lines) or "No results files uploaded."


def parse_lines(text: str, sep: str = "=") -> dict[str, str]:
    """'task=metric' lines (or comma-separated) into a mapping; lines without sep are skipped."""
    out = {}
    for part in (text or "").replace(";", "\n").splitlines():
        key, found, value = part.partition(sep)
        if found and key.strip() and value.strip():
            out[key.strip()] = value.strip()
    return out


def split_names(text: str) -> list[str]:
    """Row names, one a line (or comma-separated)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) == 1 and "," in lines[0]:
        lines = [p.strip() for p in lines[0].split(",") if p.strip()]
    return lines


def benchmarks_from_results(data: Any, files: dict[str, str], names: Sequence[str], metrics: dict[str, str],
                            this_model: str | None) -> tuple[dict, list[cards.Finding], str]:
    """Spec data whose benchmarks table comes from lm-eval results files.

    Args:
        data: the current spec data.
        files: {file name: results JSON text}, one table row each.
        names: row names, one per file (empty: the model each file names).
        metrics: task -> 'metric[,filter]' overrides of the headline metric.
        this_model: the row name that is this card's model (its tick), if any.

    Returns:
        (new data, reviewer findings, message).
    """
    if not files:
        raise StudioInputError("upload one or more lm-evaluation-harness results JSON files first")
    if names and len(names) != len(files):
        raise StudioInputError(f"{len(names)} model names for {len(files)} files; give one name per file, in order")
    try:
        table = cards.evals_table(files, names=list(names) or None, headline_metrics=metrics)
    except CardError as exc:
        raise StudioInputError(str(exc)) from None
    bench = table.spec.model_dump(mode="json", exclude_defaults=True)
    ids: dict[str, str] = {}
    for col in bench["columns"]:
        new = slug(col["label"] + (f" {col['shots']}shot" if col.get("shots") is not None else ""), list(ids.values()))
        ids[col["id"]] = new
        col["id"] = new
    for row in bench["rows"]:
        row["values"] = {ids[k]: v for k, v in row.get("values", {}).items()}
        if this_model and row["model"] == this_model:
            row["this_model"] = True
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    put(out, "benchmarks", bench)
    return out, list(table.findings), f"Built the benchmark table from {len(files)} results file(s)."


def add_benchmark_column(data: Any, label: str) -> dict:
    """Spec data with a new, empty benchmark column (and a row for this model when there are none)."""
    label = label.strip()
    if not label:
        raise StudioInputError("type the benchmark's name first (e.g. GSM8K)")
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    bench = out.get("benchmarks") if isinstance(out.get("benchmarks"), dict) else None
    if bench is None:
        put(out, "benchmarks", {"columns": [], "rows": []})
        bench = out["benchmarks"]
    columns = bench.setdefault("columns", [])
    taken = [c.get("id") for c in columns if isinstance(c, dict)]
    columns.append({"id": slug(label, taken), "label": label})
    if not bench.get("rows"):
        bench["rows"] = [{"model": str(out.get("model_name") or "this model"), "this_model": True, "values": {}}]
    return out


def set_merge_config(data: Any, text: str) -> dict:
    """Spec data with the merge config replaced by text (checked to be YAML first)."""
    try:
        load_yaml(text, "mergekit config")
    except CardError as exc:
        raise StudioInputError(str(exc)) from None
    out = copy.deepcopy(data) if isinstance(data, dict) else {"spec_version": 1}
    if not isinstance(out.get("merge"), dict):
        put(out, "merge", {})
    out["merge"].pop("config_file", None)
    out["merge"]["config"] = text
    return out


def format_choices() -> list[tuple[str, str]]:
    """(label, id) pairs of the playground formats a card can document (not the tokenizer's own)."""
    return [(f"{f.label} — {f.id}", f.id) for f in list_formats() if not f.needs_tokenizer]


def format_example(format_id: str | None) -> str:
    """The format's prompt skeleton as the card shows it ('' for no format)."""
    if not format_id:
        return ""
    try:
        fmt = get_format(format_id)
    except LineupError as exc:
        return f"(unknown format: {exc})"
    if fmt.needs_tokenizer:
        return "(this format has no fixed template to document)"
    return fmt.render(skeleton_messages(fmt), add_generation_prompt=True)
