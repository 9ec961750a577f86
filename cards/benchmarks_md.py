"""Render the comparison and leaderboard tables as markdown, and read them back."""

from __future__ import annotations

import re
from typing import Any

from cards.benchmarks import Cell, ComparisonSpec, LeaderboardSpec, Row
from cards.hubids import hub_url, is_hub_id
from cards.mdtools import find_tables, heading_line, headings, render_table, unescape_cell
from cards.refdata import leaderboard

NOTE_PREFIX = "Note: "
_MARK = re.compile(r"((?:\\\*)+)")
_LINKED = re.compile(r"^\[(.+)\]\((\S+)\)$")
_VALUE = re.compile(r"^([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(%?)(?:\s*±\s*([-+]?\d+(?:\.\d+)?))?%?$")


def _marker(n: int) -> str:
    """The escaped footnote marker for the n-th (0-based) column footnote: \\*, \\*\\*, ..."""
    return "\\*" * (n + 1)


def _model_cell(row: Row) -> str:
    """The model name, linked when the row has a link (a Hub id becomes its URL)."""
    if not row.link:
        return row.model
    url = hub_url(row.link) if is_hub_id(row.link) else row.link
    return f"[{row.model}]({url})"


def table_md(spec: ComparisonSpec) -> str:
    """The comparison table and its footnotes, without heading, intro or outro."""
    marks: dict[str, str] = {}
    for col in spec.columns:
        if col.footnote:
            marks[col.id] = _marker(len(marks))
    header = ["Model"] + [c.header(marks.get(c.id, "")) for c in spec.columns]
    rows = [[_model_cell(r)] + [spec.fmt(c, r.cell(c.id)) for c in spec.columns] for r in spec.rows]
    # Header cells are escaped by render_table; markers are already escaped, so protect them.
    table = render_table([h.replace("\\*", "\0") for h in header], rows, ["l"] + ["r"] * len(spec.columns))
    parts = [table.replace("\0", "\\*")]
    parts += [f"{marks[c.id]}{c.footnote}\n" for c in spec.columns if c.footnote]
    parts += [f"{NOTE_PREFIX}{note}\n" for note in spec.footnotes]
    return "\n".join(parts)


