"""Replay records: everything needed to re-run a generation and check it gives the same outputs.

A record holds, per column, the model (repo + revision or folder), the format id and a hash of its
template, the exact prompt, the sampling options with the seed, the quantization, and the outputs
and metrics. Secrets are never stored: endpoints keep their URL and the *name* of the token variable.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from playground.backends.base import ColumnRequest
from playground.catalog import Endpoint, ModelSpec, catalog
from playground.errors import LineupError
from playground.events import GenerationEvent
from playground.sampling import SamplingOptions

SCHEMA_VERSION = 1


class ReplayError(LineupError, ValueError):
    """A replay record that cannot be read or re-run as recorded."""


class ColumnMetrics(BaseModel):
    """The numbers of one column's run."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = 0
    generated_tokens: int = 0
    ttft_s: float | None = None
    tokens_per_s: float | None = None
    elapsed_s: float = 0.0


class ReplayColumn(BaseModel):
    """One column of a recorded run."""

    model_config = ConfigDict(extra="forbid")

    column: int
    model_id: str
    repo: str | None = None
    revision: str | None = Field(None, description="the commit loaded when known, else the catalog revision")
    path: str | None = None
    endpoint: dict[str, Any] | None = Field(None, description="url, protocol, model, token_env (never a token)")
    architecture: str = "unknown"
    context_length: int = 2048
    format_id: str
    template_hash: str
    messages: list[dict[str, str]]
    prompt: str
    options: dict[str, Any]
    seed: int
    quantization: str
    device: str | None = None
    output: str = ""
    stop_reason: str | None = None
    error: str | None = None
    rationale: str | None = None
    answer: str | None = None
    metrics: ColumnMetrics = Field(default_factory=ColumnMetrics)

    def spec(self) -> ModelSpec:
        """The ModelSpec to re-run with: the catalog entry when it still matches, else rebuilt."""
        known = catalog().get(self.model_id)
        if known is not None and known.repo == self.repo and known.path == self.path and (known.endpoint is not None) == (self.endpoint is not None):
            if self.repo and self.revision and known.revision != self.revision:
                return known.model_copy(update={"revision": self.revision})
            return known
        return ModelSpec(
            id=self.model_id,
            label=f"{self.model_id} (from replay)",
            repo=self.repo,
            revision=self.revision,
            path=self.path,
            endpoint=Endpoint(**self.endpoint) if self.endpoint else None,
            architecture=self.architecture,
            context_length=self.context_length,
            format=self.format_id if self.format_id != "tokenizer" else None,
        )


