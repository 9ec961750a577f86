"""Merge data from a mergekit config: method, models in stable order, layer map, local-path fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator, model_validator

from cards.errors import MergeConfigError, YamlError
from cards.findings import Finding
from cards.hubids import guess_hub_id, is_hub_id, is_local_path
from cards.safeyaml import load_yaml
from cards.specbase import Markdown, Strict

# merge_method -> (display name, paper or explainer, needs base_model)
MERGE_METHODS: dict[str, tuple[str, str | None, bool]] = {
    "linear": ("linear", "https://arxiv.org/abs/2203.05482", False),
    "slerp": ("SLERP", "https://en.wikipedia.org/wiki/Slerp", True),
    "nuslerp": ("NuSLERP", None, False),
    "multislerp": ("Multi-SLERP", None, False),
    "karcher": ("Karcher mean", "https://en.wikipedia.org/wiki/Karcher_mean", False),
    "task_arithmetic": ("task arithmetic", "https://arxiv.org/abs/2212.04089", True),
    "ties": ("TIES", "https://arxiv.org/abs/2306.01708", True),
    "dare_ties": ("DARE TIES", "https://arxiv.org/abs/2311.03099", True),
    "dare_linear": ("DARE linear", "https://arxiv.org/abs/2311.03099", True),
    "breadcrumbs": ("Model Breadcrumbs", "https://arxiv.org/abs/2312.06795", True),
    "breadcrumbs_ties": ("Model Breadcrumbs with TIES", "https://arxiv.org/abs/2312.06795", True),
    "della": ("DELLA", "https://arxiv.org/abs/2406.11617", True),
    "della_linear": ("DELLA linear", "https://arxiv.org/abs/2406.11617", True),
    "model_stock": ("Model Stock", "https://arxiv.org/abs/2403.19522", True),
    "sce": ("SCE", "https://arxiv.org/abs/2408.07990", True),
    "nearswap": ("NearSwap", None, True),
    "arcee_fusion": ("Arcee Fusion", None, True),
    "passthrough": ("passthrough", None, False),
    "moe": ("mixture of experts (mergekit-moe)", None, False),
}
MERGE_KEYS = ("merge_method", "slices", "models", "experts")


class MergeSpec(Strict):
    """The merge section: the mergekit config verbatim plus a map from local paths to Hub ids."""

    title: str = "Merge details"
    level: int = Field(2, ge=1, le=4)
    intro: Markdown | None = Field(None, description="Markdown before the method; default a mergekit sentence, '' for none.")
    config: str | None = Field(None, description="The mergekit YAML, verbatim (comments kept).")
    config_file: str | None = Field(None, description="mergekit YAML relative to the spec; read by load_spec_file.")
    path_map: dict[str, str] = Field(default_factory=dict, description="Local model path -> Hub id it stands for.")
    set_metadata: bool = Field(True, description="Add base_model, base_model_relation: merge and the merge tags.")

    @field_validator("config")
    @classmethod
    def _one_trailing_newline(cls, value: str | None) -> str | None:
        return value.strip("\n") + "\n" if value is not None else None

    @model_validator(mode="after")
    def _check(self) -> MergeSpec:
        if (self.config is None) == (self.config_file is None):
            raise ValueError("give config (the YAML text) or config_file, exactly one")
        bad = {k: v for k, v in self.path_map.items() if not is_hub_id(v)}
        if bad:
            raise ValueError(f"path_map values must be 'org/name' Hub ids: {bad}")
        if self.config is not None:
            plan = analyse(self.config, self.path_map)
            unknown = [p for p in self.path_map if p not in {m.ref for m in plan.models}]
            if unknown:
                raise ValueError(f"path_map keys {unknown} are not models in the config; "
                                 f"models: {[m.ref for m in plan.models]}")
        return self


@dataclass(frozen=True)
class MergeModel:
    """One model named in the config."""

    ref: str  # as written in the config
    hub_id: str | None  # the Hub id it is, or is mapped to
    local: bool
    guess: str | None  # for unmapped local paths


@dataclass(frozen=True)
class SliceRow:
    """One output slice of a slices-based merge."""

    out_start: int
    out_end: int  # exclusive
    sources: tuple[tuple[str, int, int], ...]  # (model ref, start, end exclusive)


@dataclass(frozen=True)
class MergePlan:
    """What a mergekit config does, in a form the card and the checker use."""

    method: str
    base_model: str | None
    models: tuple[MergeModel, ...]
    slices: tuple[SliceRow, ...]
    dtype: str | None
    findings: tuple[Finding, ...] = field(default=())

    def hub_ids(self) -> list[str]:
        """Hub ids of every model, base first, in config order, without repeats."""
        return list(dict.fromkeys(m.hub_id for m in self.models if m.hub_id))

    def unmapped(self) -> list[MergeModel]:
        """Local paths with no Hub id."""
        return [m for m in self.models if m.hub_id is None]

    def display(self, ref: str) -> str:
        """The Hub id for a config reference when known, else the reference itself."""
        return next((m.hub_id or m.ref for m in self.models if m.ref == ref), ref)


def parse_config(text: str) -> dict[str, Any]:
    """Load a mergekit YAML safely and make sure it is one.

    Args:
        text: the YAML.

    Returns:
        The mapping; raises MergeConfigError naming the line or the missing keys.
    """
    try:
        data = load_yaml(text, "merge config")
    except YamlError as exc:
        raise MergeConfigError(str(exc)) from None
    if not isinstance(data, dict) or not any(k in data for k in MERGE_KEYS):
        raise MergeConfigError(f"merge config: not a mergekit config (needs one of {', '.join(MERGE_KEYS)})")
    return data


def find_configs(markdown: str) -> list[tuple[int, str]]:
    """mergekit configs in a card's code blocks, as (0-based line of the fence, config text)."""
    from cards.mdtools import code_blocks

    out = []
    for start, _end, info, text in code_blocks(markdown.split("\n")):
        if info in ("yaml", "yml", ""):
            try:
                parse_config(text)
            except MergeConfigError:
                continue
            out.append((start, text + "\n"))
    return out


