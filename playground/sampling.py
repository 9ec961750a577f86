"""Sampling options: one validated model whose bounds and help text also build the UI sliders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from playground.errors import OptionsError, UnknownIdError

MAX_SEED = 2**32 - 1


class SamplingOptions(BaseModel):
    """Decoding settings for one request (shared by every column unless a preset overrides)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Randomness; 0 means greedy decoding", json_schema_extra={"step": 0.05})
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="Nucleus sampling: keep the smallest set of tokens whose probability adds up to top_p", json_schema_extra={"step": 0.01})
    top_k: int = Field(0, ge=0, le=1000, description="Keep only the k most likely tokens; 0 turns it off", json_schema_extra={"step": 1})
    min_p: float = Field(0.0, ge=0.0, le=1.0, description="Drop tokens less likely than min_p times the most likely one; 0 turns it off", json_schema_extra={"step": 0.01})
    typical_p: float = Field(1.0, gt=0.0, le=1.0, description="Locally typical sampling mass; 1 turns it off", json_schema_extra={"step": 0.01})
    repetition_penalty: float = Field(1.0, ge=0.5, le=2.0, description="Penalise tokens already present; 1 turns it off", json_schema_extra={"step": 0.01})
    no_repeat_ngram_size: int = Field(0, ge=0, le=20, description="Never repeat an n-gram of this size; 0 turns it off", json_schema_extra={"step": 1})
    max_new_tokens: int = Field(256, ge=1, le=4096, description="Most tokens to generate per column", json_schema_extra={"step": 1})
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="Random seed; the same seed gives the same output. Empty: pick one and record it")
    stop: tuple[str, ...] = Field((), max_length=16, description="Extra stop strings, on top of the format's own")

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, v: Any) -> Any:
        if isinstance(v, bool):  # pydantic would read True as 1: a form bug, not a value
            raise ValueError("must not be a boolean")
        return v

    @field_validator("stop")
    @classmethod
    def _stop_strings(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for s in v:
            if not s:
                raise ValueError("stop strings must not be empty")
            if len(s) > 200:
                raise ValueError("each stop string must be at most 200 characters")
        return v

    @property
    def greedy(self) -> bool:
        """True when decoding is greedy (temperature 0)."""
        return self.temperature == 0.0

    @classmethod
    def parse(cls, data: dict[str, Any] | None = None, **overrides: Any) -> SamplingOptions:
        """Validate raw values (from a form, CLI or JSON) into options.

        Args:
            data: field values; unknown fields are an error.
            **overrides: more field values, applied on top of data.

        Returns:
            SamplingOptions; raises OptionsError naming the first bad field and its allowed range.
        """
        if data is not None and not isinstance(data, Mapping):
            raise OptionsError("options", f"must be an object of option names to values, got {type(data).__name__}")
        values = {**(data or {}), **overrides}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "options"
            raise OptionsError(field, _explain(field, err)) from None

    def with_(self, **changes: Any) -> SamplingOptions:
        """A validated copy with some fields changed."""
        return SamplingOptions.parse(self.model_dump(), **changes)

    def generation_kwargs(self) -> dict[str, Any]:
        """The transformers GenerationConfig fields these options imply (no unused sampling flags)."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "do_sample": not self.greedy,
        }
        if not self.greedy:
            kwargs |= {
                "temperature": self.temperature,
                "top_p": self.top_p,
                "top_k": self.top_k,
                "min_p": self.min_p or None,
                "typical_p": self.typical_p,
            }
        else:  # neutralise the sampling defaults so transformers does not warn about them
            kwargs |= {"temperature": None, "top_p": None, "top_k": None, "min_p": None, "typical_p": None}
        return kwargs


def _shown(value: Any, limit: int = 80) -> str:
    """repr(value), cut to limit characters (a 1 MB stop string must not come back in full)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(field: str, err: dict[str, Any]) -> str:
    """Turn a pydantic error into 'must be a number from A to B, got X'."""
    name = field.split(".")[0]
    spec = SamplingOptions.model_fields.get(name)
    got = _shown(err.get("input"))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"unknown option; valid options are {', '.join(SamplingOptions.model_fields)}"
    if name == "stop":
        return f"must be a list of at most 16 non-empty strings ({msg}), got {got}"
    if spec is not None:
        rng = describe_range(field)
        if err["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            return f"must be {rng}, got {got}"
        return f"must be {rng}, got {got} ({msg})"
    return f"{msg}, got {got}"


def _bound_details(field: str) -> tuple[float | None, bool, float | None, bool]:
    """(low, low_exclusive, high, high_exclusive) from a numeric option's Field metadata."""
    lo = hi = None
    lo_ex = hi_ex = False
    for m in SamplingOptions.model_fields[field].metadata:
        if getattr(m, "ge", None) is not None:
            lo, lo_ex = m.ge, False
        elif getattr(m, "gt", None) is not None:
            lo, lo_ex = m.gt, True
        if getattr(m, "le", None) is not None:
            hi, hi_ex = m.le, False
        elif getattr(m, "lt", None) is not None:
            hi, hi_ex = m.lt, True
    return lo, lo_ex, hi, hi_ex


def bounds(field: str) -> tuple[float | None, float | None]:
    """The (low, high) bounds of a numeric option, from its Field metadata."""
    lo, _, hi, _ = _bound_details(field)
    return lo, hi


def describe_range(field: str) -> str:
    """The allowed range in words, e.g. 'a number greater than 0.0 and at most 1.0'."""
    spec = SamplingOptions.model_fields[field]
    kind = "an integer" if spec.annotation in (int, int | None) else "a number"
    lo, lo_ex, hi, hi_ex = _bound_details(field)
    if lo is None and hi is None:
        return kind
    if not lo_ex and not hi_ex and lo is not None and hi is not None:
        return f"{kind} from {lo} to {hi}"
    parts = []
    if lo is not None:
        parts.append(f"greater than {lo}" if lo_ex else f"at least {lo}")
    if hi is not None:
        parts.append(f"less than {hi}" if hi_ex else f"at most {hi}")
    return f"{kind} " + " and ".join(parts)


@dataclass(frozen=True)
class SliderSpec:
    """What a UI needs to draw one numeric control."""

    name: str
    label: str
    minimum: float
    maximum: float
    step: float
    default: float
    help: str
    integer: bool


def slider_specs() -> list[SliderSpec]:
    """One SliderSpec per numeric option (seed and stop are not sliders)."""
    out = []
    for name, f in SamplingOptions.model_fields.items():
        if name in ("seed", "stop"):
            continue
        lo, lo_ex, hi, hi_ex = _bound_details(name)
        step = float((f.json_schema_extra or {}).get("step", 0.01))
        out.append(
            SliderSpec(
                name=name,
                label=name.replace("_", " "),
                minimum=float(lo) + (step if lo_ex else 0.0),  # an exclusive bound is not a valid slider value
                maximum=float(hi) - (step if hi_ex else 0.0),
                step=step,
                default=f.default,
                help=f.description or "",
                integer=f.annotation is int,
            )
        )
    return out


@dataclass(frozen=True)
class Preset:
    """A named set of options, with where it comes from."""

    id: str
    label: str
    source: str
    values: dict[str, Any]

    def options(self, base: SamplingOptions | None = None) -> SamplingOptions:
        """The preset applied on top of base (default options when None)."""
        return SamplingOptions.parse((base or SamplingOptions()).model_dump(), **self.values)


PRESETS: dict[str, Preset] = {
    p.id: p
    for p in (
        Preset("memphis-cot", "Memphis-CoT (card)", "Memphis-CoT-3B card: self-generated data used temperature 0.5, top_p 0.8, at most 512 tokens", {"temperature": 0.5, "top_p": 0.8, "top_k": 0, "max_new_tokens": 512}),
        Preset("cerebrum", "Cerebrum (card)", "Cerebrum-1.0-7b card: operate at temperature 0; no repetition penalty needed", {"temperature": 0.0, "repetition_penalty": 1.0}),
        Preset("precise", "Precise", "general", {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "min_p": 0.0, "repetition_penalty": 1.0}),
        Preset("balanced", "Balanced", "general", {"temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.0, "repetition_penalty": 1.05}),
        Preset("creative", "Creative", "general", {"temperature": 1.0, "top_p": 0.95, "top_k": 0, "min_p": 0.05, "repetition_penalty": 1.1}),
        Preset("greedy", "Greedy", "general: deterministic, temperature 0", {"temperature": 0.0}),
    )
}


def get_preset(preset_id: str) -> Preset:
    """Look up a preset; raises UnknownIdError listing the valid ids."""
    if preset_id not in PRESETS:
        raise UnknownIdError("preset", str(preset_id), list(PRESETS))
    return PRESETS[preset_id]
