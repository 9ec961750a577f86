"""Hub ids versus local paths: recognise them, explain what is wrong, guess the id a path means."""

from __future__ import annotations

import re

from cards.refdata import known_models

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
HUB_ID = re.compile(rf"^{_NAME}/{_NAME}$")
LEGACY_ID = re.compile(rf"^{_NAME}$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_HF_CACHE_DIR = re.compile(r"^models--(.+?)--(.+)$")
# Directory names that say where a model sits on disk, not who published it.
_GENERIC_DIR = re.compile(
    r"^(?:models?|checkpoints?|ckpts?|outputs?|out|merges?|merged|workspace|opt|home|users?|tmp|temp|data|mnt|"
    r"media|volumes|downloads?|hf|huggingface|hub|cache|weights|snapshots|extra_?hdd\d*|hdd\d*|ssd\d*|"
    r"disk\d*|drive\d*|storage|scratch|runs?)$",
    re.IGNORECASE,
)


def is_hub_id(value: str) -> bool:
    """True for a well-formed 'org/name' id."""
    return bool(HUB_ID.match(value)) and "--" not in value and ".." not in value and len(value) <= 96 * 2


def is_local_path(value: str) -> bool:
    """True for something that names a file-system location rather than a Hub repo."""
    v = value.strip()
    return (
        v.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or bool(_WINDOWS_PATH.match(v))
        or "\\" in v
        or v.count("/") > 1
    )


def guess_hub_id(path: str) -> str | None:
    """The Hub id a local model path most likely stands for, or None when nothing fits.

    Args:
        path: e.g. '/Users/me/opt/Workspace/AetherResearch/Cerebrum-1.0-7b'.

    Returns:
        e.g. 'AetherResearch/Cerebrum-1.0-7b': from a Hugging Face cache folder name, a well-known
        model name, or the last two path components when the parent is not a generic folder name.
    """
    parts = [p for p in re.split(r"[\\/]+", path.strip()) if p not in ("", ".", "..", "~")]
    for part in parts:
        m = _HF_CACHE_DIR.match(part)
        if m and is_hub_id(f"{m.group(1)}/{m.group(2)}"):
            return f"{m.group(1)}/{m.group(2)}"
    if not parts:
        return None
    name = parts[-1]
    if name in known_models():
        return known_models()[name]
    if len(parts) >= 2 and not _GENERIC_DIR.match(parts[-2]) and is_hub_id(f"{parts[-2]}/{name}"):
        return f"{parts[-2]}/{name}"
    return None


def model_id_problem(value: object) -> tuple[str, str] | None:
    """What is wrong with a base_model entry, as (problem, fix), or None when it is a fine Hub id.

    Args:
        value: one entry of base_model.

    Returns:
        None, or a pair of sentences naming the problem and the fix.
    """
    if not isinstance(value, str):
        return f"{value!r} is not a string", "give the model's Hub id as 'org/name'"
    if not value.strip():
        return "an empty model id", "give the model's Hub id as 'org/name'"
    if value.startswith(("http://", "https://")):
        tail = re.sub(r"^https?://(?:www\.)?(?:huggingface\.co|hf\.co)/", "", value).strip("/")
        hint = f"'{tail}'" if is_hub_id(tail) else "the 'org/name' id"
        return f"'{value}' is a URL", f"use {hint}"
    if is_local_path(value):
        guess = guess_hub_id(value)
        hint = f"'{guess}'" if guess else "the Hub id of that model"
        return f"'{value}' is a local path, which the Hub cannot link", f"replace it with {hint}"
    if is_hub_id(value):
        return None
    if LEGACY_ID.match(value):
        return f"'{value}' has no organisation", "use the full 'org/name' id (the Hub redirects legacy names)"
    return f"'{value}' is not an 'org/name' id", "use the model's Hub id, e.g. 'mistralai/Mistral-7B-v0.1'"


def hub_url(repo_id: str, kind: str = "model") -> str:
    """The huggingface.co URL of a model or dataset."""
    prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[kind]
    return f"https://huggingface.co/{prefix}{repo_id}"
