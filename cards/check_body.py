"""Checks on a card's markdown body: managed sections, headings, links, tables, merge configs."""

from __future__ import annotations

import re
from typing import Any

from cards.benchmarks_md import parse_leaderboard_table
from cards.findings import Finding
from cards.hubids import is_hub_id
from cards.mdtools import code_mask, find_tables, headings, markers, normalise_title, unclosed_fence
from cards.merge import MergePlan, analyse, find_configs
from cards.merge_md import MAPPED_MODEL
from cards.spec import MANAGED

RELATIVE_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s#]+)\)")
HTTP_IMAGE = re.compile(r"!\[[^\]]*\]\((http://[^)\s]+)\)|<img[^>]+src=[\"'](http://[^\"']+)")


def _markers(lines: list[str], first: int) -> list[Finding]:
    """Managed-section markers: each kind once, balanced, not nested, known."""
    out = []
    seen: dict[str, int] = {}
    open_kind: tuple[str, int] | None = None
    for m in markers(lines):
        line = first + m.index
        if m.kind not in MANAGED:
            out.append(Finding("warning", f"section {m.kind}", f"unknown managed section '{m.kind}'",
                               f"use one of {', '.join(MANAGED)} or remove the marker", line))
        if m.edge == "begin":
            if open_kind:
                out.append(Finding("error", f"section {m.kind}", f"begins inside '{open_kind[0]}' (line {open_kind[1]})",
                                   f"close '{open_kind[0]}' first", line))
            if m.kind in seen:
                out.append(Finding("error", f"section {m.kind}",
                                   f"duplicate managed section (first at line {seen[m.kind]})",
                                   "delete one copy; a build replaces the section in place", line))
            seen.setdefault(m.kind, line)
            open_kind = (m.kind, line)
        elif open_kind is None or open_kind[0] != m.kind:
            out.append(Finding("error", f"section {m.kind}", "end marker without a matching begin",
                               "remove it or add the begin marker", line))
        else:
            open_kind = None
    if open_kind:
        out.append(Finding("error", f"section {open_kind[0]}", "begin marker never closed",
                           f"add <!-- lineup:end {open_kind[0]} -->", open_kind[1]))
    return out


def _headings(lines: list[str], first: int) -> list[Finding]:
    """Sections that appear twice (a bot or a build that appended instead of replacing)."""
    out = []
    seen: dict[tuple[int, str], int] = {}
    for h in headings(lines):
        key = (h.level, normalise_title(h.title))
        if not key[1]:
            continue
        if key in seen:
            severity = "error" if "leaderboard" in key[1] else "warning"
            out.append(Finding(severity, "body", f"section '{h.title}' appears twice (first at line {seen[key]})",
                               "keep one copy", first + h.index))
        else:
            seen[key] = first + h.index
    return out


def _links(lines: list[str], first: int) -> list[Finding]:
    """Relative links that look like Hub ids (they 404 on the Hub) and plain-http images."""
    out = []
    mask = code_mask(lines)
    for i, line in enumerate(lines):
        if mask[i]:
            continue
        for m in RELATIVE_LINK.finditer(line):
            target = m.group(2)
            if is_hub_id(target) and not target.startswith(("http", "mailto:")) and "." not in target.split("/")[-1][-5:]:
                out.append(Finding("warning", "body", f"link [{m.group(1)}]({target}) is relative and will 404",
                                   f"link https://huggingface.co/{target}", first + i))
        for m in HTTP_IMAGE.finditer(line):
            out.append(Finding("warning", "body", f"image {m.group(1) or m.group(2)} uses http",
                               "use an https URL (browsers block mixed content)", first + i))
    return out


def _leaderboard(lines: list[str], first: int, meta: dict[str, Any]) -> list[Finding]:
    """Leaderboard tables: Avg. equals the mean, and values agree with model-index."""
    out = []
    indexed = _model_index_values(meta)
    for table in find_tables(lines):
        try:
            version, scores, average = parse_leaderboard_table(table.header, table.rows)
        except ValueError:
            continue
        line = first + table.start
        mean = sum(scores.values()) / len(scores)
        if average is not None and abs(average - mean) > 0.05:
            out.append(Finding("warning", "body", f"leaderboard Avg. {average} differs from the mean of its rows ({mean:.2f})",
                               "recompute Avg.", line))
        from cards.refdata import leaderboard

        table_info = leaderboard()["versions"][version]
        for key, value in scores.items():
            dataset = table_info[key]["dataset_type"]
            if dataset in indexed and all(abs(v - value) > 0.005 for v in indexed[dataset]):
                out.append(Finding("warning", "model-index", f"{table_info[key]['label']} is {value} in the table but "
                                   f"{indexed[dataset][0]} in model-index", "make them agree", line))
    return out