def _refs(value: Any) -> list[str]:
    """Model references in one `model:` value ('org/model+org/lora' names two)."""
    if isinstance(value, dict):
        value = value.get("model") or value.get("source_model")
    if not isinstance(value, str) or not value.strip():
        return []
    return [p for p in value.split("+") if p]


def _entries(data: dict[str, Any], key: str, findings: list[Finding]) -> list[Any]:
    """The list under key ([] when absent); anything else is an error finding, not a crash."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        findings.append(Finding("error", key, f"must be a list, got {type(value).__name__} {str(value)[:60]!r}",
                                f"write {key}: as a list of entries ('- model: org/name')"))
        return []
    return value


def _layer_range(src: dict, where: str, findings: list[Finding]) -> tuple[int, int] | None:
    """A source's [start, end) or None (with a finding) when malformed."""
    rng = src.get("layer_range")
    if (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in rng)
            and 0 <= rng[0] < rng[1]):
        return rng[0], rng[1]
    findings.append(Finding("error", where, f"layer_range {rng!r} is not [start, end) with start < end",
                            "write layer_range: [start, end], end exclusive"))
    return None


def analyse(text: str, path_map: dict[str, str] | None = None) -> MergePlan:
    """Read a mergekit config into a MergePlan with the reviewer's findings.

    Args:
        text: the mergekit YAML.
        path_map: local path -> Hub id.

    Returns:
        The plan; raises MergeConfigError when the text is not a mergekit config.
    """
    data = parse_config(text)
    mapping = path_map or {}
    findings: list[Finding] = []
    method = str(data.get("merge_method") or ("moe" if "experts" in data else "passthrough"))
    if method not in MERGE_METHODS:
        findings.append(Finding("warning", "merge_method", f"unknown merge method '{method}'",
                                f"use one of {', '.join(MERGE_METHODS)}"))
    refs: list[str] = []
    base = data.get("base_model")
    base_refs = _refs(base) if base is not None else []
    refs += base_refs
    for entry in _entries(data, "models", findings):
        refs += _refs(entry)
    for entry in _entries(data, "experts", findings):
        refs += _refs(entry)
    slices: list[SliceRow] = []
    out = 0
    for i, sl in enumerate(_entries(data, "slices", findings)):
        sources = (sl or {}).get("sources") if isinstance(sl, dict) else None
        if not isinstance(sources, list) or not sources:
            findings.append(Finding("error", f"slices[{i}]", "has no sources", "give sources: [{model, layer_range}]"))
            continue
        row = []
        for j, src in enumerate(sources):
            if not isinstance(src, dict):
                continue
            refs += _refs(src)
            rng = _layer_range(src, f"slices[{i}].sources[{j}]", findings)
            if rng and _refs(src):
                row.append((_refs(src)[0], rng[0], rng[1]))
        lengths = {e - s for _, s, e in row}
        if len(lengths) > 1:
            findings.append(Finding("error", f"slices[{i}]", f"sources span different numbers of layers {sorted(lengths)}",
                                    "give every source in a slice a layer_range of the same length"))
        if row:
            n = row[0][2] - row[0][1]
            slices.append(SliceRow(out, out + n, tuple(row)))
            out += n
    models = []
    for ref in dict.fromkeys(refs):
        local = is_local_path(ref)
        hub = mapping.get(ref) or (ref if is_hub_id(ref) else None)
        guess = guess_hub_id(ref) if local and hub is None else None
        models.append(MergeModel(ref, hub, local, guess))
        if hub is None:
            target = f"'{guess}'" if guess else "ORG/NAME"
            problem = f"'{ref}' is a local path" + (f" (most likely {guess})" if guess else " with no known Hub id")
            findings.append(Finding("warning", "models", problem + "; base_model cannot list it",
                                    f"name the Hub model instead (in a lineup spec: merge.path_map: {{'{ref}': {target}}})"))
    if not models:
        findings.append(Finding("error", "models", "the config names no models", "add models, slices or experts"))
    if "parameters" in data and data["parameters"] is None:
        findings.append(Finding("warning", "parameters", "is empty (only comments); it parses as null",
                                "remove it, or uncomment the settings you meant to use"))
    needs_base = MERGE_METHODS.get(method, ("", None, False))[2]
    if needs_base and base is None:
        findings.append(Finding("error", "base_model", f"{method} needs a base_model", "add base_model: ORG/NAME"))
    if method == "slerp" and slices and any(len(r.sources) != 2 for r in slices):
        findings.append(Finding("error", "slices", "slerp interpolates exactly two models per slice",
                                "give each slice two sources"))
    dtype = data.get("dtype")
    return MergePlan(method, base_refs[0] if base_refs else None, tuple(models), tuple(slices),
                     str(dtype) if dtype is not None else None, tuple(findings))


