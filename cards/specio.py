"""Load, validate, resolve and dump card specs; validation errors become SpecError lines that name the field."""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cards.errors import CardError, SpecError
from cards.safeyaml import dump_yaml, load_yaml, read_text
from cards.spec import CardSpec


def _loc_text(loc: tuple) -> str:
    """('training', 'stages', 0, 'name') -> 'training.stages[0].name'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _unwrap(annotation: Any) -> list[Any]:
    """The model classes an annotation may hold (through Optional, list, dict, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        return [m for arg in typing.get_args(annotation) for m in _unwrap(arg)]
    return [annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that holds the last key of loc."""
    current: list[type[BaseModel]] = [CardSpec]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        nxt = [m for model in current if part in model.model_fields
               for m in _unwrap(model.model_fields[part].annotation)]
        if not nxt:
            return current[0] if len(current) == 1 else None
        current = nxt
    return current[0] if len(current) == 1 else None


def _problem(err: dict) -> str:
    """One line for one pydantic error: field, problem, fix."""
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("part", "text", "title")
                                                  and err["type"] == "section_shape"))
    where = _loc_text(loc)
    if err["type"] == "extra_forbidden":
        key = loc[-1]
        model = _model_at(loc)
        valid = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(key), valid, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        parent = _loc_text(loc[:-1])
        return f"unknown key '{key}' in {parent}{hint}; valid keys: {', '.join(valid)}"
    if err["type"] == "missing":
        return f"{where}: required; add it"
    msg = err["msg"].removeprefix("Value error, ")
    given = err.get("input")
    shown = "" if isinstance(given, (dict, list)) or err["type"] == "value_error" else f" (got {given!r})"
    return f"{where}: {msg}{shown}"


def parse_spec(data: Any, source: str = "spec") -> CardSpec:
    """Validate plain data as a CardSpec.

    Args:
        data: the parsed YAML (a mapping).
        source: a name for messages.

    Returns:
        The frozen CardSpec; raises SpecError listing every problem with its field.
    """
    if not isinstance(data, dict):
        raise SpecError(f"{source}: the spec must be a mapping with at least model_name, got {type(data).__name__}")
    try:
        return CardSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError([_problem(e) for e in exc.errors()]) from None


def load_spec(text: str, source: str = "spec.yaml") -> CardSpec:
    """Parse spec YAML (safely) and validate it.

    Args:
        text: the YAML text.
        source: a name for messages.

    Returns:
        The CardSpec; file references (config_file, results_file, ...) are left unresolved.
    """
    return parse_spec(load_yaml(text, source), source)


def load_spec_file(path: str | Path) -> CardSpec:
    """Read a spec file and resolve the files it names, relative to its folder.

    Args:
        path: the spec YAML.

    Returns:
        A CardSpec with merge config, hyperparameters and results-file values filled in.
    """
    p = Path(path)
    spec = load_spec(read_text(p), p.name)
    return resolve_files(spec, p.parent)


def resolve_files(spec: CardSpec, base: Path) -> CardSpec:
    """Fill in what config_file, hyperparameters_file and results_file name.

    Args:
        spec: a validated spec.
        base: the folder relative paths start from.

    Returns:
        A new spec with no file references left.
    """
    from cards.benchmarks import fill_from_runs
    from cards.evals import load_results
    from cards.training_import import import_hyperparameters

    update: dict[str, Any] = {}
    if spec.merge is not None and spec.merge.config_file:
        text = read_text(base / spec.merge.config_file, f"merge.config_file {spec.merge.config_file}")
        update["merge"] = _revalidate(spec.merge, config=text, config_file=None)
    if spec.training is not None and any(s.hyperparameters_file for s in spec.training.stages):
        stages = []
        for n, stage in enumerate(spec.training.stages):
            if stage.hyperparameters_file:
                name = stage.hyperparameters_file
                imported, _notes = import_hyperparameters(read_text(base / name, name), name)
                given = stage.hyperparameters.model_dump(exclude_none=True) if stage.hyperparameters else {}
                merged = {**imported.model_dump(exclude_none=True), **given}
                try:
                    stage = _revalidate(stage, hyperparameters=merged, hyperparameters_file=None)
                except SpecError as exc:
                    raise SpecError([f"training.stages[{n}] with {name}: {p}" for p in exc.problems]) from None
            stages.append(stage)
        update["training"] = spec.training.model_copy(update={"stages": stages})
    if spec.benchmarks is not None and any(r.results_file for r in spec.benchmarks.rows):
        runs = {i: load_results(base / r.results_file) for i, r in enumerate(spec.benchmarks.rows) if r.results_file}
        update["benchmarks"] = fill_from_runs(spec.benchmarks, runs)
    if not update:
        return spec
    data = spec.model_dump(exclude_defaults=True)
    data.update({k: v.model_dump(exclude_defaults=True) for k, v in update.items()})
    return parse_spec(data)


def _revalidate(model: BaseModel, **changes: Any) -> Any:
    """A copy of a sub-model with changes, validated again."""
    data = model.model_dump(exclude_defaults=True)
    data.update(changes)
    try:
        return type(model).model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise SpecError([_problem(e) for e in exc.errors()]) from None


def spec_data(spec: CardSpec) -> dict[str, Any]:
    """The spec as plain data: defaults left out, metadata in its order, spec_version first."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    data.pop("spec_version", None)
    return {"spec_version": spec.spec_version, **data}


def dump_spec(spec: CardSpec) -> str:
    """The spec as readable YAML that load_spec reads back to an equal spec."""
    return dump_yaml(spec_data(spec))


def spec_schema() -> dict[str, Any]:
    """The JSON schema of the spec (what `python -m cards schema` prints)."""
    schema = CardSpec.model_json_schema()
    schema["$id"] = f"https://lineup/cards/spec-v{CardSpec.model_fields['spec_version'].default}.json"
    return schema


def raise_for_unresolved(spec: CardSpec) -> None:
    """Refuse to build a spec whose file references were never read (build is pure: no file I/O)."""
    names = []
    if spec.merge is not None and spec.merge.config_file:
        names.append(f"merge.config_file ({spec.merge.config_file})")
    for n, stage in enumerate(spec.training.stages if spec.training else []):
        if stage.hyperparameters_file:
            names.append(f"training.stages[{n}].hyperparameters_file")
    for n, row in enumerate(spec.benchmarks.rows if spec.benchmarks else []):
        if row.results_file:
            names.append(f"benchmarks.rows[{n}].results_file")
    if names:
        raise CardError(f"the spec names files that were not read: {', '.join(names)}; "
                        "load it with cards.load_spec_file(path) or resolve_files(spec, folder)")