def comparison_md(spec: ComparisonSpec) -> str:
    """The comparison section: heading, intro, table, footnotes, outro.

    Args:
        spec: the table (files already resolved).

    Returns:
        Markdown starting with the section heading.
    """
    parts = [heading_line(spec.level, spec.title) + "\n"]
    if spec.intro:
        parts.append(spec.intro + "\n")
    parts.append(table_md(spec))
    if spec.outro:
        parts.append(spec.outro + "\n")
    return "\n".join(parts)


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank-line separated paragraphs."""
    text = "\n".join(lines).strip("\n")
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text)] if text else []


def _parse_value(text: str) -> tuple[Cell | None, bool, bool, int]:
    """(cell, has %, has ±, decimals) for one table cell."""
    t = unescape_cell(text).strip()
    if not t:
        return None, False, False, 0
    m = _VALUE.match(t)
    if not m:
        raise ValueError(f"table cell {t!r} is not a number")
    decimals = max(len(x.split(".")[1]) if x and "." in x else 0 for x in (m.group(1), m.group(3)))
    stderr = float(m.group(3)) if m.group(3) else None
    return Cell(value=float(m.group(1)), stderr=stderr), bool(m.group(2)), stderr is not None, decimals


def _places(text: str) -> set[int]:
    """Decimal places of every number in a cell."""
    return {len(m.group(1) or "") for m in re.finditer(r"\d+(?:\.(\d+))?", unescape_cell(text))}


def parse_comparison_md(content: str) -> ComparisonSpec:
    """Read back comparison_md's output (column headers come back as whole labels).

    Args:
        content: the section's markdown.

    Returns:
        A ComparisonSpec that renders to the same text; ValueError when the shape differs.
    """
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    tables = find_tables(lines)
    if not heads or heads[0].index != 0 or len(tables) != 1 or tables[0].header[0] != "Model":
        raise ValueError("not a comparison section (heading, then one table whose first column is Model)")
    table = tables[0]
    data: dict[str, Any] = {"title": heads[0].title, "level": heads[0].level}
    intro = "\n".join(lines[1: table.start]).strip("\n")
    if intro:
        data["intro"] = intro
    columns: list[dict[str, Any]] = []
    stars: dict[int, int] = {}
    for i, head in enumerate(table.header[1:]):
        m = _MARK.search(head)
        label = _MARK.sub("", head) if m else head
        if m:
            stars[m.group(1).count("*")] = i
        columns.append({"id": f"c{i + 1}", "label": unescape_cell(label)})
    rows, any_pct, any_err, decimals, values_seen, places = [], False, False, 2, [], set()
    for cells in table.rows:
        name = unescape_cell(cells[0])
        linked = _LINKED.match(name)
        row: dict[str, Any] = {"model": linked.group(1) if linked else name, "values": {}}
        if linked:
            url = linked.group(2)
            row["link"] = url.removeprefix("https://huggingface.co/") if is_hub_id(
                url.removeprefix("https://huggingface.co/")) else url
        for col, text in zip(columns, cells[1:], strict=False):
            cell, pct, err, dec = _parse_value(text)
            places |= _places(text)
            if cell is not None:
                row["values"][col["id"]] = cell.value if cell.stderr is None else cell
                any_pct, any_err, decimals = any_pct or pct, any_err or err, max(decimals, dec)
                values_seen.append(cell.value)
        rows.append(row)
    footnotes, outro = [], []
    for para in _paragraphs(lines[table.end:]):
        m = re.match(r"^((?:\\\*)+)(.*)$", para, re.S)
        if m and not outro and m.group(1).count("*") in stars:
            columns[stars[m.group(1).count("*")]]["footnote"] = m.group(2)
        elif para.startswith(NOTE_PREFIX) and not outro:
            footnotes.append(para[len(NOTE_PREFIX):])
        else:
            outro.append(para)
    scale = "percent" if any_pct or any(abs(v) > 1 for v in values_seen) else "fraction"
    fixed = len(places) == 1 and places != {0}
    data.update(columns=columns, rows=rows, footnotes=footnotes, values_in=scale, display=scale,
                percent_sign=any_pct, show_stderr=any_err, decimals=max(places) if fixed else decimals,
                fixed_decimals=fixed, model_index=False)
    if outro:
        data["outro"] = "\n\n".join(outro)
    return ComparisonSpec.model_validate(data)


def _label_table(version: str) -> dict[str, str]:
    """Leaderboard row label -> benchmark key for one version."""
    return {entry["label"]: key for key, entry in leaderboard()["versions"][version].items()}


def leaderboard_md(spec: LeaderboardSpec) -> str:
    """The 'Metric | Value' section with Avg. first, as the leaderboard bot writes it.

    Args:
        spec: the leaderboard scores.

    Returns:
        Markdown starting with the section heading.
    """
    table = leaderboard()["versions"][spec.version]
    rows = [["Avg.", repr(float(spec.shown_average()))]]
    rows += [[table[key]["label"], repr(float(value))] for key, value in spec.scores.items()]
    parts = [heading_line(spec.level, spec.title) + "\n"]
    if spec.details_url:
        parts.append(f"Detailed results can be found [here]({spec.details_url})\n")
    parts.append(render_table(["Metric", "Value"], rows, ["l", "r"]))
    return "\n".join(parts)


def parse_leaderboard_table(header: list[str], rows: list[list[str]]) -> tuple[str, dict[str, float], float | None]:
    """(version, scores, average) from a 'Metric | Value' table; ValueError for unknown rows.

    Args:
        header: the table header (must be Metric, Value).
        rows: the table rows.

    Returns:
        The leaderboard version whose labels match, the scores by key, and Avg. if present.
    """
    if [h.strip().lower() for h in header[:2]] != ["metric", "value"]:
        raise ValueError("not a 'Metric | Value' table")
    labels = {row[0].strip() for row in rows} - {"Avg."}
    for version in ("v1", "v2"):
        table = _label_table(version)
        if labels and labels <= set(table):
            scores, average = {}, None
            for row in rows:
                value = float(row[1].strip().rstrip("%"))
                if row[0].strip() == "Avg.":
                    average = value
                else:
                    scores[table[row[0].strip()]] = value
            return version, scores, average
    raise ValueError(f"rows {sorted(labels)} are not Open LLM Leaderboard benchmarks")


def parse_leaderboard_md(content: str) -> LeaderboardSpec:
    """Read back leaderboard_md's output (and the bot's own layout).

    Args:
        content: the section's markdown.

    Returns:
        The LeaderboardSpec; ValueError when the shape differs.
    """
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    tables = find_tables(lines)
    if not heads or heads[0].index != 0 or len(tables) != 1:
        raise ValueError("not a leaderboard section (heading, then one table)")
    version, scores, average = parse_leaderboard_table(tables[0].header, tables[0].rows)
    details = re.search(r"Detailed results can be found \[here\]\((\S+)\)", "\n".join(lines[: tables[0].start]))
    return LeaderboardSpec(title=heads[0].title, level=heads[0].level, version=version, scores=scores,
                           average=average, details_url=details.group(1) if details else None, model_index=False)


def leaderboard_extent(lines: list[str], start: int, end: int) -> int | None:
    """Where a bot-written leaderboard section's managed part ends (one past its table), or None.

    Args:
        lines: the body lines.
        start: index of the section heading.
        end: index of the next heading of the same or higher level (or len(lines)).

    Returns:
        The index one past the 'Metric | Value' table when the section has one, else None.
    """
    for table in find_tables(lines[start:end]):
        try:
            parse_leaderboard_table(table.header, table.rows)
        except ValueError:
            continue
        between = "\n".join(lines[start + 1: start + table.start]).strip()
        if between and not re.fullmatch(r"Detailed results can be found \[here\]\(\S+\)", between):
            return None
        return start + table.end
    return None
