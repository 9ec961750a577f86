"""Pick a model's prompt format: catalog first, then the tokenizer's template, else say so."""

from __future__ import annotations

from dataclasses import dataclass

from playground.errors import MessageError
from playground.formats.spec import PromptFormat

# Conversations used to recognise a tokenizer template as one of the registered formats.
PROBES: tuple[list[dict[str, str]], ...] = (
    [{"role": "user", "content": "Hi"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ],
)


@dataclass(frozen=True)
class FormatChoice:
    """The format picked for a model, where it came from, and a warning to show if guessed."""

    format: PromptFormat | None
    source: str  # 'catalog' | 'override' | 'tokenizer-match' | 'tokenizer' | 'unknown'
    warning: str | None = None

    @property
    def format_id(self) -> str | None:
        """The chosen format's id, or None when none is known."""
        return self.format.id if self.format else None


def _matches(fmt: PromptFormat, tokenizer) -> bool:
    """True when the tokenizer's template renders the probes exactly like fmt."""
    try:
        return all(
            tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) == fmt.render(p)
            for p in PROBES
        )
    except Exception:  # a template that rejects a probe simply does not match
        return False


def detect_format(catalog_format: str | None = None, tokenizer=None, override: str | None = None) -> FormatChoice:
    """Choose the prompt format for a model.

    Args:
        catalog_format: the format id from the model's catalog entry, if any.
        tokenizer: the model's tokenizer, used when the catalog says nothing.
        override: a format id the user picked; wins over everything.

    Returns:
        A FormatChoice; ``format`` is None (with a warning) when nothing is known.
    """
    from playground.formats import format_from_tokenizer, get_format, list_formats

    if override:
        return FormatChoice(get_format(override), "override")
    if catalog_format:
        return FormatChoice(get_format(catalog_format), "catalog")
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        for fmt in list_formats():
            if fmt.chat_template and _matches(fmt, tokenizer):
                return FormatChoice(
                    fmt, "tokenizer-match", f"format guessed: the tokenizer's chat template renders like {fmt.id!r}"
                )
        try:
            fmt = format_from_tokenizer(tokenizer)
        except MessageError:
            fmt = None
        if fmt is not None:
            return FormatChoice(fmt, "tokenizer", "format guessed: using the tokenizer's own chat template")
    return FormatChoice(
        None, "unknown", "no prompt format is known for this model: pick one from the format list (none is assumed)"
    )
