"""The studio's named API endpoints (`build_card`, `check_card`), callable from gradio_client (no gradio here)."""

from __future__ import annotations

import logging

import cards
from cards.errors import CardError
from cards.findings import sort_findings
from ui.studio_view import findings_json, render_view

log = logging.getLogger("lineup.studio")


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
    except Exception:  # never a traceback to an API client: say what happened, log the details
        log.exception("check_card failed")
        findings = [cards.Finding("error", "README", "the card could not be checked (an internal error; the server log "
                                  "has the details)", "please report it with the card")]
    return findings_json(findings)
