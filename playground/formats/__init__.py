"""The prompt-format registry: ``get_format(id)`` and friends.

Formats are data (``PromptFormat`` instances); see ``builtin.py`` for the family's formats.
"""

from __future__ import annotations

from playground.errors import UnknownFormatError
from playground.formats.builtin import BUILTIN_FORMATS
from playground.formats.spec import PromptFormat, normalize_messages

_REGISTRY: dict[str, PromptFormat] = {}


def register_format(fmt: PromptFormat, *, replace: bool = False) -> PromptFormat:
    """Add a format to the registry.

    Args:
        fmt: the format to register.
        replace: allow replacing a format with the same id.

    Returns:
        The registered format.
    """
    if fmt.id in _REGISTRY and not replace:
        raise ValueError(f"format {fmt.id!r} is already registered")
    _REGISTRY[fmt.id] = fmt
    return fmt


def get_format(format_id: str) -> PromptFormat:
    """Look up a format by id.

    Args:
        format_id: a registered id such as 'metharme'.

    Returns:
        The PromptFormat; raises UnknownFormatError (a KeyError) listing the valid ids.
    """
    try:
        return _REGISTRY[format_id]
    except (KeyError, TypeError):
        raise UnknownFormatError(str(format_id), format_ids()) from None


def format_ids() -> list[str]:
    """All registered format ids, in registration order."""
    return list(_REGISTRY)


def list_formats() -> list[PromptFormat]:
    """All registered formats, in registration order."""
    return list(_REGISTRY.values())


def format_from_tokenizer(tokenizer) -> PromptFormat:
    """Bind the 'tokenizer' format to a tokenizer's own chat template.

    Args:
        tokenizer: a transformers tokenizer with a ``chat_template``.

    Returns:
        A PromptFormat that renders through that template; raises MessageError if it has none.
    """
    from dataclasses import replace

    from playground.errors import MessageError

    template = getattr(tokenizer, "chat_template", None)
    if not template or not isinstance(template, str):
        raise MessageError("this tokenizer has no chat_template; pick a prompt format explicitly")
    base = get_format("tokenizer")
    return replace(
        base,
        template_override=template,
        stop_strings=tuple(t for t in (getattr(tokenizer, "eos_token", None),) if t),
    )


for _fmt in BUILTIN_FORMATS:
    register_format(_fmt)

__all__ = [
    "PromptFormat",
    "format_from_tokenizer",
    "format_ids",
    "get_format",
    "list_formats",
    "normalize_messages",
    "register_format",
]
