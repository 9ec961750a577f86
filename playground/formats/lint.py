"""A prompt lint: double BOS, special tokens split into pieces, a missing generation prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playground.formats.encode import encode_prompt, leading_bos_count
from playground.formats.spec import PromptFormat

# Marker-looking text, checked when no format says which markers matter.
_MARKER_RE = re.compile(r"<\|[A-Za-z0-9_]+\|>|</?s>|\[/?INST\]")


@dataclass(frozen=True)
class LintFinding:
    """One problem found in a prompt."""

    code: str  # 'double-bos' | 'bos-in-text' | 'split-token' | 'no-generation-prompt'
    message: str
    severity: str = "warning"  # 'warning': the model will see something wrong; 'info': a trap avoided


def lint_prompt(
    prompt: str, tokenizer, fmt: PromptFormat | None = None, ids: list[int] | None = None
) -> list[LintFinding]:
    """Check a rendered prompt against the tokenizer that will read it.

    Args:
        prompt: the rendered prompt text.
        tokenizer: the model's tokenizer.
        fmt: the format that rendered it (tells which markers and ending to expect).
        ids: the token ids that will really be sent (default: Lineup's encode_prompt of the text).

    Returns:
        The findings, empty when the prompt looks right. A prompt whose ids start with two BOS
        is a 'double-bos' warning; a prompt that would get two only if encoded the usual way
        (``add_special_tokens=True``) is a 'bos-in-text' info note.
    """
    findings: list[LintFinding] = []
    ids = encode_prompt(prompt, tokenizer) if ids is None else ids
    if leading_bos_count(ids, tokenizer) > 1:
        findings.append(
            LintFinding("double-bos", f"the token ids start with {leading_bos_count(ids, tokenizer)} BOS tokens; the model expects one")
        )
    elif leading_bos_count(list(tokenizer(prompt, add_special_tokens=True)["input_ids"]), tokenizer) > 1:
        findings.append(
            LintFinding(
                "bos-in-text",
                f"the prompt text starts with the BOS {tokenizer.bos_token!r} and this tokenizer adds another by default: "
                "encoded here with one; elsewhere, encode it with add_special_tokens=False",
                severity="info",
            )
        )
    markers = set(fmt.special_tokens) if fmt and fmt.special_tokens else set(_MARKER_RE.findall(prompt))
    for marker in sorted(m for m in markers if m in prompt):
        pieces = tokenizer(marker, add_special_tokens=False)["input_ids"]
        if len(pieces) > 1:
            findings.append(
                LintFinding(
                    "split-token",
                    f"{marker!r} is split into {len(pieces)} tokens by this tokenizer: "
                    "the model was probably not trained with this template",
                )
            )
    if fmt is not None and not fmt.needs_tokenizer and fmt.template_override is None:
        ending = fmt.generation_prompt or fmt.user.split("{content}")[1]
        if ending and not prompt.endswith(ending):
            findings.append(
                LintFinding("no-generation-prompt", f"the prompt does not end with {ending!r}: the model may continue the user's turn")
            )
    return findings


def lint_lines(prompt: str, tokenizer, fmt: PromptFormat | None, ids: list[int]) -> list[str]:
    """Lint findings as display lines ('warning: …' / 'info: …') for the ids really sent."""
    return [f"{f.severity}: {f.message}" for f in lint_prompt(prompt, tokenizer, fmt, ids=ids)]


def typed_markers(fmt: PromptFormat, messages: list[dict[str, str]]) -> list[str]:
    """The format's own markers (special tokens and stop strings) that occur inside message contents."""
    markers = set(fmt.special_tokens) | set(fmt.stop_strings)
    return sorted(m for m in markers if m.strip() and any(m in msg["content"] for msg in messages))
