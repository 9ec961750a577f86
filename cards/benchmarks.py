"""Benchmark data: the comparison table (models × benchmarks) and the Open LLM Leaderboard table.

Numbers typed in a spec are in ``values_in`` units (percent by default); numbers read from
lm-evaluation-harness files are fractions and are converted. Metrics in
``cards.evals.UNSCALED_METRICS`` (perplexity, BLEU, ...) are never scaled and get no % sign.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from cards.evals import UNSCALED_METRICS, EvalRun
from cards.refdata import leaderboard
from cards.specbase import Markdown, Strict

Scale = Literal["percent", "fraction"]


class Cell(Strict):
    """A value with its standard error."""

    value: float
    stderr: float | None = Field(None, ge=0)


class Column(Strict):
    """One benchmark column; the header reads 'label (note, N-shot, metric)'."""

    id: str = Field(min_length=1, description="Key the rows' values use.")
    label: str = Field(min_length=1, description="Benchmark name, e.g. GSM8K.")
    note: str | None = Field(None, description="Variant, e.g. 'English/Nous subset' or 'CoT'.")
    shots: int | str | None = Field(None, description="5 -> '5-shot'; text such as 'few-shot' is shown as is.")
    metric: str | None = Field(None, description="Metric shown in the header, e.g. acc_norm.")
    footnote: Markdown | None = Field(None, description="Shown under the table, marked with * in the header.")
    task: str | None = Field(None, description="lm-eval task whose headline metric fills this column from results files.")
    dataset: str | None = Field(None, description="Hub dataset id; with it, this model's value goes into model-index.")

    @field_validator("shots")
    @classmethod
    def _shots(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and value < 0:
            raise ValueError("shots must be 0 or more")
        return value

    def header(self, marker: str = "") -> str:
        """The column title, with the footnote marker inside a trailing parenthesis."""
        shots = f"{self.shots}-shot" if isinstance(self.shots, int) else self.shots
        parts = [p for p in (self.note, shots, self.metric) if p]
        text = f"{self.label} ({', '.join(parts)})" if parts else self.label
        if marker and text.endswith(")"):
            return f"{text[:-1]}{marker})"
        return text + marker

    @property
    def unscaled(self) -> bool:
        """True for metrics that are not proportions."""
        return (self.metric or "").split(",")[0] in UNSCALED_METRICS


class Row(Strict):
    """One model's row."""

    model: str = Field(min_length=1, description="Display name.")
    link: str | None = Field(None, description="Hub id or URL the name links to.")
    this_model: bool = Field(False, description="The card's own model (its values go into model-index).")
    values: dict[str, float | Cell] = Field(default_factory=dict, description="column id -> value or {value, stderr}.")
    results_file: str | None = Field(None, description="lm-eval results JSON, relative to the spec; read by load_spec_file.")

    def cell(self, column_id: str) -> Cell | None:
        """The row's value for a column as a Cell, or None when blank."""
        v = self.values.get(column_id)
        return Cell(value=v) if isinstance(v, (int, float)) else v