class ReplayRecord(BaseModel):
    """A whole side-by-side run."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    versions: dict[str, str] = Field(default_factory=dict, description="torch / transformers / bitsandbytes versions")
    columns: list[ReplayColumn]

    def to_json(self, indent: int | None = 2) -> str:
        """The record as JSON text."""
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str) -> ReplayRecord:
        """Parse a record; raises ReplayError saying what is wrong."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ReplayError(f"the replay record is not valid JSON: {exc}") from exc
        except RecursionError:
            raise ReplayError("the replay record is not valid JSON: it is nested too deeply") from None
        if isinstance(data, dict) and data.get("schema_version") not in (None, SCHEMA_VERSION):
            raise ReplayError(f"replay schema_version {data.get('schema_version')!r} is not supported (this Lineup reads {SCHEMA_VERSION})")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ReplayError(f"invalid replay record at {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc

    def save(self, path: str | Path) -> Path:
        """Write the record to a file."""
        path = Path(path)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> ReplayRecord:
        """Read a record from a file."""
        try:
            return cls.from_json(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ReplayError(f"cannot read replay record {path}: {exc.strerror}") from exc


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("torch", "transformers", "bitsandbytes", "accelerate"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


def _endpoint_dict(spec: ModelSpec) -> dict[str, Any] | None:
    if spec.endpoint is None:
        return None
    return spec.endpoint.model_dump()  # url, protocol, token_env (a variable name), model, timeout_s


def build_record(
    requests: Sequence[ColumnRequest],
    finals: Iterable[GenerationEvent],
    pool: Any = None,
) -> ReplayRecord:
    """Make a record from a run's requests and final events.

    Args:
        requests: the columns' requests.
        finals: the final (DONE/ERROR) event of each column.
        pool: the ModelPool the local columns ran in (for the resolved quantization and revision).

    Returns:
        The ReplayRecord.
    """
    by_column = {e.column: e for e in finals}
    cols = []
    for req in requests:
        ev = by_column.get(req.column)
        quant, device, revision = req.quantization, None, req.spec.revision
        if pool is not None and not req.spec.is_remote:
            from playground.loading import resolve_quantization

            quant, device = resolve_quantization(req.quantization, pool.device), pool.device
            loaded = pool.loaded(req.spec, req.quantization)
            if loaded is not None and loaded.revision:
                revision = loaded.revision
        elif req.spec.is_remote:
            quant, device = "remote", "remote"
        cols.append(
            ReplayColumn(
                column=req.column,
                model_id=req.spec.id,
                repo=req.spec.repo,
                revision=revision,
                path=req.spec.path,
                endpoint=_endpoint_dict(req.spec),
                architecture=req.spec.architecture,
                context_length=req.spec.context_length,
                format_id=req.fmt.id,
                template_hash=req.fmt.template_hash,
                messages=[dict(m) for m in req.messages],
                prompt=req.prompt,
                options=req.options.model_dump(mode="json"),
                seed=int(req.options.seed),
                quantization=quant,
                device=device,
                output=ev.text if ev else "",
                stop_reason=str(ev.stop_reason) if ev and ev.stop_reason else None,
                error=ev.error if ev else "no final event",
                rationale=ev.rationale if ev else None,
                answer=ev.answer if ev else None,
                metrics=ColumnMetrics(
                    prompt_tokens=ev.prompt_tokens if ev else 0,
                    generated_tokens=ev.generated_tokens if ev else 0,
                    ttft_s=ev.ttft_s if ev else None,
                    tokens_per_s=ev.tokens_per_s if ev else None,
                    elapsed_s=ev.elapsed_s if ev else 0.0,
                ),
            )
        )
    return ReplayRecord(versions=_versions(), columns=cols)


def request_from_column(col: ReplayColumn) -> ColumnRequest:
    """Rebuild a column's request exactly as recorded (same prompt text, options and seed).

    Raises ReplayError when the format's template changed since the recording.
    """
    from playground.formats import get_format
    from playground.side_by_side import choose_format

    spec = col.spec()
    fmt = choose_format(spec, "tokenizer").format if col.format_id == "tokenizer" else get_format(col.format_id)
    if fmt.template_hash != col.template_hash:
        raise ReplayError(
            f"column {col.column} ({col.model_id}): format {col.format_id!r} has changed since the recording "
            f"(template hash {fmt.template_hash} != {col.template_hash}); the outputs would not be comparable"
        )
    options = SamplingOptions.parse(col.options, seed=col.seed)
    quant = col.quantization if col.quantization != "remote" else "auto"
    return ColumnRequest(col.column, spec, fmt, tuple(col.messages), col.prompt, options, quant)


def replay(record: ReplayRecord, pool: Any = None, cancel: threading.Event | None = None) -> ReplayRecord:
    """Run a record again.

    Args:
        record: the recorded run.
        pool: the ModelPool for local models (default: the process-wide pool).
        cancel: an optional stop flag.

    Returns:
        A new record with this run's outputs and metrics (compare with ``compare``).
    """
    from playground.side_by_side import run_side_by_side

    if pool is None:
        from playground.pool import default_pool

        pool = default_pool()
    requests = [request_from_column(col) for col in record.columns]
    finals = [e for e in run_side_by_side(requests, cancel or threading.Event(), pool) if e.final]
    return build_record(requests, finals, pool)


def compare(a: ReplayRecord, b: ReplayRecord) -> list[str]:
    """Differences in outputs between two runs of the same record (empty when they match)."""
    diffs = []
    cols_b = {c.column: c for c in b.columns}
    for ca in a.columns:
        cb = cols_b.get(ca.column)
        if cb is None:
            diffs.append(f"column {ca.column} ({ca.model_id}) is missing from the second run")
            continue
        if ca.prompt != cb.prompt:
            diffs.append(f"column {ca.column} ({ca.model_id}): the prompts differ")
        if ca.output != cb.output:
            at = next((i for i, (x, y) in enumerate(zip(ca.output, cb.output, strict=False)) if x != y), min(len(ca.output), len(cb.output)))
            diffs.append(f"column {ca.column} ({ca.model_id}): outputs differ from character {at}: {ca.output[at:at + 40]!r} vs {cb.output[at:at + 40]!r}")
        if ca.stop_reason != cb.stop_reason:
            diffs.append(f"column {ca.column} ({ca.model_id}): stop reason {ca.stop_reason} vs {cb.stop_reason}")
    return diffs
