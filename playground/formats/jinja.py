"""Render a Jinja chat template exactly as transformers' apply_chat_template does."""

from __future__ import annotations

from typing import Any

import jinja2
from transformers.utils.chat_template_utils import render_jinja_template

from playground.errors import MessageError


def render_template(
    template: str,
    messages: list[dict[str, str]],
    add_generation_prompt: bool,
    **special_tokens: Any,
) -> str:
    """Render messages through a chat template with transformers' own sandboxed environment.

    Args:
        template: the Jinja chat template.
        messages: normalised messages.
        add_generation_prompt: whether the template should ask for the assistant's turn.
        **special_tokens: values such as bos_token/eos_token that the template may read.

    Returns:
        The rendered prompt; template errors become MessageError.
    """
    try:
        rendered, _ = render_jinja_template(
            conversations=[messages],
            chat_template=template,
            add_generation_prompt=add_generation_prompt,
            **special_tokens,
        )
    except jinja2.TemplateError as exc:
        raise MessageError(f"the chat template rejected the conversation: {exc}") from exc
    return rendered[0]