class ComparisonSpec(Strict):
    """A comparison table: models as rows, benchmarks as columns, footnotes under it."""

    title: str = "Benchmarks"
    level: int = Field(2, ge=1, le=4)
    intro: Markdown | None = None
    outro: Markdown | None = Field(None, description="Markdown after the table and footnotes.")
    values_in: Scale = Field("percent", description="Units of the numbers typed in rows' values.")
    display: Scale = "percent"
    percent_sign: bool = Field(False, description="Write 18.8% rather than 18.8.")
    decimals: int = Field(2, ge=0, le=6)
    fixed_decimals: bool = Field(False, description="Always write `decimals` digits (73.40), not as few as needed (73.4).")
    show_stderr: bool = Field(False, description="Write '18.8 ± 1.1' where a stderr is known.")
    headline_metrics: dict[str, str] = Field(default_factory=dict,
                                             description="lm-eval task -> 'metric[,filter]' overriding the rule.")
    columns: list[Column] = Field(min_length=1)
    rows: list[Row] = Field(min_length=1)
    footnotes: list[Markdown] = Field(default_factory=list, description="Notes not tied to one column.")
    model_index: bool = Field(True, description="Put this_model's values for columns with a dataset in model-index.")

    @model_validator(mode="after")
    def _check(self) -> ComparisonSpec:
        ids = [c.id for c in self.columns]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"column ids must be unique: {', '.join(dupes)}")
        for n, row in enumerate(self.rows):
            unknown = [k for k in row.values if k not in ids]
            if unknown:
                raise ValueError(f"rows[{n}] ({row.model}) has values for unknown columns {unknown}; "
                                 f"column ids are {ids}")
        if sum(r.this_model for r in self.rows) > 1:
            raise ValueError("only one row can be this_model")
        if self.percent_sign and self.display != "percent":
            raise ValueError("percent_sign needs display: percent")
        if self.values_in == "fraction":
            for row in self.rows:
                for col in self.columns:
                    cell = row.cell(col.id)
                    if cell and not col.unscaled and not -1 <= cell.value <= 1:
                        raise ValueError(f"{row.model} / {col.id} = {cell.value} is not a fraction; "
                                         "set values_in: percent or divide by 100")
        return self

    def scaled(self, column: Column, value: float, source: Scale | None = None) -> float:
        """A value converted from source units (values_in by default) to display units."""
        src = source or self.values_in
        if column.unscaled or src == self.display:
            return value
        return value * 100 if self.display == "percent" else value / 100

    def fmt(self, column: Column, cell: Cell | None) -> str:
        """The table text for one cell ('' when blank)."""
        if cell is None:
            return ""
        sign = "%" if self.percent_sign and not column.unscaled else ""
        text = self._num(self.scaled(column, cell.value)) + sign
        if self.show_stderr and cell.stderr is not None:
            text += f" ± {self._num(self.scaled(column, cell.stderr))}"
        return text

    def _num(self, value: float) -> str:
        """A rounded number, with fixed or minimal decimals."""
        return f"{value:.{self.decimals}f}" if self.fixed_decimals else _round(value, self.decimals)

    def chart_rows(self) -> list[dict[str, Any]]:
        """Long-form data for charts: one dict per filled cell (benchmark, model, value, stderr)."""
        out = []
        for row in self.rows:
            for col in self.columns:
                cell = row.cell(col.id)
                if cell is not None:
                    out.append({
                        "benchmark": col.header(), "model": row.model,
                        "value": round(self.scaled(col, cell.value), self.decimals),
                        "stderr": round(self.scaled(col, cell.stderr), self.decimals) if cell.stderr is not None else None,
                    })
        return out


def _round(value: float, decimals: int) -> str:
    """A rounded number without trailing zeros ('18.8', '2.05')."""
    from cards.specbase import fmt_num

    return fmt_num(round(value, decimals))


def fill_from_runs(spec: ComparisonSpec, runs: dict[int, EvalRun]) -> ComparisonSpec:
    """Fill blank cells of rows that name a results file, from that file's headline metrics.

    Args:
        spec: the comparison table.
        runs: row index -> parsed results file.

    Returns:
        A new spec whose filled values are in values_in units; typed values win over the file.
    """
    rows = list(spec.rows)
    for index, run in runs.items():
        row = rows[index]
        values = dict(row.values)
        for col in spec.columns:
            task = run.tasks.get(col.task or "")
            if col.id in values or task is None:
                continue
            head = task.headline(spec.headline_metrics.get(task.task))
            if head is None:
                continue
            scale = 1.0 if col.unscaled or spec.values_in == "fraction" else 100.0
            stderr = head.stderr * scale if head.stderr is not None else None
            values[col.id] = Cell(value=head.value * scale, stderr=stderr)
        rows[index] = row.model_copy(update={"values": values, "results_file": None})
    return spec.model_copy(update={"rows": rows})


