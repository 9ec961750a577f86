"""Assemble a card: metadata through ModelCardData, body parts from the *_md helpers, card.md.j2 around them.

Generated parts are wrapped in ``<!-- lineup:begin KIND -->`` / ``<!-- lineup:end KIND -->`` so a later
build (``update_card``) replaces them in place instead of appending them again. Nothing here touches the
network or the file system.
"""

from __future__ import annotations

from typing import Any

from huggingface_hub import ModelCardData

from cards.benchmarks_md import comparison_md, leaderboard_md
from cards.errors import CardError
from cards.hubids import is_hub_id
from cards.mdtools import begin_marker, end_marker, markers, split_front_matter
from cards.merge import analyse, implied_metadata
from cards.merge_md import merge_md
from cards.modelindex import comparison_results, leaderboard_results
from cards.prompt import prompt_format_md
from cards.safeyaml import load_yaml
from cards.sections_md import (
    citation_md,
    free_section_md,
    limitations_md,
    lineage_md,
    links_md,
    summary_md,
    title_md,
)
from cards.spec import MANAGED, CardSpec, FreeSection, FreeText, Placement
from cards.specio import raise_for_unresolved
from cards.templating import render
from cards.training_md import training_md

PART_RENDERERS = {
    "title": title_md,
    "summary": summary_md,
    "lineage": lineage_md,
    "merge": lambda spec: merge_md(spec.merge),
    "training": lambda spec: training_md(spec.training),
    "prompt_format": lambda spec: prompt_format_md(spec.prompt_format, spec.repo_id or spec.model_name),
    "benchmarks": lambda spec: comparison_md(spec.benchmarks),
    "leaderboard": lambda spec: leaderboard_md(spec.leaderboard),
    "limitations": limitations_md,
    "links": links_md,
    "citation": citation_md,
}


def _implied(spec: CardSpec) -> dict[str, Any]:
    """Metadata the merge or lineage parts imply (added only where the spec's metadata is silent)."""
    if spec.merge is not None and spec.merge.set_metadata:
        plan = analyse(spec.merge.config or "", spec.merge.path_map)
        if plan.unmapped() and spec.metadata.base_model is None:
            lines = [f"'{m.ref}'" + (f" (likely {m.guess})" if m.guess else "") for m in plan.unmapped()]
            raise CardError(
                "merge models given as local paths cannot go into base_model: " + ", ".join(lines)
                + "; map each in merge.path_map (local path -> org/name) or set metadata.base_model yourself"
            )
        return implied_metadata(plan)
    if spec.lineage is not None and spec.lineage.set_metadata and is_hub_id(spec.lineage.chain[-1].model):
        return {"base_model": spec.lineage.chain[-1].model, "base_model_relation": spec.lineage.relation}
    return {}


def build_metadata(spec: CardSpec) -> dict[str, Any]:
    """The card's metadata: the spec's keys in order, then implied keys, then a generated model-index.

    Args:
        spec: the card spec.

    Returns:
        An ordered dict; values the spec gives are kept exactly (explicit nulls too).
    """
    out = spec.metadata.as_dict()
    for key, value in _implied(spec).items():
        if key == "tags":
            have = list(out.get("tags") or [])
            out["tags"] = have + [t for t in value if t not in have]
        elif out.get(key) is None:
            out[key] = value
    results = []
    if spec.leaderboard is not None and spec.leaderboard.model_index:
        results += leaderboard_results(spec.leaderboard, spec.repo_id)
    if spec.benchmarks is not None and spec.benchmarks.model_index:
        results += comparison_results(spec.benchmarks)
    if results:
        # ModelCardData turns EvalResults into the model-index the Hub reads (and validates them).
        data = ModelCardData(model_name=spec.model_name, eval_results=results).to_dict()
        out["model-index"] = data["model-index"]
    return out


def front_matter_yaml(metadata: dict[str, Any]) -> str:
    """The YAML between the --- lines, keys in the given order ('no' quoted so it stays a string)."""
    from huggingface_hub.utils import yaml_dump

    return yaml_dump(metadata, sort_keys=False).strip() if metadata else ""


def managed_block(kind: str, text: str) -> str:
    """A generated part between its markers."""
    return f"{begin_marker(kind)}\n{text.strip(chr(10))}\n{end_marker(kind)}\n"


