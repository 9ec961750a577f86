"""Push a README to the Hub (the only module that talks to the network). The token is never shown."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from cards.check import check_card
from cards.errors import HubError
from cards.findings import has_errors
from cards.hubids import is_hub_id

CONNECT_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class PushResult:
    """What a push did (or would do)."""

    repo_id: str
    dry_run: bool
    create_pr: bool
    token_source: str | None  # 'argument', 'HF_TOKEN', 'login cache' or None; never the token
    url: str | None
    message: str


def resolve_token(token: str | None = None) -> tuple[str | None, str | None]:
    """The token to use and where it came from: argument, HF_TOKEN, then the login cache."""
    if token:
        return token, "argument"
    if os.environ.get("HF_TOKEN"):
        return os.environ["HF_TOKEN"], "HF_TOKEN"
    from huggingface_hub import get_token

    cached = get_token()
    return (cached, "login cache") if cached else (None, None)


def is_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) asks for no network."""
    from huggingface_hub import constants

    flags = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return constants.HF_HUB_OFFLINE or any(f and f.strip().lower() in ("1", "true", "yes", "on") for f in flags)


def reachable(endpoint: str, timeout: float = CONNECT_TIMEOUT_S) -> bool:
    """Whether a TCP connection to the Hub endpoint opens within the timeout (no retries)."""
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def _scrub(text: str, token: str | None) -> str:
    """The text with the token blanked out."""
    return text.replace(token, "***") if token else text


def push_card(
    readme_text: str,
    repo_id: str,
    *,
    token: str | None = None,
    create_pr: bool = False,
    dry_run: bool = False,
    commit_message: str | None = None,
    api=None,
) -> PushResult:
    """Upload README.md to a model repo (or say what would happen with dry_run).

    Args:
        readme_text: the card.
        repo_id: 'org/name' of an existing model repo.
        token: a Hub token; default HF_TOKEN, then the login cache.
        create_pr: open a pull request instead of committing to main.
        dry_run: check everything that needs no network and stop.
        commit_message: defaults to 'Update model card (lineup)'.
        api: an HfApi-like object (tests pass a fake).

    Returns:
        PushResult; raises HubError with a message that never contains the token.
    """
    if not is_hub_id(repo_id):
        raise HubError(f"--repo {repo_id!r} is not an 'org/name' repo id")
    findings = check_card(readme_text)
    if has_errors(findings):
        count = sum(f.severity == "error" for f in findings)
        raise HubError(f"the card has {count} error(s); run `python -m cards check README.md` and fix them first")
    tok, source = resolve_token(token)
    what = "open a pull request on" if create_pr else "commit README.md to"
    if dry_run:
        state = f"a token from {source}" if tok else "no token (a real push would stop here)"
        return PushResult(repo_id, True, create_pr, source, None,
                          f"dry run: would {what} {repo_id} ({len(readme_text.encode())} bytes) with {state}")
    if is_offline():
        raise HubError("HF_HUB_OFFLINE is set, so nothing can be pushed; unset it (or use --dry-run)")
    if not tok:
        raise HubError("no Hugging Face token: set HF_TOKEN or run `hf auth login`, then push again")
    from huggingface_hub import HfApi, constants

    if api is None and not reachable(constants.ENDPOINT):
        raise HubError(f"cannot reach {constants.ENDPOINT} within {CONNECT_TIMEOUT_S:g} s; check the network and retry")
    client = api if api is not None else HfApi()
    try:
        info = client.upload_file(
            path_or_fileobj=readme_text.encode("utf-8"), path_in_repo="README.md", repo_id=repo_id,
            repo_type="model", token=tok, create_pr=create_pr,
            commit_message=commit_message or "Update model card (lineup)",
        )
    except Exception as exc:  # huggingface_hub raises many types; every one becomes a HubError
        status = getattr(getattr(exc, "response", None), "status_code", None)
        hints = {401: "the token was rejected; log in again", 403: f"the token cannot write to {repo_id}",
                 404: f"{repo_id} does not exist; create it first (hf repo create {repo_id})"}
        detail = hints.get(status) or _scrub(f"{type(exc).__name__}: {exc}", tok).splitlines()[0][:300]
        raise HubError(f"push to {repo_id} failed: {detail}") from None
    url = getattr(info, "pr_url", None) or getattr(info, "commit_url", None)
    return PushResult(repo_id, False, create_pr, source, url, f"pushed README.md to {repo_id}" + (f": {url}" if url else ""))
