"""The prompt-format section, from the playground's format registry (one source of truth)."""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from cards.mdtools import code_block, code_blocks, heading_line, headings
from cards.specbase import Markdown, Strict
from cards.templating import render
from playground.errors import MessageError, UnknownFormatError
from playground.formats import get_format

DEFAULT_CAPTION = "For example, these messages"
SKELETON = {"system": "{system}", "user": "{user}", "assistant": "{assistant}"}


class Message(Strict):
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    content: str


class PromptExample(Strict):
    """A worked example: messages the registry renders into the exact prompt."""

    caption: Markdown | None = Field(None, description="One paragraph before the example.")
    messages: list[Message] = Field(min_length=1)
    add_generation_prompt: bool = True

    @field_validator("caption")
    @classmethod
    def _one_paragraph(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"\n\s*\n|```", value):
            raise ValueError("caption must be one paragraph without code blocks; put longer text in intro")
        return value


class PromptFormatSpec(Strict):
    """The prompt-format section: a registry format id plus optional worked examples."""

    id: str = Field(description="A format id of playground.formats (python -m playground formats lists them).")
    title: str = "Prompt format"
    level: int = Field(2, ge=1, le=4)
    intro: Markdown | None = None
    examples: list[PromptExample] = Field(default_factory=list)
    snippet: bool = Field(True, description="Show the apply_chat_template snippet.")

    @model_validator(mode="after")
    def _examples_render(self) -> PromptFormatSpec:
        fmt = get_format(self.id)
        for n, ex in enumerate(self.examples):
            try:
                fmt.render([m.model_dump() for m in ex.messages], add_generation_prompt=ex.add_generation_prompt)
            except MessageError as exc:
                raise ValueError(f"examples[{n}] cannot be rendered in format {self.id!r}: {exc}") from None
        return self

    @field_validator("id")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            fmt = get_format(value)
        except UnknownFormatError as exc:
            raise ValueError(str(exc)) from None
        if fmt.needs_tokenizer:
            raise ValueError(f"format {value!r} has no fixed template to document; choose the model's own format id")
        return value


def _has_system(fmt) -> bool:
    """Whether the format has a place for a system message."""
    return fmt.system is not None or fmt.system_merge is not None


def skeleton_messages(fmt) -> list[dict[str, str]]:
    """Placeholder turns showing the layout: system (unless the format has a default), user, assistant, user."""
    turns = ["system"] if _has_system(fmt) and fmt.default_system is None else []
    turns += ["user", "assistant", "user"]
    return [{"role": r, "content": SKELETON[r]} for r in turns]


def messages_literal(messages: list[dict[str, str]]) -> str:
    """'messages = [...]' as Python source, one message a line."""
    lines = [f"    {json.dumps(m, ensure_ascii=False)}," for m in messages]
    return "messages = [\n" + "\n".join(lines) + "\n]"


def snippet_md(fmt, repo: str, messages: list[dict[str, str]]) -> str:
    """The apply_chat_template snippet with the registry's Jinja template."""
    template = fmt.chat_template or ""
    literal = f'r"""{template}"""' if '"""' not in template and not template.endswith("\\") else json.dumps(template)
    code = "\n".join([
        "from transformers import AutoTokenizer",
        "",
        f"tokenizer = AutoTokenizer.from_pretrained({json.dumps(repo)})",
        f"tokenizer.chat_template = {literal}  # Lineup format '{fmt.id}'",
        "",
        messages_literal(messages),
        "prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)",
    ])
    return code_block(code, "python").rstrip("\n")


def _snippet_messages(spec: PromptFormatSpec) -> list[dict[str, str]]:
    """The last example's messages up to its last user turn (a generation prompt follows them)."""
    for ex in reversed(spec.examples):
        msgs = [m.model_dump() for m in ex.messages]
        users = [i for i, m in enumerate(msgs) if m["role"] == "user"]
        if users:
            return msgs[: users[-1] + 1]
    return [{"role": "user", "content": "Hello!"}]


def prompt_format_md(spec: PromptFormatSpec, repo: str) -> str:
    """The whole prompt-format section.

    Args:
        spec: the section spec.
        repo: the model's Hub id (or name) for the snippet.

    Returns:
        Markdown starting with the section heading; every prompt in it is rendered by the registry.
    """
    fmt = get_format(spec.id)
    examples = []
    for ex in spec.examples:
        msgs = [m.model_dump() for m in ex.messages]
        examples.append({
            "caption": ex.caption or DEFAULT_CAPTION,
            "messages_block": code_block(messages_literal(msgs), "python").rstrip("\n"),
            "gen_note": "" if ex.add_generation_prompt else " (add_generation_prompt=False)",
            "prompt_block": code_block(fmt.render(msgs, add_generation_prompt=ex.add_generation_prompt), "text").rstrip("\n"),
        })
    snippet_msgs = _snippet_messages(spec)
    return render(
        "prompt_format.md.j2",
        heading=heading_line(spec.level, spec.title),
        intro=spec.intro,
        label=fmt.label,
        id=fmt.id,
        description=fmt.description,
        notes=list(fmt.notes),
        skeleton_block=code_block(fmt.render(skeleton_messages(fmt), add_generation_prompt=True), "text").rstrip("\n"),
        stops=", ".join(f"`{s.replace(chr(10), chr(92) + 'n')}`" for s in fmt.stop_strings),
        examples=examples,
        snippet=snippet_md(fmt, repo, snippet_msgs) if spec.snippet else None,
    ).rstrip("\n") + "\n"


def parse_prompt_format_md(content: str) -> PromptFormatSpec:
    """Read back prompt_format_md's output.

    Args:
        content: the section's markdown.

    Returns:
        The PromptFormatSpec; ValueError when the text is not in that shape.
    """
    lines = content.strip("\n").split("\n")
    heads = headings(lines)
    text = "\n".join(lines)
    m = re.search(r"prompt format \(format id `([^`]+)`\)", text)
    if not heads or heads[0].index != 0 or not m:
        raise ValueError("not a prompt-format section")
    data: dict[str, Any] = {"id": m.group(1), "title": heads[0].title, "level": heads[0].level}
    first = next(i for i, line in enumerate(lines) if line.startswith("This model uses the **"))
    intro = "\n".join(lines[1:first]).strip("\n")
    if intro:
        data["intro"] = intro
    blocks = code_blocks(lines)
    examples = []
    for k, (start, _end, info, body) in enumerate(blocks):
        if info != "python" or not body.startswith("messages = ") or k + 1 >= len(blocks):
            continue
        caption_lines = []
        i = start - 1
        while i >= 0 and not lines[i].strip():
            i -= 1
        while i >= 0 and lines[i].strip():
            caption_lines.insert(0, lines[i])
            i -= 1
        nxt = blocks[k + 1]
        gen_line = "\n".join(lines[blocks[k][1] + 1: nxt[0]])
        caption = "\n".join(caption_lines)
        examples.append({
            "caption": None if caption == DEFAULT_CAPTION else caption,
            "messages": ast.literal_eval(body.split("=", 1)[1].strip()),
            "add_generation_prompt": "add_generation_prompt=False" not in gen_line,
        })
    data["examples"] = examples
    data["snippet"] = "apply_chat_template" in text and "from transformers import AutoTokenizer" in text
    return PromptFormatSpec.model_validate(data)
