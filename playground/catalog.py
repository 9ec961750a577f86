"""The model catalog: validated entries loaded from models.yaml (data, not code)."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from playground.errors import CatalogError, PathNotAllowedError, UnknownModelError

DEMO_PREFIX = "@demo/"


def demo_dir() -> Path:
    """Where the offline demo models live (LINEUP_DEMO_DIR, else ~/.cache/lineup/demo-models)."""
    env = os.environ.get("LINEUP_DEMO_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lineup" / "demo-models"


class Endpoint(BaseModel):
    """A remote serving endpoint that runs this model (vLLM, TGI, llama.cpp, Inference Endpoints)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(description="Base URL, e.g. http://127.0.0.1:8080 or an Inference Endpoint URL")
    protocol: Literal["openai", "tgi"] = Field(description="openai: /v1/completions over SSE; tgi: generate_stream")
    token_env: str | None = Field(None, description="Environment variable that holds the bearer token")
    model: str | None = Field(None, description="Model name sent to OpenAI-compatible servers")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Per-request timeout in seconds")
    dialect: Literal["auto", "llama-cpp-python", "llama.cpp", "vllm", "generic"] = Field(
        "auto", description="Server flavour for OpenAI-compatible endpoints; auto asks GET /v1/models"
    )


class ModelSpec(BaseModel):
    """One catalog entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", description="Short id used by the CLI and the UI")
    label: str
    repo: str | None = Field(None, description="Hugging Face Hub repo id, org/name")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit)")
    path: str | None = Field(None, description="A local model folder ('@demo/NAME' for demo models)")
    endpoint: Endpoint | None = None
    architecture: str
    params_b: float | None = Field(None, gt=0, description="Parameter count in billions (None: unknown)")
    context_length: int = Field(gt=0)
    format: str | None = Field(None, description="Prompt format id; None: detect from the tokenizer")
    preset: str | None = Field(None, description="Sampling preset id, from the model card when it gives one")
    license: str = "unknown"
    description: str = ""
    demo: bool = False

    @field_validator("repo")
    @classmethod
    def _repo_shape(cls, v: str | None) -> str | None:
        if v is not None and (v.count("/") != 1 or v.startswith("/") or v.endswith("/")):
            raise ValueError(f"repo must look like 'org/name', got {v!r}")
        return v

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str | None) -> str | None:
        from playground.formats import get_format

        if v is not None:
            try:
                get_format(v)
            except KeyError as exc:  # pydantic only reports ValueErrors as field errors
                raise ValueError(str(exc)) from None
        return v

    @model_validator(mode="after")
    def _has_source(self) -> ModelSpec:
        if not (self.repo or self.path or self.endpoint):
            raise ValueError(f"model {self.id!r} needs a repo, a path or an endpoint")
        return self

    @property
    def local_path(self) -> Path | None:
        """The folder to load from, with '@demo/' resolved; None for Hub-only entries."""
        if self.path is None:
            return None
        if self.path.startswith(DEMO_PREFIX):
            return demo_dir() / self.path[len(DEMO_PREFIX):]
        return Path(self.path).expanduser()

    @property
    def is_remote(self) -> bool:
        """True when the model is served by an endpoint rather than loaded here."""
        return self.endpoint is not None

    @property
    def source(self) -> str:
        """Where the weights come from, for display."""
        if self.endpoint:
            return f"{self.endpoint.protocol} endpoint {self.endpoint.url}"
        if self.path:
            return str(self.local_path)
        return f"{self.repo}" + (f"@{self.revision}" if self.revision else "")


def default_catalog_path() -> Path:
    """LINEUP_CATALOG if set, else the packaged models.yaml."""
    env = os.environ.get("LINEUP_CATALOG")
    if env:
        return Path(env).expanduser()
    return Path(str(resources.files("playground") / "models.yaml"))


def load_catalog(path: str | Path | None = None) -> dict[str, ModelSpec]:
    """Read and validate a catalog file.

    Args:
        path: a YAML file with a top-level ``models:`` list; default: default_catalog_path().

    Returns:
        {id: ModelSpec} in file order; raises CatalogError naming the entry and field.
    """
    path = Path(path) if path else default_catalog_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise CatalogError(f"catalog {path} must have a top-level 'models:' list")
    out: dict[str, ModelSpec] = {}
    for i, entry in enumerate(data["models"]):
        try:
            spec = ModelSpec.model_validate(entry)
        except ValidationError as exc:
            where = entry.get("id", f"#{i}") if isinstance(entry, dict) else f"#{i}"
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in exc.errors())
            raise CatalogError(f"catalog {path}, model {where}: {problems}") from exc
        if spec.id in out:
            raise CatalogError(f"catalog {path}: duplicate model id {spec.id!r}")
        out[spec.id] = spec
    return out


@lru_cache(maxsize=8)
def _cached(path: str) -> dict[str, ModelSpec]:
    return load_catalog(path)


def catalog() -> dict[str, ModelSpec]:
    """The active catalog (cached per path)."""
    return _cached(str(default_catalog_path()))


def list_models() -> list[ModelSpec]:
    """Every model in the active catalog."""
    return list(catalog().values())


def get_model(model_id: str) -> ModelSpec:
    """Look up a catalog model.

    Args:
        model_id: a catalog id such as 'metharme-7b'.

    Returns:
        The ModelSpec; raises UnknownModelError (a KeyError) listing the valid ids.
    """
    models = catalog()
    if model_id not in models:
        raise UnknownModelError(str(model_id), list(models))
    return models[model_id]


def spec_for_folder(folder: str | Path, allowed_dirs: list[Path] | None = None) -> ModelSpec:
    """Build an ad-hoc ModelSpec for a local model folder (format detected later).

    Args:
        folder: the model folder (config.json and weights).
        allowed_dirs: when given, the folder must lie inside one of them.

    Returns:
        A ModelSpec with ``path`` set and no format.
    """
    path = Path(folder).expanduser().resolve()
    if allowed_dirs is not None and not any(path.is_relative_to(Path(d).resolve()) for d in allowed_dirs):
        allowed = ", ".join(str(d) for d in allowed_dirs) or "(none configured)"
        raise PathNotAllowedError(f"model path {folder} is outside the allowed model directories: {allowed}")
    if not (path / "config.json").is_file():
        raise CatalogError(f"{folder} is not a model folder: it has no config.json")
    import json

    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise CatalogError(f"{folder}/config.json is not valid JSON: {exc}") from exc
    slug = "".join(c if c.isalnum() or c in "._-" else "-" for c in path.name.lower()).strip("-._") or "local"
    return ModelSpec(
        id=f"local-{slug}",
        label=f"{path.name} (local)",
        path=str(path),
        architecture=str(config.get("model_type", "unknown")),
        context_length=int(config.get("max_position_embeddings") or 2048),
        description=f"Local folder {path}",
    )


def resolve_model(id_or_path: str, allowed_dirs: list[Path] | None = None) -> ModelSpec:
    """A catalog id, or a local folder.

    Args:
        id_or_path: a catalog id or a path to a model folder.
        allowed_dirs: directories local paths must lie in (None: any).

    Returns:
        The ModelSpec.
    """
    if id_or_path in catalog():
        return catalog()[id_or_path]
    if os.sep in id_or_path or id_or_path.startswith(".") or Path(id_or_path).expanduser().is_dir():
        return spec_for_folder(id_or_path, allowed_dirs)
    raise UnknownModelError(id_or_path, list(catalog()))
