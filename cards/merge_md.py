"""Render the merge section (templates/merge.md.j2) and read it back."""

from __future__ import annotations

import re
from typing import Any

from cards.hubids import hub_url
from cards.mdtools import code_block, code_blocks, heading_line, headings, render_table
from cards.merge import MERGE_METHODS, MergePlan, MergeSpec, analyse, layer_summary
from cards.templating import render

DEFAULT_INTRO = "This model is a merge of pre-trained language models created with [mergekit](https://github.com/arcee-ai/mergekit)."
MAPPED_MODEL = re.compile(r"\[([^\]]+)\]\([^)]*\) \(config path: `([^`]+)`\)")


def model_md(plan: MergePlan, ref: str) -> str:
    """A model as the card shows it: linked Hub id, the config path when mapped, a flag when unknown."""
    model = next(m for m in plan.models if m.ref == ref)
    if model.hub_id is None:
        return f"`{ref}` (local path; Hub id not given)"
    link = f"[{model.hub_id}]({hub_url(model.hub_id)})"
    return f"{link} (config path: `{ref}`)" if model.hub_id != ref else link


def method_md(method: str) -> str:
    """The method's name, linked to its paper when there is one."""
    label, url, _ = MERGE_METHODS.get(method, (method, None, False))
    return f"[{label}]({url})" if url else label


def layer_table_md(plan: MergePlan) -> str:
    """One row per slice source: output layers, model, source layers (inclusive ranges)."""
    rows = []
    for n, row in enumerate(plan.slices, 1):
        for k, (ref, start, end) in enumerate(row.sources):
            out = f"{row.out_start}–{row.out_end - 1}" if k == 0 else ""
            rows.append([str(n) if k == 0 else "", out, plan.display(ref), f"{start}–{end - 1}"])
    return render_table(["Slice", "Output layers", "Model", "Source layers"], rows, ["r", "l", "l", "l"]).rstrip("\n")


def merge_md(spec: MergeSpec) -> str:
    """The whole merge section.

    Args:
        spec: the merge part of a card spec (config already read).

    Returns:
        Markdown starting with the section heading.
    """
    plan = analyse(spec.config or "", spec.path_map)
    merged = [m.ref for m in plan.models if m.ref != plan.base_model] or [m.ref for m in plan.models]
    return render(
        "merge.md.j2",
        heading=heading_line(spec.level, spec.title),
        sub="#" * (spec.level + 1),
        intro=DEFAULT_INTRO if spec.intro is None else spec.intro,
        method=method_md(plan.method),
        base=model_md(plan, plan.base_model) if plan.base_model else None,
        models=[model_md(plan, ref) for ref in merged],
        layer_summary=layer_summary(plan),
        layer_table=layer_table_md(plan) if plan.slices else None,
        config_block=code_block(spec.config or "", "yaml").rstrip("\n"),
    )


def parse_merge_md(content: str) -> MergeSpec:
    """Read back merge_md's output.

    Args:
        content: the section's markdown.

    Returns:
        The MergeSpec (config verbatim, path_map from the 'config path' notes); ValueError otherwise.
    """
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    if not heads or heads[0].index != 0:
        raise ValueError("merge section does not start with a heading")
    subs = {h.title: h.index for h in heads[1:] if h.level == heads[0].level + 1}
    if "Merge method" not in subs or "Configuration" not in subs:
        raise ValueError("merge section lacks 'Merge method' or 'Configuration'")
    blocks = [b for b in code_blocks(lines) if b[0] > subs["Configuration"]]
    if not blocks:
        raise ValueError("merge section has no configuration block")
    data: dict[str, Any] = {"title": heads[0].title, "level": heads[0].level, "config": blocks[0][3] + "\n"}
    intro = "\n".join(lines[1: subs["Merge method"]]).strip("\n")
    if intro != DEFAULT_INTRO:
        data["intro"] = intro
    data["path_map"] = {path: hub for hub, path in MAPPED_MODEL.findall("\n".join(lines[: subs["Configuration"]]))}
    return MergeSpec.model_validate(data)