def _list(value: Any) -> list[Any]:
    """value when it is a list, else [] (model-index parts of a wrong shape are reported by check_model_index)."""
    return value if isinstance(value, list) else []


def _model_index_values(meta: dict[str, Any]) -> dict[str, list[float]]:
    """dataset type -> metric values in the model-index (where it is well formed)."""
    out: dict[str, list[float]] = {}
    for entry in _list(meta.get("model-index")):
        for res in _list(entry.get("results")) if isinstance(entry, dict) else []:
            if not isinstance(res, dict) or not isinstance(res.get("dataset"), dict):
                continue
            for metric in _list(res.get("metrics")):
                if isinstance(metric, dict) and isinstance(metric.get("value"), (int, float)):
                    out.setdefault(str(res["dataset"].get("type")), []).append(float(metric["value"]))
    return out


def _configs(lines: list[str]) -> list[tuple[int, MergePlan]]:
    """(line index, plan) for every code block that is a mergekit config.

    Paths the card itself maps to Hub ids (lineup writes '[org/name](...) (config path: `path`)') count as mapped.
    """
    body = "\n".join(lines)
    path_map = {path: hub for hub, path in MAPPED_MODEL.findall(body) if is_hub_id(hub)}
    return [(start, analyse(text, {p: h for p, h in path_map.items() if p in text})) for start, text in find_configs(body)]


def merge_plans(body: str) -> list[MergePlan]:
    """The mergekit configs found in a card body."""
    return [plan for _, plan in _configs(body.split("\n"))]


def _merge_configs(lines: list[str], first: int, meta: dict[str, Any]) -> list[Finding]:
    """mergekit configs in the body: their own problems, and whether base_model lists their models."""
    out = []
    for start, plan in _configs(lines):
        line = first + start
        out += [Finding(f.severity, f"merge config {f.field}", f.problem, f.fix, line) for f in plan.findings]
        ids = plan.hub_ids()
        guesses = [m.guess for m in plan.unmapped() if m.guess]
        suggestion = ", ".join(ids + guesses)
        base = meta.get("base_model")
        if "base_model" not in meta:
            out.append(Finding("warning", "base_model", "a merge card without base_model; the Hub shows no model tree",
                               f"add base_model: [{suggestion}]" if suggestion else "add base_model with the merged models' ids",
                               line))
        elif base not in (None, [], ""):
            listed = {b for b in (base if isinstance(base, list) else [base]) if isinstance(b, str)}
            missing = [i for i in ids if i not in listed]
            if missing:
                out.append(Finding("info", "base_model", f"the merge config also uses {', '.join(missing)}",
                                   "list every merged model in base_model", line))
        tags = {str(t).lower() for t in (meta.get("tags") or [])} if isinstance(meta.get("tags"), list) else set()
        if "merge" not in tags:
            out.append(Finding("info", "tags", "a merge card without the 'merge' tag", "add tags: [merge, mergekit]", line))
    return out


def check_body(body: str, first_line: int, meta: dict[str, Any]) -> list[Finding]:
    """Check a card body.

    Args:
        body: the markdown after the front matter.
        first_line: the file line of the body's first line.
        meta: the parsed metadata ({} when it did not parse).

    Returns:
        Findings for the body.
    """
    lines = body.split("\n")
    if not body.strip():
        return [Finding("warning", "body", "the card has no text", "describe the model, its training and limits",
                        first_line)]
    out = _markers(lines, first_line) + _headings(lines, first_line) + _links(lines, first_line)
    fence = unclosed_fence(lines)
    if fence is not None:
        out.append(Finding("warning", "body", "code block never closed", "add the closing ```", first_line + fence))
    out += _leaderboard(lines, first_line, meta) + _merge_configs(lines, first_line, meta)
    return out
