"""Shared pieces of the spec models: the frozen strict base class and value formatting both ways."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

Scalar = str | int | float | bool
# Markdown text; blank lines at either end are dropped so rendered text reads back equal.
Markdown = Annotated[str, AfterValidator(lambda s: s.strip("\n"))]


class Strict(BaseModel):
    """Frozen, unknown keys are an error that names them, and NaN/infinity are refused as numbers."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def fmt_num(value: float | int) -> str:
    """A number as people write it: 2 not 2.0, 1e-5 not 1e-05."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):  # specs refuse them; text read from elsewhere may still hold one
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    text = format(value, ".10g")
    return re.sub(r"e([-+])0*(\d)", lambda m: f"e{'-' if m.group(1) == '-' else ''}{m.group(2)}", text)


def fmt_scalar(value: Scalar | None) -> str:
    """A scalar for a table cell; strings that would read back as something else are quoted."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return fmt_num(value)
    if parse_scalar(value) != value or value != value.strip():
        return json.dumps(value, ensure_ascii=False)
    return value


def parse_scalar(text: str) -> Scalar | None:
    """Read back what fmt_scalar wrote."""
    t = text.strip()
    if t == "":
        return None
    if t in ("yes", "no"):
        return t == "yes"
    if t.startswith('"') and t.endswith('"') and len(t) >= 2:
        try:
            return json.loads(t)
        except json.JSONDecodeError:
            return t
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if re.fullmatch(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?", t):
        return float(t)
    return t


def fmt_mapping(mapping: dict[str, Any]) -> str:
    """'k=v, k2=v2' for a small settings mapping."""
    return ", ".join(f"{k}={fmt_scalar(v)}" for k, v in mapping.items())


def parse_mapping(text: str) -> dict[str, Any]:
    """Read back fmt_mapping."""
    out: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in text.split(", "))):
        key, _, value = item.partition("=")
        out[key.strip()] = parse_scalar(value)
    return out


SAFE_KEY = re.compile(r"^[^=,|\n`]+$")


def check_keys(mapping: dict[str, Any] | None, field: str) -> None:
    """Keys of free-form mappings must survive the 'k=v, ...' and table-cell formats."""
    for key in mapping or {}:
        if not SAFE_KEY.match(key) or key != key.strip():
            raise ValueError(f"{field} key {key!r} may not contain '=', ',', '|', '`', newlines or edge spaces")
