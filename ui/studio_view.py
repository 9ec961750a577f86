"""Spec YAML -> everything the studio shows: README, findings, sanitised preview, diff, chart (no gradio).

Every step goes through ``cards``; a YAML or spec error becomes an error finding (with its line
where one is known) instead of an exception, so a half-typed spec never breaks the page.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

import cards
from cards.errors import CardError, SpecError, YamlError
from cards.findings import has_errors, sort_findings
from cards.safeyaml import dump_yaml, load_yaml

log = logging.getLogger("lineup.studio")
SPEC_SOURCE = "spec YAML"
FINDING_HEADERS = ["severity", "field", "line", "problem", "fix"]
SEVERITY_ICONS = {"error": "✖ error", "warning": "⚠ warning", "info": "ℹ info"}
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_UNKNOWN_KEY = re.compile(r"^unknown key '([^']+)' in ([^\s;]+)")


@dataclass(frozen=True)
class StudioView:
    """The result of one render of the spec."""

    data: Any  # the parsed YAML (None when it does not parse)
    readme: str | None  # None when the spec cannot be built
    findings: list[cards.Finding] = field(default_factory=list)
    preview_html: str | None = None
    diff: str = ""
    chart: list[dict[str, Any]] = field(default_factory=list)
    yaml_ok: bool = True

    @property
    def line_source(self) -> str:
        """What finding lines count in: the README once one is built, else the spec YAML."""
        return "README" if self.readme is not None else "spec"

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(f.severity == "warning" for f in self.findings)

    def can_download(self, override: bool) -> bool:
        """README download allowed: a README exists, and it has no errors or they are overridden."""
        return self.readme is not None and (override or not has_errors(self.findings))


def parse_yaml(text: str) -> tuple[Any, cards.Finding | None]:
    """(data, None) for YAML that parses, else (None, an error finding with the line)."""
    try:
        return load_yaml(text or "", SPEC_SOURCE), None
    except YamlError as exc:
        return None, cards.Finding("error", SPEC_SOURCE, exc.problem, exc.fix or "fix the YAML syntax", exc.line)
    except CardError as exc:
        return None, cards.Finding("error", SPEC_SOURCE, str(exc), "shorten the spec", None)


def field_line(text: str, path: str) -> int | None:
    """The 1-based line of a dotted spec path ('training.stages[0].name') in YAML text, if found."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    line = None
    for key, index in _PATH_PART.findall(path):
        if isinstance(node, yaml.MappingNode) and key:
            match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def spec_findings(text: str, exc: SpecError) -> list[cards.Finding]:
    """One error finding per spec problem, naming the field and, where found, its line."""
    out = []
    for problem in exc.problems:
        where, sep, rest = problem.partition(": ")
        unknown = _UNKNOWN_KEY.match(problem)
        if unknown:
            parent = "" if unknown.group(2) == "(top" else unknown.group(2) + "."
            path = parent + unknown.group(1)
            out.append(cards.Finding("error", path, problem, "rename or remove the key", field_line(text, path)))
        elif sep and " " not in where:
            out.append(cards.Finding("error", where, rest, "correct this field in the form or the spec YAML",
                                     field_line(text, where)))
        else:
            out.append(cards.Finding("error", "spec", problem, "correct the spec YAML", None))
    return out


_TYPE_TAGS = {"float", "int", "str", "bool", "list", "dict", "Cell", "list[str]", "function-after[<lambda>(), str]"}


def _merge_union_branches(findings: list[cards.Finding]) -> list[cards.Finding]:
    """One finding per field where pydantic reported each branch of a union ('x.float', 'x.Cell')."""
    out: dict[tuple[str, int | None], cards.Finding] = {}
    for f in findings:
        head, dot, tail = f.field.rpartition(".")
        key = (head if dot and tail in _TYPE_TAGS else f.field, f.line)
        if key in out:
            prev = out[key]
            out[key] = cards.Finding(prev.severity, key[0], f"{prev.problem}, or {f.problem.lower()}", prev.fix, prev.line)
        else:
            out[key] = cards.Finding(f.severity, key[0], f.problem, f.fix, f.line)
    return list(out.values())


