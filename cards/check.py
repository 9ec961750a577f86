"""Offline card checks: every problem with its field, the problem, the fix, and the line when known.

Errors are what the Hub rejects or mis-reads; warnings are what it accepts but users regret.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cards.check_body import check_body, merge_plans
from cards.errors import CardError, YamlError
from cards.findings import Finding, sort_findings
from cards.hubids import is_hub_id, is_local_path, model_id_problem
from cards.mdtools import split_front_matter
from cards.merge import parse_config
from cards.modelindex import model_index_problems
from cards.refdata import canonical_datasets, language_names, languages, licenses, pipeline_tags
from cards.safeyaml import check_size, load_yaml, yaml11_bool_traps

RELATIONS = ("adapter", "merge", "quantized", "finetune")
# tags that show a relation; a card whose relation says otherwise contradicts itself
RELATION_TAGS = {
    "merge": {"merge", "mergekit"},
    "quantized": {"gguf", "gptq", "awq", "exl2", "quantized", "4-bit", "8-bit", "bitsandbytes"},
    "adapter": {"lora", "peft", "adapter", "qlora"},
}
KEY_TYPOS = {
    "licence": "license", "licenses": "license", "languages": "language", "lang": "language", "tag": "tags",
    "dataset": "datasets", "base_models": "base_model", "basemodel": "base_model", "base-model": "base_model",
    "pipeline-tag": "pipeline_tag", "pipeline": "pipeline_tag", "library": "library_name", "library-name":
    "library_name", "model_index": "model-index", "modelindex": "model-index", "license-name": "license_name",
    "license-link": "license_link",
}
DATASET_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
FINETUNE_WORDS = re.compile(r"\b(fine-?tun(?:e|ed|ing)|finetune[sd]?|trained on top of|based on)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Context:
    """What the metadata checks need: the metadata, a key -> line lookup, and the body's merge models."""

    meta: dict[str, Any]
    at: Callable[..., int | None]  # at(key) or at(key, item) -> file line
    merge_ids: list[str] = field(default_factory=list)  # Hub ids (or likely ids) named by merge configs
    merge_unknown: list[str] = field(default_factory=list)  # local paths in merge configs with no likely id


def _as_list(value: Any) -> list[Any]:
    """A metadata value that may be one item or a list, as a list."""
    return value if isinstance(value, list) else [value]


def _line_of(yaml_text: str, key: str, first_line: int, item: Any = None) -> int | None:
    """The file line where a top-level key starts, or where one of its list items is."""
    lines = yaml_text.split("\n")
    for i, line in enumerate(lines):
        if not re.match(rf"^{re.escape(key)}\s*:", line):
            continue
        if item is not None:
            pattern = re.compile(rf"(^|[\s\[,'\"-]){re.escape(str(item))}['\"]?\s*($|[,\]])")
            for j in range(i, len(lines)):
                if j > i and re.match(r"^[^\s#-]", lines[j]):
                    break
                if pattern.search(lines[j].split(":", 1)[1] if j == i else lines[j]):
                    return first_line + j
        return first_line + i
    return None


