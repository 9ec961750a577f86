"""Reference tables shipped under cards/data, loaded once with importlib.resources."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from cards.safeyaml import load_yaml


def _lines(name: str) -> list[str]:
    """Non-comment, non-blank lines of a data file."""
    text = resources.files("cards.data").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def licenses() -> frozenset[str]:
    """License ids the Hub accepts."""
    return frozenset(_lines("licenses.txt"))


@cache
def pipeline_tags() -> frozenset[str]:
    """The Hub's task ids."""
    return frozenset(_lines("pipeline_tags.txt"))


@cache
def languages() -> dict[str, str]:
    """Language code -> English name."""
    return dict(line.split("\t", 1) for line in _lines("languages.tsv"))


@cache
def language_names() -> dict[str, str]:
    """Lower-cased English name -> shortest code, for suggesting a fix."""
    out: dict[str, str] = {}
    for code, name in sorted(languages().items(), key=lambda kv: len(kv[0])):
        out.setdefault(name.lower(), code)
    return out


@cache
def canonical_datasets() -> dict[str, str]:
    """Legacy dataset id -> the org/name id the Hub redirects it to."""
    return dict(line.split("\t", 1) for line in _lines("canonical_datasets.tsv"))


@cache
def known_models() -> dict[str, str]:
    """Model name (last path component) -> well-known Hub id."""
    return {hub_id.split("/", 1)[1]: hub_id for hub_id in _lines("known_models.txt")}


@cache
def leaderboard() -> dict[str, Any]:
    """The Open LLM Leaderboard table (labels and model-index fields per benchmark)."""
    text = resources.files("cards.data").joinpath("leaderboard.yaml").read_text(encoding="utf-8")
    return load_yaml(text, "cards/data/leaderboard.yaml")