def render_view(spec_yaml: str, original: str | None = None) -> StudioView:
    """Render the spec YAML into everything the studio shows.

    Args:
        spec_yaml: the spec as the user typed it.
        original: the card the user started from (imported README); the diff is against it.

    Returns:
        A StudioView; errors are findings, never exceptions.
    """
    try:
        return _render(spec_yaml, original)
    except Exception:  # a bug must not break the page: say so in the findings, keep the typed spec
        log.exception("studio render failed")
        data, _ = parse_yaml(spec_yaml)
        return StudioView(data, None, [cards.Finding(
            "error", "spec", "the studio could not render this spec (an internal error; the server log has the details)",
            "simplify the part you changed last, and please report it")])


def _render(spec_yaml: str, original: str | None) -> StudioView:
    """render_view without the last-resort guard."""
    data, problem = parse_yaml(spec_yaml)
    if problem is not None:
        return StudioView(None, None, [problem], yaml_ok=False)
    try:
        spec = cards.load_spec(spec_yaml, SPEC_SOURCE)
    except SpecError as exc:
        return StudioView(data, None, _merge_union_branches(spec_findings(spec_yaml, exc)))
    except CardError as exc:
        return StudioView(data, None, [cards.Finding("error", "spec", str(exc), "correct the spec YAML")])
    try:
        readme = cards.build(spec)
    except CardError as exc:
        fix = "correct the spec YAML"
        if "not read" in str(exc):
            fix = "paste the file contents into the spec (upload them in the form) instead of naming files"
        return StudioView(data, None, [cards.Finding("error", "spec", str(exc), fix)])
    findings = sort_findings(cards.check(readme))
    diff = cards.diff_cards(original, readme, "original/README.md", "studio/README.md") if original else ""
    return StudioView(data, readme, findings, cards.render_preview(readme), diff, cards.chart_data(spec))


def findings_label(where: str) -> str:
    """The validation table's label, saying what its line numbers count in."""
    return f"Validation (cards check) — lines are {'README.md' if where == 'README' else 'spec YAML'} lines"


def finding_rows(findings: list[cards.Finding]) -> list[list[str]]:
    """Rows for the validation table: severity, field, line, problem, fix."""
    return [[SEVERITY_ICONS.get(f.severity, f.severity), f.field, "" if f.line is None else str(f.line),
             f.problem, f.fix] for f in findings]


def findings_json(findings: list[cards.Finding]) -> str:
    """Findings as a JSON list of {severity, field, problem, fix, line}."""
    return json.dumps([f.as_dict() for f in findings], ensure_ascii=False)


def summary_md(view: StudioView, override: bool) -> str:
    """The one-line verdict above the findings table."""
    if not view.yaml_ok:
        return "✖ **The spec YAML does not parse** — the form keeps its last values; fix the YAML (see the line below)."
    if view.readme is None:
        return f"✖ **The spec has {view.errors} problem(s)** — no README can be built until they are fixed."
    counts = f"{view.errors} error(s), {view.warnings} warning(s)"
    if view.errors and override:
        return f"⚠ **{counts}** — download allowed because *override errors* is ticked; the Hub may reject this card."
    if view.errors:
        return f"✖ **{counts}** — download is blocked until they are fixed (or tick *override errors*)."
    if view.warnings:
        return f"✔ **No errors**, {view.warnings} warning(s) worth a look."
    return "✔ **No problems found** — `cards check` passes."


def chart_rows(chart: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chart rows with a unique bar label ('GSM8K · model'), in table order so bars group by benchmark."""
    benches = list(dict.fromkeys(r["benchmark"] for r in chart))
    models = list(dict.fromkeys(r["model"] for r in chart))
    names = [b.split(" (", 1)[0] for b in benches]
    short = {b: n if names.count(n) == 1 else b for b, n in zip(benches, names, strict=True)}  # clashes: full header
    rows = sorted(chart, key=lambda r: (benches.index(r["benchmark"]), models.index(r["model"])))
    return [{"bar": f"{short[r['benchmark']]} · {r['model']}", "benchmark": r["benchmark"], "model": r["model"],
             "value": r["value"]} for r in rows]


def dump_data(data: Any) -> str:
    """Spec data as YAML text for the editor."""
    return dump_yaml(data)