def layer_summary(plan: MergePlan) -> str | None:
    """One sentence on a slices merge: output layers, source layers, layers used more than once."""
    if not plan.slices:
        return None
    total = plan.slices[-1].out_end
    used: dict[str, dict[int, int]] = {}
    for row in plan.slices:
        for ref, start, end in row.sources:
            counts = used.setdefault(ref, {})
            for layer in range(start, end):
                counts[layer] = counts.get(layer, 0) + 1
    parts = []
    for ref, counts in used.items():
        layers = sorted(counts)
        text = f"layers {_ranges(layers)} ({len(layers)} layers) of {plan.display(ref)}"
        repeated = sorted(layer for layer, c in counts.items() if c > 1)
        if repeated:
            times = sorted({counts[layer] for layer in repeated})
            how = "twice" if times == [2] else "more than once"
            text += f", {len(repeated)} of them used {how} ({_ranges(repeated)})"
        parts.append(text)
    slices = f"{len(plan.slices)} slice" + ("s" if len(plan.slices) != 1 else "")
    return f"{total} output layers from {slices}: " + "; ".join(parts) + "."


def _ranges(layers: list[int]) -> str:
    """'4–7, 12–15' for a sorted list of layer numbers."""
    out, start, prev = [], layers[0], layers[0]
    for n in [*layers[1:], None]:
        if n is None or n != prev + 1:
            out.append(f"{start}–{prev}" if start != prev else str(start))
            if n is not None:
                start = n
        if n is not None:
            prev = n
    return ", ".join(out)


def implied_metadata(plan: MergePlan) -> dict[str, Any]:
    """The metadata a merge implies: base_model (Hub ids), base_model_relation and tags."""
    out: dict[str, Any] = {"base_model": plan.hub_ids(), "base_model_relation": "merge", "tags": ["merge", "mergekit"]}
    if not out["base_model"]:
        del out["base_model"]
    return out
