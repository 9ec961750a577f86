"""Jinja templates under cards/templates, loaded with importlib.resources and StrictUndefined."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2


def _load(name: str) -> str:
    """Template source from the package."""
    return resources.files("cards.templates").joinpath(name).read_text(encoding="utf-8")


@cache
def _env() -> jinja2.Environment:
    """One environment: markdown output (no HTML escaping), strict about missing variables."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context) -> str:
    """Render a template file with the given variables.

    Args:
        name: file name under cards/templates, e.g. 'merge.md.j2'.
        **context: the template's variables.

    Returns:
        The rendered text.
    """
    return _env().get_template(name).render(**context)