def comparison_from_runs(
    runs: list[EvalRun],
    names: list[str] | None = None,
    headline_metrics: dict[str, str] | None = None,
    subtasks: bool = False,
) -> ComparisonSpec:
    """A comparison table straight from results files (what `python -m cards evals` prints).

    Args:
        runs: parsed results, one row each.
        names: row names (default: the model named in each file).
        headline_metrics: task -> 'metric[,filter]' overrides.
        subtasks: include tasks that belong to a group.

    Returns:
        A ComparisonSpec in fraction units displayed as percent; one column per (task, shots, metric).
    """
    overrides = headline_metrics or {}
    if names and len(names) != len(runs):
        from cards.errors import CardError

        raise CardError(f"--names gives {len(names)} names for {len(runs)} results files; give one per file")
    columns: dict[tuple, Column] = {}
    rows = []
    for n, run in enumerate(runs):
        values: dict[str, Cell] = {}
        for task in run.tasks.values():
            if task.parent and not subtasks:
                continue
            head = task.headline(overrides.get(task.task))
            if head is None:
                continue
            key = (task.task, task.n_shot, head.key)
            if key not in columns:
                metric = head.metric if head.filter in ("", "none") else f"{head.metric} [{head.filter}]"
                columns[key] = Column(id=f"c{len(columns) + 1}", label=task.alias, shots=task.n_shot,
                                      metric=metric, task=task.task)
            values[columns[key].id] = Cell(value=head.value, stderr=head.stderr)
        rows.append(Row(model=(names[n] if names else run.model), values=values))
    from cards.errors import ResultsError

    if not columns:
        raise ResultsError("the results files have no numeric metrics to tabulate")
    by_id = {c.id: c for c in columns.values()}
    for n, row in enumerate(rows):
        for col_id, cell in row.values.items():
            col = by_id[col_id]
            if isinstance(cell, Cell) and not col.unscaled and not -1 <= cell.value <= 1:
                raise ResultsError(f"{runs[n].source}: {col.task} {col.metric} = {cell.value:g} is not a fraction; "
                                   "lm-evaluation-harness writes scores from 0 to 1: check the file was not edited")
    try:
        return ComparisonSpec(columns=list(columns.values()), rows=rows, values_in="fraction", fixed_decimals=True,
                              headline_metrics=overrides, model_index=False)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ResultsError(f"the results files do not make a table: {problems}") from None


class LeaderboardSpec(Strict):
    """The Open LLM Leaderboard 'Metric | Value' table with Avg., as the leaderboard bot writes it."""

    title: str = "[Open LLM Leaderboard Evaluation Results](https://huggingface.co/spaces/HuggingFaceH4/open_llm_leaderboard)"
    level: int = Field(2, ge=1, le=4)
    version: Literal["v1", "v2"] = "v1"
    details_url: str | None = Field(None, description="Link behind 'Detailed results can be found here'.")
    scores: dict[str, float] = Field(min_length=1, description="Benchmark key -> value in percent, in table order.")
    average: float | None = Field(None, description="Given Avg.; computed from the scores when absent.")
    model_index: bool = Field(True, description="Also write these scores to model-index.")

    @model_validator(mode="after")
    def _check(self) -> LeaderboardSpec:
        table = leaderboard()["versions"][self.version]
        unknown = [k for k in self.scores if k not in table]
        if unknown:
            raise ValueError(f"unknown {self.version} leaderboard benchmarks {unknown}; valid: {list(table)}")
        if self.average is not None and abs(self.average - self.mean()) > 0.05:
            raise ValueError(f"average {self.average} differs from the mean of the scores ({self.mean():.2f}); "
                             "fix it or leave it out to have it computed")
        return self

    def mean(self) -> float:
        """The mean of the scores."""
        return sum(self.scores.values()) / len(self.scores)

    def shown_average(self) -> float:
        """Avg. as shown: the given one, or the mean rounded to 2 decimals."""
        return self.average if self.average is not None else round(self.mean(), 2)
