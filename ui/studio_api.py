"""The studio's named API endpoints (`build_card`, `check_card`), callable from gradio_client (no gradio here)."""

from __future__ import annotations

import cards
from cards.errors import CardError
from cards.findings import sort_findings
from ui.studio_view import findings_json, render_view


def build_card(spec_yaml: str) -> tuple[str, str]:
    """Build a model card from a spec and check it.

    Args:
        spec_yaml: the card spec as YAML text (files it names are not read; inline them).

    Returns:
        (README.md text, or '' when the spec does not build; JSON list of findings
        {severity, field, problem, fix, line}).
    """
    view = render_view(spec_yaml or "")
    return view.readme or "", findings_json(view.findings)


def check_card(readme: str) -> str:
    """Check a README.md offline, as `python -m cards check` does.

    Args:
        readme: the card text.

    Returns:
        JSON list of findings {severity, field, problem, fix, line}; [] when it passes.
    """
    try:
        findings = sort_findings(cards.check(readme or ""))
    except CardError as exc:  # e.g. an oversized input
        findings = [cards.Finding("error", "README", str(exc), "shorten the card")]
    return findings_json(findings)
