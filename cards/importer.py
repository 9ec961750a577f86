"""Read an existing README back into a spec: metadata verbatim, known sections managed, the rest kept as is.

Known sections are the parts lineup generated (between its markers) and, in third-party cards, the
Open LLM Leaderboard table and a mergekit configuration. Everything else becomes free text, byte for
byte, so building the imported spec gives back the same metadata and the same body apart from the
managed sections, which are regenerated in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cards.benchmarks_md import leaderboard_extent, parse_comparison_md, parse_leaderboard_md
from cards.errors import CardError
from cards.hubids import is_hub_id
from cards.mdtools import code_blocks, headings, markers, normalise_title, plain, split_front_matter
from cards.merge import analyse, find_configs
from cards.merge_md import parse_merge_md
from cards.prompt import parse_prompt_format_md
from cards.safeyaml import check_size, load_yaml
from cards.sections_md import parse_citation_md, parse_lineage_md, parse_links_md
from cards.spec import CardSpec
from cards.specio import parse_spec
from cards.training_md import parse_training_md

# managed kind -> parser of its section text (each is the twin of a *_md renderer)
PARSERS: dict[str, Callable[[str], Any]] = {
    "lineage": parse_lineage_md,
    "merge": parse_merge_md,
    "training": parse_training_md,
    "prompt_format": parse_prompt_format_md,
    "benchmarks": parse_comparison_md,
    "leaderboard": parse_leaderboard_md,
    "links": parse_links_md,
    "citation": parse_citation_md,
}
MERGE_HEADINGS = ("merge details", "merge", "configuration", "config", "yaml config", "yaml config to reproduce",
                  "mergekit config", "merge config", "merge configuration")


@dataclass(frozen=True)
class ImportResult:
    """The imported spec and what the importer noticed."""

    spec: CardSpec
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Extent:
    """Body lines [start, end) that become one managed part."""

    start: int
    end: int
    kind: str
    data: dict[str, Any]


def _section_end(heads, k: int, total: int) -> int:
    """One past the last line of heading k's section (before the next heading of the same or higher level)."""
    level = heads[k].level
    return next((h.index for h in heads[k + 1:] if h.level <= level), total)


def _trim(lines: list[str], start: int, end: int) -> int:
    """end moved back over trailing blank lines."""
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _marked(lines: list[str], notes: list[str]) -> list[_Extent]:
    """Sections lineup generated earlier, parsed back (left as text when they were edited out of shape)."""
    out, open_at = [], {}
    for m in markers(lines):
        if m.edge == "begin":
            open_at[m.kind] = m.index
            continue
        start = open_at.pop(m.kind, None)
        if start is None or m.kind not in PARSERS:
            continue
        if any(e.kind == m.kind for e in out):
            notes.append(f"a second '{m.kind}' managed section (line {start + 1}) was kept as text; delete one")
            continue
        try:
            part = PARSERS[m.kind]("\n".join(lines[start + 1: m.index]))
        except (ValueError, CardError) as exc:
            notes.append(f"managed section '{m.kind}' was edited by hand and could not be read back ({exc}); kept as text")
            continue
        out.append(_Extent(start, m.index + 1, m.kind, part.model_dump(exclude_defaults=True)))
    return out


STOCK_MERGE_LINES = (
    r"This model was merged using the .* merge method.*",
    r"The following models were included in the merge:",
    r"The following YAML configuration was used to produce this model:",
    r"[*-] \S+",
    r"#{1,6} (Merge Method|Models Merged|Configuration)",
)


def _merge_section(lines: list[str], heads, k: int, end: int, notes: list[str]) -> dict[str, Any] | None:
    """A mergekit config section in a third-party card, as MergeSpec data (None if it is not one)."""
    title = normalise_title(heads[k].title)
    section = lines[heads[k].index: end]
    blocks = code_blocks(section)
    configs = find_configs("\n".join(section))
    if len(configs) != 1 or title not in MERGE_HEADINGS:
        return None
    inside = {i for start, stop, _, _ in blocks for i in range(start, stop + 1)}
    prose = [line for i, line in enumerate(section[1:], 1) if i not in inside and line.strip()]
    left = [line for line in prose if not any(re.fullmatch(rx, line.strip()) for rx in STOCK_MERGE_LINES)]
    if left or len(blocks) != 1:
        notes.append(f"'{plain(heads[k].title)}' holds a mergekit config and other text; kept as text so nothing is lost")
        return None
    return {"title": heads[k].title, "level": heads[k].level, "config": configs[0][1], "set_metadata": False,
            "intro": ""}