def body_items(spec: CardSpec) -> list[tuple[str, bool]]:
    """The body as (text, verbatim) items in layout order; generated parts already wrapped."""
    items: list[tuple[str, bool]] = []
    for entry in spec.layout():
        if isinstance(entry, FreeText):
            items.append((entry.text, True))
        elif isinstance(entry, FreeSection):
            items.append((free_section_md(entry), False))
        elif isinstance(entry, Placement):
            text = PART_RENDERERS[entry.part](spec)
            items.append((managed_block(entry.part, text) if entry.part in MANAGED else text, False))
    return items


def join_body(items: list[tuple[str, bool]]) -> str:
    """Join body items: verbatim text exactly as given, one blank line around every other item."""
    out = ""
    previous_block = False
    for text, verbatim in items:
        if verbatim:
            if previous_block and not text.startswith("\n"):
                out += "\n"
            out += text
            previous_block = False
            continue
        block = text.strip("\n") + "\n"
        if out and not out.endswith("\n"):
            out += "\n"
        if not out.endswith("\n\n"):
            out += "\n"
        out += block
        previous_block = True
    return out


def build_card(spec: CardSpec) -> str:
    """Build a README.md from a spec.

    Args:
        spec: a validated spec whose file references were resolved (load_spec_file does that).

    Returns:
        The card text: front matter, then the body in the spec's order.
    """
    raise_for_unresolved(spec)
    return render("card.md.j2", front_matter=front_matter_yaml(build_metadata(spec)), body=join_body(body_items(spec)))


def update_card(existing: str, spec: CardSpec) -> tuple[str, list[str]]:
    """Rebuild the generated parts of an existing card in place; everything else stays as it is.

    Args:
        existing: the current README text (with lineup markers from an earlier build).
        spec: the spec to build from.

    Returns:
        (new text, notes on what was replaced, inserted or kept).
    """
    raise_for_unresolved(spec)
    fm = split_front_matter(existing)
    meta = load_yaml(fm.yaml_text, "front matter", fm.yaml_first_line - 1) if fm.yaml_text else {}
    if not isinstance(meta, dict):
        raise CardError("the existing card's front matter is not a mapping; fix it before updating")
    meta = {**meta, **build_metadata(spec)}
    lines = fm.body.split("\n")
    spans = _managed_spans(lines)
    new = {e.part: managed_block(e.part, PART_RENDERERS[e.part](spec)).rstrip("\n").split("\n")
           for e in spec.layout() if isinstance(e, Placement) and e.part in MANAGED}
    notes: list[str] = []
    edits: list[tuple[int, int, list[str]]] = []
    order = list(new)
    for kind, block in new.items():
        if kind in spans:
            edits.append((*spans[kind], block))
            notes.append(f"replaced {kind} in place")
            continue
        before = [k for k in order[: order.index(kind)] if k in spans]
        after = [k for k in order[order.index(kind) + 1:] if k in spans]
        at = spans[before[-1]][1] if before else (spans[after[0]][0] if after else len(lines))
        edits.append((at, at, [""] + block + ([""] if at < len(lines) else [])))
        notes.append(f"inserted {kind}" + (f" after {before[-1]}" if before else ""))
    notes += [f"kept {k}: the spec has no {k}" for k in spans if k not in new]
    for start, end, block in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = block
    body = "\n".join(lines)
    return render("card.md.j2", front_matter=front_matter_yaml(meta), body=body), notes


def _managed_spans(lines: list[str]) -> dict[str, tuple[int, int]]:
    """kind -> (begin line, one past end line); raises CardError on duplicates or unbalanced markers."""
    spans: dict[str, tuple[int, int]] = {}
    open_at: dict[str, int] = {}
    for m in markers(lines):
        if m.edge == "begin":
            if m.kind in spans or m.kind in open_at:
                raise CardError(f"the card has two '{m.kind}' managed sections (line {m.index + 1}); "
                                "delete one, then build again")
            open_at[m.kind] = m.index
        elif m.kind in open_at:
            spans[m.kind] = (open_at.pop(m.kind), m.index + 1)
        else:
            raise CardError(f"'lineup:end {m.kind}' at body line {m.index + 1} has no begin marker; remove it")
    if open_at:
        raise CardError(f"managed sections never closed: {', '.join(open_at)}; add the end markers")
    return spans
