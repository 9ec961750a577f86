"""Export a comparison (the engine's replay record) as Markdown, and vet imported records (no gradio)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from playground.catalog import ModelSpec, catalog
from playground.replay import ReplayColumn, ReplayError, ReplayRecord

MAX_RECORD_BYTES = 2 * 1024 * 1024


def _num(value: float | None, fmt: str) -> str:
    """A metric for a table cell, '—' when unknown."""
    return "—" if value is None else format(value, fmt)


def _fence(text: str) -> str:
    """A fenced block that survives backticks inside the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def record_markdown(record: ReplayRecord, title: str = "Lineup comparison") -> str:
    """A readable Markdown report of a side-by-side run: summary table, then each column in full.

    Args:
        record: the replay record of the run.
        title: the top heading.

    Returns:
        Markdown text (prompts and outputs in fenced blocks, exactly as generated).
    """
    cols = sorted(record.columns, key=lambda c: c.column)
    lines = [f"# {title}", "", f"Recorded {record.created_at}" + (" with " + ", ".join(f"{k} {v}" for k, v in record.versions.items()) if record.versions else "") + ".", ""]
    lines += ["| # | model | format | quant | seed | tokens | tok/s | TTFT s | stop |", "|---|---|---|---|---|---|---|---|---|"]
    for c in cols:
        m = c.metrics
        lines.append(
            f"| {c.column + 1} | {_cell(c.model_id)} | `{c.format_id}` | {c.quantization} | {c.seed} | {m.generated_tokens} | "
            f"{_num(m.tokens_per_s, '.1f')} | {_num(m.ttft_s, '.2f')} | {c.stop_reason or '—'} |"
        )
    for c in cols:
        lines += ["", f"## {c.column + 1}. {c.model_id}", ""]
        source = c.repo + (f"@{c.revision}" if c.revision else "") if c.repo else (c.path or (c.endpoint or {}).get("url", ""))
        lines.append(f"- source: `{source}`; format `{c.format_id}` (template {c.template_hash}); {c.quantization} on {c.device or '?'}")
        opts = ", ".join(f"{k}={v}" for k, v in c.options.items() if k not in ("seed",) and v not in (None, [], ()))
        lines.append(f"- options: {opts}; seed {c.seed}")
        lines += ["", "**Prompt**", "", _fence(c.prompt), ""]
        if c.error:
            lines += [f"**Error:** {c.error}"]
            continue
        if c.rationale is not None:
            lines += ["**Rationale**", "", _fence(c.rationale), "", "**Answer**", "", _fence(c.answer or ""), ""]
        else:
            lines += ["**Output**", "", _fence(c.output), ""]
        lines.append(f"Stop reason: {c.stop_reason or '—'}.")
    return "\n".join(lines).rstrip() + "\n"


def catalog_spec(col: ReplayColumn) -> ModelSpec:
    """The catalog entry a recorded column runs on; raises ReplayError for anything outside the catalog.

    An uploaded record must not point the server at arbitrary folders or endpoints, so a column
    runs only when its model id is in the catalog with the same repo, path and endpoint.
    """
    known = catalog().get(col.model_id)
    if known is None:
        raise ReplayError(f"column {col.column + 1}: model {col.model_id!r} is not in this app's catalog; valid ids: {', '.join(catalog())}")
    endpoint = known.endpoint.model_dump() if known.endpoint else None
    if (known.repo, known.path) != (col.repo, col.path) or (endpoint or {}).get("url") != (col.endpoint or {}).get("url"):
        raise ReplayError(f"column {col.column + 1}: model {col.model_id!r} was recorded from a different source than this catalog's entry")
    return known


def read_record(text: str | bytes) -> ReplayRecord:
    """Parse and vet an uploaded replay record (size, JSON, schema, catalog models only)."""
    if isinstance(text, bytes):
        if len(text) > MAX_RECORD_BYTES:
            raise ReplayError(f"the replay record is {len(text):,} bytes; the limit is {MAX_RECORD_BYTES:,}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ReplayError(f"the replay record is not UTF-8 text: {exc}") from None
    if len(text) > MAX_RECORD_BYTES:
        raise ReplayError(f"the replay record is {len(text):,} characters; the limit is {MAX_RECORD_BYTES:,}")
    record = ReplayRecord.from_json(text)
    if not 1 <= len(record.columns) <= 4:
        raise ReplayError(f"a replay record needs 1 to 4 columns, this one has {len(record.columns)}")
    for col in record.columns:
        catalog_spec(col)
    return record


def replay_summary(diffs: Sequence[str]) -> str:
    """One line for the status bar after a replay: identical, or the differences."""
    if not diffs:
        return "replay: every column reproduced the recorded output exactly ✓"
    return "replay: differences from the record — " + "; ".join(diffs)
