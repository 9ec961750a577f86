"""Pushing the studio's card to the Hub as a pull request, with the user's own token (no gradio).

The server's token (HF_TOKEN, the login cache) is never used: on a Space that would push as the
Space's owner. The token is never echoed; cards.hub scrubs it from error messages.
"""

from __future__ import annotations

import importlib.util
import os

from cards.errors import CardError
from cards.hub import is_offline, push_card
from cards.hubids import is_hub_id


def on_space() -> bool:
    """True when the app runs on a Hugging Face Space."""
    return os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))


def oauth_available() -> bool:
    """True on a Space with Hub OAuth set up (hf_oauth: true) and gradio's OAuth extras installed."""
    extras = all(importlib.util.find_spec(m) is not None for m in ("authlib", "itsdangerous"))
    return on_space() and bool(os.environ.get("OAUTH_CLIENT_ID")) and extras


def offline_reason() -> str | None:
    """Why pushing cannot work here at all (None when it may)."""
    if is_offline():
        return ("Pushing is off: this app runs offline (HF_HUB_OFFLINE is set), so it cannot reach the Hub. "
                "Download README.md and upload it yourself, or run the app online.")
    return None


def push_note() -> str:
    """The help line under the push button."""
    reason = offline_reason()
    if reason:
        return f"⚠ {reason}"
    how = "log in with Hugging Face or paste" if oauth_available() else "paste"
    return (f"Opens a pull request that updates README.md; {how} a token with write access to the repo. "
            "The token is used for this push only and never shown or stored.")


def push_to_hub(readme: str | None, repo_id: str, typed_token: str | None, oauth_token: str | None,
                api=None) -> str:
    """Open a pull request with the card and say what happened (markdown for the page).

    Args:
        readme: the built README (None when the spec does not build).
        repo_id: the target model repo, org/name.
        typed_token: a token pasted by the user.
        oauth_token: the token of the user's Hub login on a Space.
        api: an HfApi-like object (tests pass a fake).

    Returns:
        A one-line message; never contains the token.
    """
    reason = offline_reason()
    if reason:
        return f"⚠ {reason}"
    if not readme:
        return "✖ There is no README to push: fix the spec's errors first."
    repo_id = (repo_id or "").strip()
    if not is_hub_id(repo_id):
        return f"✖ {repo_id or 'The repo id'} is not an 'org/name' model repo id; type the repo to open the pull request on."
    token = (typed_token or "").strip() or (oauth_token or "").strip()
    if not token:
        return "✖ No token: paste a Hugging Face token with write access" + (
            " or log in with Hugging Face." if oauth_available() else ".")
    try:
        result = push_card(readme, repo_id, token=token, create_pr=True, api=api)
    except CardError as exc:
        return f"✖ {str(exc).replace(token, '***')}"
    return f"✔ {result.message}"
