"""The prompt-format section comes from the playground registry: template, worked example, snippet."""

from __future__ import annotations

import ast
import re

import pytest

from cards.mdtools import code_blocks
from cards.prompt import PromptExample, PromptFormatSpec, parse_prompt_format_md, prompt_format_md
from playground.formats import format_ids, get_format

DOCUMENTED = [i for i in format_ids() if not get_format(i).needs_tokenizer]
EXAMPLE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
           {"role": "assistant", "content": "Hello</s>"}, {"role": "user", "content": "Bye"}]


def _blocks(md: str) -> list[tuple[str, str]]:
    """(info, content) of each code block."""
    return [(info, body) for _, _, info, body in code_blocks(md.split("\n"))]


@pytest.mark.parametrize("format_id", DOCUMENTED)
def test_every_prompt_in_the_section_is_rendered_by_the_registry(format_id):
    fmt = get_format(format_id)
    messages = EXAMPLE if (fmt.system or fmt.system_merge) else EXAMPLE[1:]
    spec = PromptFormatSpec(id=format_id, examples=[PromptExample(messages=messages)])
    md = prompt_format_md(spec, "org/model")
    blocks = _blocks(md)
    assert f"(format id `{format_id}`)" in md and fmt.label in md
    text_blocks = [body for info, body in blocks if info == "text"]
    assert text_blocks[1] == fmt.render(messages, add_generation_prompt=True).rstrip("\n")
    snippet = next(body for info, body in blocks if info == "python" and "AutoTokenizer" in body)
    assignment = next(node for node in ast.parse(snippet).body
                      if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "tokenizer.chat_template")
    assert ast.literal_eval(assignment.value) == fmt.chat_template  # the snippet carries the registry's template
    assert 'from_pretrained("org/model")' in snippet


@pytest.mark.parametrize("format_id", DOCUMENTED)
def test_section_parses_back(format_id):
    fmt = get_format(format_id)
    messages = EXAMPLE if (fmt.system or fmt.system_merge) else EXAMPLE[1:]
    spec = PromptFormatSpec(id=format_id, title="Usage", intro="Read this.", snippet=False, examples=[
        PromptExample(caption="First:", messages=messages[-1:]),
        PromptExample(messages=messages, add_generation_prompt=False)])
    assert parse_prompt_format_md(prompt_format_md(spec, "org/m")) == spec


def test_skeleton_shows_the_layout_and_default_preamble():
    md = prompt_format_md(PromptFormatSpec(id="memphis"), "x/y")
    assert "```text\n### System:\n{system}\n### User:\n{user}\n### Assistant:\n{assistant}\n### User:\n{user}\n" \
           "### Assistant:\n```" in md
    cerebrum = prompt_format_md(PromptFormatSpec(id="cerebrum"), "x/y")
    assert "<s>A chat between a user and a thinking artificial intelligence assistant." in cerebrum
    assert "Stop generating at: `\\nUser:`." in cerebrum


def test_snippet_ends_on_a_user_turn():
    md = prompt_format_md(PromptFormatSpec(id="chatml", examples=[PromptExample(
        messages=EXAMPLE[1:3], add_generation_prompt=False)]), "x/y")
    snippet = next(body for info, body in _blocks(md) if info == "python" and "AutoTokenizer" in body)
    messages = ast.literal_eval(re.search(r"messages = (\[.*?\n\])", snippet, re.S).group(1))
    assert messages == EXAMPLE[1:2]