def _third_party(lines: list[str], taken: list[_Extent], notes: list[str]) -> list[_Extent]:
    """Leaderboard tables and mergekit configs in cards lineup did not write."""
    heads = headings(lines)
    out: list[_Extent] = []
    inside = lambda i: any(e.start <= i < e.end for e in taken + out)  # noqa: E731
    for k, head in enumerate(heads):
        if inside(head.index):
            continue
        end = _section_end(heads, k, len(lines))
        title = normalise_title(head.title)
        if "open llm leaderboard" in title and not any(e.kind == "leaderboard" for e in taken + out):
            stop = leaderboard_extent(lines, head.index, end)
            if stop is not None:
                part = parse_leaderboard_md("\n".join(lines[head.index: stop]))
                out.append(_Extent(head.index, stop, "leaderboard", part.model_dump(exclude_defaults=True)))
                continue
            notes.append(f"'{plain(head.title)}' has no Metric | Value table lineup can read; kept as text")
        if not any(e.kind == "merge" for e in taken + out):
            data = _merge_section(lines, heads, k, end, notes)
            if data is not None:
                out.append(_Extent(head.index, _trim(lines, head.index, end), "merge", data))
    return out


def _repo_id(meta: dict[str, Any], body: str) -> str | None:
    """The card's own repo: from lineup's prompt snippet, else a leaderboard source link in model-index."""
    m = re.search(r'AutoTokenizer\.from_pretrained\("([^"]+)"\)', body)
    if m and is_hub_id(m.group(1)):
        return m.group(1)
    index = meta.get("model-index")
    for entry in index if isinstance(index, list) else []:
        results = entry.get("results") if isinstance(entry, dict) else None
        for res in results if isinstance(results, list) else []:
            source = res.get("source") if isinstance(res, dict) else None
            url = source.get("url") if isinstance(source, dict) else None
            q = re.search(r"open_llm_leaderboard\?query=([\w.-]+/[\w.-]+)", str(url or ""))
            if q and is_hub_id(q.group(1)):
                return q.group(1)
    return None


def _model_name(meta: dict[str, Any], lines: list[str]) -> str:
    """The model-index name, else the first H1, else 'model'."""
    index = meta.get("model-index")
    if isinstance(index, list) and index and isinstance(index[0], dict) and isinstance(index[0].get("name"), str):
        return index[0]["name"]
    h1 = next((h for h in headings(lines) if h.level == 1), None)
    return plain(h1.title) if h1 and plain(h1.title) else "model"


def import_card_report(text: str) -> ImportResult:
    """Import a README and say what was recognised.

    Args:
        text: the README text.

    Returns:
        ImportResult(spec, notes); raises YamlError for front matter that does not parse.
    """
    check_size(text, "README")
    fm = split_front_matter(text)
    meta = load_yaml(fm.yaml_text, "front matter", fm.yaml_first_line - 1) if fm.yaml_text is not None else {}
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise CardError("the front matter is not a mapping of metadata keys; fix it, then import again")
    notes: list[str] = []
    if fm.yaml_text is None:
        notes.append("the card has no metadata block")
    lines = fm.body.split("\n")
    extents = _marked(lines, notes)
    extents = sorted(extents + _third_party(lines, extents, notes), key=lambda e: e.start)
    sections: list[dict[str, Any]] = []
    data: dict[str, Any] = {"model_name": _model_name(meta, lines), "metadata": meta}
    repo = _repo_id(meta, fm.body)
    if repo:
        data["repo_id"] = repo
    pos = 0
    for ext in extents:
        if ext.start > pos:
            sections.append({"text": "\n".join(lines[pos: ext.start]) + "\n"})
        sections.append({"part": ext.kind})
        part = dict(ext.data)
        if ext.kind in ("merge", "lineage"):
            part["set_metadata"] = False
        data[ext.kind] = part
        notes.append(f"'{ext.kind}' section at body line {ext.start + 1} is managed now")
        pos = ext.end
    if pos < len(lines):
        tail = "\n".join(lines[pos:])
        if tail:
            sections.append({"text": tail})
    data["sections"] = sections
    if "merge" in data:
        plan = analyse(data["merge"]["config"], data["merge"].get("path_map"))
        notes += [f.as_text() for f in plan.findings]
    return ImportResult(parse_spec(data, "imported card"), notes)


def import_card(text: str) -> CardSpec:
    """Import a README as a spec (see import_card_report for the notes).

    Args:
        text: the README text.

    Returns:
        A CardSpec whose build reproduces the card's metadata and free text.
    """
    return import_card_report(text).spec