def check_license(ctx: Context) -> list[Finding]:
    """license in the Hub's list, or other with license_name and license_link."""
    meta, at = ctx.meta, ctx.at
    lic = meta.get("license")
    out = []
    if lic is None:
        return [Finding("warning", "license", "no license", "add license: (a Hub license id); without one nobody "
                        "knows if they may use the model", at("license"))]
    for value in _as_list(lic):
        if not isinstance(value, str) or value not in licenses():
            close = difflib.get_close_matches(str(value).lower(), licenses(), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            out.append(Finding("error", "license", f"'{value}' is not a Hub license id",
                               f"{hint}use an id from the Hub's list, or license: other with license_name and license_link",
                               at("license")))
    if lic == "other":
        for key in ("license_name", "license_link"):
            if not meta.get(key):
                out.append(Finding("error", key, "license is 'other' but no " + key,
                                   f"add {key}: (a short id and a link to the license text)", at("license")))
        name = meta.get("license_name")
        if isinstance(name, str) and not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", name):
            out.append(Finding("warning", "license_name", f"'{name}' is not a lower-case id",
                               "use a short id such as my-license-1.0", at("license_name")))
    elif any(meta.get(k) for k in ("license_name", "license_link")):
        out.append(Finding("warning", "license_name", "license_name/license_link are only read with license: other",
                           "remove them, or set license: other", at("license_name") or at("license_link")))
    return out


def check_language(ctx: Context) -> list[Finding]:
    """ISO 639 codes (plus 'code' and 'multilingual')."""
    meta, at = ctx.meta, ctx.at
    out = []
    for value in _as_list(meta.get("language")):
        if value is None:
            continue
        if isinstance(value, bool):
            out.append(Finding("error", "language", f"{value} is a boolean", "quote the code: 'no' (Norwegian)",
                               at("language")))
            continue
        code = str(value)
        base = code.split("-")[0].split("_")[0]
        if code in languages():
            continue
        if base in languages():
            out.append(Finding("info", "language", f"'{code}' has a region or script subtag",
                               f"the Hub indexes '{base}'; use it unless the variant matters", at("language", code)))
            continue
        named = language_names().get(code.lower())
        fix = f"use '{named}'" if named else "use an ISO 639-1 code such as 'en' (or 639-3 such as 'yue')"
        out.append(Finding("error", "language", f"'{code}' is not a language code", fix, at("language", code)))
    return out


def check_pipeline_tag(ctx: Context) -> list[Finding]:
    """pipeline_tag is one of the Hub's tasks."""
    meta, at = ctx.meta, ctx.at
    tag = meta.get("pipeline_tag")
    if tag is None:
        return []
    if not isinstance(tag, str):
        return [Finding("error", "pipeline_tag", f"must be one task id (a string), got {type(tag).__name__}",
                        "write pipeline_tag: text-generation", at("pipeline_tag"))]
    if tag in pipeline_tags():
        return []
    close = difflib.get_close_matches(str(tag).lower().replace(" ", "-"), pipeline_tags(), n=1)
    fix = f"use '{close[0]}'" if close else "use a Hub task id such as text-generation"
    return [Finding("error", "pipeline_tag", f"'{tag}' is not a Hub task", fix, at("pipeline_tag"))]


def check_base_model(ctx: Context) -> list[Finding]:
    """base_model entries are Hub ids, not empty, not local paths."""
    meta, at = ctx.meta, ctx.at
    if "base_model" not in meta:
        return []
    value = meta["base_model"]
    if value in (None, [], ""):
        fix = "list the parent models' Hub ids, or remove the key"
        if ctx.merge_ids:
            fix = f"set base_model: [{', '.join(ctx.merge_ids)}]"
            if ctx.merge_unknown:
                fix += f" plus the Hub ids of {', '.join(ctx.merge_unknown)}"
        return [Finding("error", "base_model", "is empty (mergekit writes [] when its models were local paths)",
                        fix, at("base_model"))]
    out = []
    for i, item in enumerate(_as_list(value)):
        problem = model_id_problem(item)
        if problem:
            field = f"base_model[{i}]" if isinstance(value, list) else "base_model"
            out.append(Finding("error", field, problem[0], problem[1], at("base_model", item)))
    return out


def check_relation(ctx: Context) -> list[Finding]:
    """base_model_relation is known, has a base_model, and agrees with the tags."""
    meta, at = ctx.meta, ctx.at
    rel = meta.get("base_model_relation")
    if rel is None:
        return []
    if rel not in RELATIONS:
        return [Finding("error", "base_model_relation", f"'{rel}' is not a relation",
                        f"use one of {', '.join(RELATIONS)}", at("base_model_relation"))]
    out = []
    if not meta.get("base_model"):
        out.append(Finding("error", "base_model_relation", "is set but base_model is missing",
                           "add base_model, or remove base_model_relation", at("base_model_relation")))
    tags = {str(t).lower() for t in _as_list(meta.get("tags")) if t is not None}
    for other, marks in RELATION_TAGS.items():
        hit = sorted(tags & marks)
        if other != rel and hit and not tags & RELATION_TAGS.get(rel, set()):
            out.append(Finding("error", "base_model_relation", f"is '{rel}' but the tags say {other} ({', '.join(hit)})",
                               f"set base_model_relation: {other}, or fix the tags", at("base_model_relation")))
    if rel in ("finetune", "adapter", "quantized") and isinstance(meta.get("base_model"), list) \
            and len(meta["base_model"]) > 1:
        out.append(Finding("warning", "base_model", f"a {rel} lists {len(meta['base_model'])} base models",
                           "list the one model it was made from (several only for merges)", at("base_model")))
    return out


def check_datasets(ctx: Context) -> list[Finding]:
    """Dataset ids are 'org/name' (legacy names get a pointer to the new id)."""
    meta, at = ctx.meta, ctx.at
    out = []
    for i, item in enumerate(_as_list(meta.get("datasets"))):
        if item is None:
            continue
        field = f"datasets[{i}]" if isinstance(meta.get("datasets"), list) else "datasets"
        text = str(item)
        if not isinstance(item, str) or not DATASET_ID.match(text) or is_local_path(text):
            what = "a URL" if "://" in text else ("a local path" if is_local_path(text) else "not a dataset id")
            out.append(Finding("error", field, f"'{text}' is {what}", "use the dataset's Hub id, 'org/name'",
                               at("datasets", text)))
        elif "/" not in text:
            moved = canonical_datasets().get(text)
            fix = f"use '{moved}'" if moved else "use the full 'org/name' id"
            out.append(Finding("warning", field, f"'{text}' is a legacy id without an organisation", fix,
                               at("datasets", text)))
    return out


def check_tags(ctx: Context) -> list[Finding]:
    """Duplicate tags, and model ids used as tags."""
    meta, at = ctx.meta, ctx.at
    tags = [t for t in _as_list(meta.get("tags")) if t is not None]
    out = []
    seen: set[str] = set()
    for tag in tags:
        low = str(tag).lower()
        if low in seen:
            out.append(Finding("warning", "tags", f"'{tag}' appears twice", "remove the repeat", at("tags", tag)))
        seen.add(low)
    ids = [str(t) for t in tags if is_hub_id(str(t))]
    if ids:
        listed = {b for b in _as_list(meta.get("base_model")) if isinstance(b, str)}
        missing = [t for t in ids if t not in listed]
        if missing:
            out.append(Finding("warning", "tags", f"tags name models ({', '.join(missing)})",
                               "put parent models in base_model so the Hub links the model tree", at("tags")))
    return out


def check_model_index(ctx: Context) -> list[Finding]:
    """model-index has the keys the Hub needs and numeric values."""
    meta, at = ctx.meta, ctx.at
    if "model-index" not in meta:
        return []
    out = [Finding("error", path, problem, fix, at("model-index"))
           for path, problem, fix in model_index_problems(meta["model-index"])]
    results = [r for e in _as_list(meta["model-index"]) if isinstance(e, dict) for r in _as_list(e.get("results"))
               if isinstance(r, dict)]
    unsourced = [r for r in results if not r.get("source")]
    if unsourced and not out:
        out.append(Finding("info", "model-index", f"{len(unsourced)} of {len(results)} results have no source",
                           "add source: {name, url} (e.g. the Open LLM Leaderboard page) so readers can verify them",
                           at("model-index")))
    return out


def check_keys(ctx: Context) -> list[Finding]:
    """Misspelt metadata keys the Hub silently ignores."""
    meta, at = ctx.meta, ctx.at
    return [Finding("warning", key, "is not a metadata key the Hub reads", f"rename it to '{KEY_TYPOS[key]}'", at(key))
            for key in meta if key in KEY_TYPOS]


def _not_a_card(text: str) -> Finding | None:
    """An error when the text is plainly another kind of input (results JSON, a bare mergekit config)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            json.loads(stripped)
        except (json.JSONDecodeError, RecursionError):
            return None
        return Finding("error", "file", "this is JSON, not a model card",
                       "check a README.md; for lm-evaluation-harness results use `python -m cards evals`", 1)
    if not stripped.startswith("---") and "```" not in text:
        try:
            parse_config(text)
        except CardError:
            return None
        return Finding("error", "file", "this is a mergekit config, not a model card",
                       "use `python -m cards merge` to turn it into a card section", 1)
    return None


def _guarded(check: Callable[[Context], list[Finding]], ctx: Context) -> list[Finding]:
    """Run one metadata check; a value of a shape it cannot read becomes an error finding, never a crash."""
    try:
        return check(ctx)
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        key = check.__name__.removeprefix("check_").replace("model_index", "model-index")
        key = {"relation": "base_model_relation", "keys": "metadata"}.get(key, key)
        return [Finding("error", key, f"has a shape the Hub does not read ({type(exc).__name__}: {exc})",
                        "compare it with the model card metadata spec (huggingface.co/docs/hub/model-cards)",
                        ctx.at(key) if key in ctx.meta else None)]


METADATA_CHECKS = (check_license, check_language, check_pipeline_tag, check_base_model, check_relation,
                   check_datasets, check_tags, check_model_index, check_keys)


def check_card(text: str) -> list[Finding]:
    """Check a README.md offline.

    Args:
        text: the whole README.

    Returns:
        Findings sorted errors first; each names the field, the problem, the fix and the line.
    """
    try:
        check_size(text, "README")
    except CardError as exc:
        return [Finding("error", "file", str(exc), "trim the card")]
    wrong = _not_a_card(text)
    if wrong:
        return [wrong]
    fm = split_front_matter(text)
    findings: list[Finding] = []
    plans = merge_plans(fm.body)
    merge_ids = list(dict.fromkeys(i for plan in plans for i in plan.hub_ids() + [m.guess for m in plan.unmapped()
                                                                                  if m.guess]))
    meta: dict[str, Any] = {}
    if fm.yaml_text is None and re.match(r"\s*---[ \t]*\r?(\n|$)", text):
        findings.append(Finding("error", "metadata", "the front matter opened with --- is never closed, so the Hub "
                                "reads no metadata", "end the metadata block with a line holding only ---", 1))
    elif fm.yaml_text is None:
        findings.append(Finding("warning", "metadata", "the card has no YAML front matter",
                                "start the file with --- license: ... --- so the Hub can index it", 1))
    else:
        try:
            loaded = load_yaml(fm.yaml_text, "front matter", fm.yaml_first_line - 1)
        except YamlError as exc:
            first = Finding("error", "metadata", exc.problem, exc.fix or "fix the YAML", exc.line)
            return [first, *check_body(fm.body, fm.body_first_line, {})]
        if loaded is not None and not isinstance(loaded, dict):
            findings.append(Finding("error", "metadata", "the front matter is not a mapping",
                                    "write key: value lines between the --- lines", fm.yaml_first_line))
        else:
            meta = loaded or {}
            first = fm.yaml_first_line
            unknown = [m.ref for plan in plans for m in plan.unmapped() if not m.guess]
            ctx = Context(meta, lambda key, item=None: _line_of(fm.yaml_text, key, first, item), merge_ids, unknown)
            for check in METADATA_CHECKS:
                findings += _guarded(check, ctx)
            for line, word in yaml11_bool_traps(fm.yaml_text, first - 1):
                findings.append(Finding("warning", "metadata", f"unquoted '{word}' is read as a boolean by PyYAML "
                                        "(huggingface_hub) but as a string by the Hub", f"quote it: '{word}'", line))
    findings += check_body(fm.body, fm.body_first_line, meta)
    if "base_model" not in meta and fm.yaml_text is not None and not plans and FINETUNE_WORDS.search(fm.body):
        findings.append(Finding("warning", "base_model", "the card describes a fine-tune but names no base_model",
                                "add base_model: ORG/NAME so the Hub shows the model tree", fm.yaml_first_line))
    return sort_findings(findings)
