"""Plain spec-data helpers shared by the studio adapters: tolerant readers and ordered writers (no gradio)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from cards.spec import CardSpec
from cards.specbase import fmt_scalar

TOP_ORDER = tuple(CardSpec.model_fields)


def as_dict(value: Any) -> dict:
    """value if it is a mapping, else {} (the spec may be half-typed)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list:
    """value if it is a list, else []."""
    return value if isinstance(value, list) else []


def as_text(value: Any) -> str:
    """A scalar shown in a text field ('' for None)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else fmt_scalar(value) if isinstance(value, (int, float)) else str(value)


def as_items(value: Any) -> tuple[str, ...]:
    """A str-or-list metadata value as a tuple of strings."""
    if value is None:
        return ()
    return tuple(as_text(v) for v in (value if isinstance(value, list) else [value]) if v is not None)



def put(data: dict, key: str, value: Any) -> None:
    """Set a top-level key; a new key goes where CardSpec declares it, not at the end."""
    if key in data or key not in TOP_ORDER:
        data[key] = value
        return
    rank = TOP_ORDER.index(key)
    items = list(data.items())
    at = next((i for i, (k, _) in enumerate(items) if k in TOP_ORDER and TOP_ORDER.index(k) > rank), len(items))
    items.insert(at, (key, value))
    data.clear()
    data.update(items)


def mapping_at(data: dict, key: str) -> dict:
    """The mapping under a top-level key, created (in place) when missing or not a mapping."""
    if not isinstance(data.get(key), dict):
        put(data, key, {})
    return data[key]



def slug(text: str, taken: Sequence[str] = ()) -> str:
    """A short column id from a label ('GSM8K (5-shot)' -> 'gsm8k_5_shot'), unique among taken."""
    base = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "col"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    return out
