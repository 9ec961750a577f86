"""The PromptFormat data type: one prompt format, rendered in Python and as its Jinja twin."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playground.errors import MessageError

ROLES = ("system", "user", "assistant")
CONTENT = "{content}"
MAX_MESSAGE_CHARS = 200_000  # far beyond any family model's context; guards a public Space


def _split(template: str, name: str) -> tuple[str, str]:
    """Split a turn template such as '### User:\\n{content}\\n' into its prefix and suffix."""
    if template.count(CONTENT) != 1:
        raise ValueError(f"{name} template must contain {CONTENT} exactly once: {template!r}")
    prefix, suffix = template.split(CONTENT)
    return prefix, suffix


def _lit(text: str) -> str:
    """A Jinja string literal for text (Jinja unescapes like Python, so JSON quoting is exact)."""
    return json.dumps(text)


def normalize_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Check a conversation and return it as plain {'role', 'content'} dicts.

    Args:
        messages: items with a ``role`` of system/user/assistant and a string ``content``.

    Returns:
        A new list of dicts; raises MessageError naming the message and the problem.
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise MessageError("messages must be a list of {'role': ..., 'content': ...} objects")
    out: list[dict[str, str]] = []
    for i, msg in enumerate(messages):
        if not isinstance(msg, Mapping):
            raise MessageError(f"message {i} must be an object with 'role' and 'content', got {type(msg).__name__}")
        role = msg.get("role")
        if role not in ROLES:
            raise MessageError(f"message {i} has unknown role {role!r}; use one of {', '.join(ROLES)}")
        if "content" not in msg or msg["content"] is None:
            raise MessageError(f"message {i} ({role}) has no content; give it a 'content' string")
        content = msg["content"]
        if not isinstance(content, str):
            raise MessageError(f"message {i} ({role}) content must be a string, got {type(content).__name__}")
        if len(content) > MAX_MESSAGE_CHARS:
            raise MessageError(
                f"message {i} ({role}) is {len(content):,} characters; the limit is {MAX_MESSAGE_CHARS:,}: shorten it"
            )
        bad = next((j for j, ch in enumerate(content) if "\ud800" <= ch <= "\udfff"), None)
        if bad is not None:
            raise MessageError(
                f"message {i} ({role}) holds invalid Unicode (a lone surrogate) at character {bad}: remove it"
            )
        if role == "system" and i != 0:
            raise MessageError(f"message {i} is a system message; a system message may only come first")
        out.append({"role": role, "content": content})
    return out


@dataclass(frozen=True)
class PromptFormat:
    """A prompt format as data: turn templates plus the facts an engine needs about them.

    Each turn template holds ``{content}`` once. An empty system message counts as none
    (the default system prompt, if any, is used).
    """

    id: str
    label: str
    description: str
    source: str  # where the format is documented
    user: str = ""
    assistant: str = ""
    generation_prompt: str = ""
    system: str | None = None  # template for a system block; None: see system_merge
    system_merge: str | None = None  # '{system}...{content}': system folded into the first user turn
    default_system: str | None = None  # used when the conversation has no (non-empty) system message
    bos: str = ""  # literal text that opens every prompt (e.g. '<s>')
    strip_content: bool = False  # strip whitespace around every message (Llama-3 does)
    remove_from_history: tuple[str, ...] = ()  # text removed from earlier assistant turns (EOS)
    alternate: bool = False  # user/assistant must alternate, starting with user
    stop_strings: tuple[str, ...] = ()
    special_tokens: tuple[str, ...] = ()  # marker texts the model knows as single tokens
    answer_marker: str | None = None  # splits a completion into rationale and answer
    template_override: str | None = None  # a Jinja template used as is (the 'tokenizer' format)
    notes: tuple[str, ...] = field(default=())

    # ---- rendering -------------------------------------------------------------------
    @property
    def needs_tokenizer(self) -> bool:
        """True for the format that takes the model tokenizer's own chat template."""
        return self.template_override is None and not self.user

    def render(self, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = True) -> str:
        """Render a conversation to the exact prompt text.

        Args:
            messages: [{"role": "system"|"user"|"assistant", "content": str}, ...].
            add_generation_prompt: end with the text that asks the model for its answer.

        Returns:
            The prompt, byte for byte as the model card documents it.
        """
        msgs = normalize_messages(messages)
        if self.template_override is not None:
            from playground.formats.jinja import render_template

            return render_template(self.template_override, msgs, add_generation_prompt)
        if self.needs_tokenizer:
            raise MessageError(
                f"format {self.id!r} uses the model tokenizer's own chat template; "
                "bind it first with playground.formats.format_from_tokenizer(tokenizer)"
            )
        system = self.default_system
        if msgs and msgs[0]["role"] == "system":
            if msgs[0]["content"]:
                system = msgs[0]["content"]
            msgs = msgs[1:]
        self._check_order(msgs)
        parts = [self.bos]
        merge_pending = False
        if system is not None:
            if self.system is not None:
                parts.append(self._turn(self.system, system))
            elif self.system_merge is not None:
                merge_pending = True
            else:
                raise MessageError(f"format {self.id!r} has no place for a system message; remove it")
        user_pre, user_suf = _split(self.user, "user")
        asst_pre, asst_suf = _split(self.assistant, "assistant")
        for msg in msgs:
            content = self._clean(msg["content"])
            if msg["role"] == "user":
                if merge_pending:
                    pre, rest = self.system_merge.split("{system}")
                    head, tail = rest.split(CONTENT)
                    content = pre + self._clean(system) + head + content + tail
                    merge_pending = False
                parts.append(user_pre + content + user_suf)
            else:
                for junk in self.remove_from_history:
                    content = content.replace(junk, "")
                parts.append(asst_pre + content + asst_suf)
        if add_generation_prompt:
            parts.append(self.generation_prompt)
        return "".join(parts)

    def _clean(self, text: str) -> str:
        """Apply the format's whitespace rule to one message's content."""
        return text.strip() if self.strip_content else text

    def _turn(self, template: str, content: str) -> str:
        """Fill one turn template."""
        pre, suf = _split(template, "turn")
        return pre + self._clean(content) + suf

    def _check_order(self, msgs: list[dict[str, str]]) -> None:
        """Enforce user/assistant alternation for formats that require it."""
        if not self.alternate:
            return
        for i, msg in enumerate(msgs):
            want = "user" if i % 2 == 0 else "assistant"
            if msg["role"] != want:
                raise MessageError(
                    f"format {self.id!r} needs turns that alternate user/assistant starting with user; "
                    f"turn {i} is {msg['role']}"
                )

    # ---- the Jinja twin --------------------------------------------------------------
    @property
    def chat_template(self) -> str | None:
        """A Jinja chat template that renders exactly like ``render`` (None for 'tokenizer')."""
        if self.template_override is not None:
            return self.template_override
        if self.needs_tokenizer:
            return None
        return _build_jinja(self)

    @property
    def template_hash(self) -> str:
        """A short SHA-256 of the chat template, for replay records and cards."""
        return hashlib.sha256((self.chat_template or "").encode()).hexdigest()[:16]

    def as_history(self, completion: str) -> str:
        """A finished completion as it belongs in the history, so the next prompt holds what the model saw.

        Args:
            completion: the generated text.

        Returns:
            The text without what the assistant template adds around it: the part of the turn prefix
            beyond the generation prompt (Cerebrum's space after 'AI:') and the end-of-turn suffix.
        """
        if "{content}" not in self.assistant:
            return completion
        prefix, suffix = _split(self.assistant, "assistant")
        lead = prefix[len(self.generation_prompt):] if prefix.startswith(self.generation_prompt) else ""
        text = completion[len(lead):] if lead and completion.startswith(lead) else completion
        return text[: -len(suffix)] if suffix and text.endswith(suffix) else text

    def split_answer(self, completion: str) -> tuple[str | None, str]:
        """Split a completion into (rationale, answer) for formats with an answer marker.

        Args:
            completion: the generated text.

        Returns:
            (rationale, answer); rationale is None when the format has no marker or the
            marker is absent (then the whole text is the answer, or the rationale so far).
        """
        if self.answer_marker is None:
            return None, completion
        marker = self.answer_marker.strip("\n")
        idx = completion.find(marker)
        if idx < 0:
            return completion.rstrip("\n"), ""
        rationale = completion[:idx].rstrip("\n")
        answer = completion[idx + len(marker):].lstrip("\n").rstrip("\n")
        return rationale, answer


def _content_expr(fmt: PromptFormat, var: str) -> str:
    """The Jinja expression for one message's content, with the format's cleaning rule."""
    return f"({var} | trim)" if fmt.strip_content else var


def _build_jinja(fmt: PromptFormat) -> str:
    """Generate the Jinja twin of a PromptFormat (every literal outside tags is avoided)."""
    user_pre, user_suf = _split(fmt.user, "user")
    asst_pre, asst_suf = _split(fmt.assistant, "assistant")
    default = "none" if fmt.default_system is None else _lit(fmt.default_system)
    out = [
        f"{{%- set ns = namespace(system={default}, merge=false) -%}}",
        "{%- set loop_messages = messages -%}",
        "{%- if messages and messages[0]['role'] == 'system' -%}",
        "{%- if messages[0]['content'] -%}{%- set ns.system = messages[0]['content'] -%}{%- endif -%}",
        "{%- set loop_messages = messages[1:] -%}",
        "{%- endif -%}",
    ]
    if fmt.alternate:
        out.append(
            "{%- for message in loop_messages -%}"
            "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
            "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}"
            "{%- endif -%}{%- endfor -%}"
        )
    if fmt.bos:
        out.append(f"{{{{- {_lit(fmt.bos)} -}}}}")
    out.append("{%- if ns.system is not none -%}")
    if fmt.system is not None:
        sp, ss = _split(fmt.system, "system")
        out.append(f"{{{{- {_lit(sp)} + {_content_expr(fmt, 'ns.system')} + {_lit(ss)} -}}}}")
    elif fmt.system_merge is not None:
        out.append("{%- set ns.merge = true -%}")
    else:
        out.append(f"{{{{- raise_exception({_lit('format ' + fmt.id + ' has no place for a system message')}) -}}}}")
    out.append("{%- endif -%}")
    out.append("{%- for message in loop_messages -%}")
    out.append(f"{{%- set content = {_content_expr(fmt, 'message[' + repr('content') + ']')} -%}}")
    out.append("{%- if message['role'] == 'user' -%}")
    if fmt.system_merge is not None:
        pre, rest = fmt.system_merge.split("{system}")
        head, tail = rest.split(CONTENT)
        out.append(
            "{%- if ns.merge -%}"
            f"{{%- set content = {_lit(pre)} + {_content_expr(fmt, 'ns.system')} + {_lit(head)} + content + {_lit(tail)} -%}}"
            "{%- set ns.merge = false -%}{%- endif -%}"
        )
    out.append(f"{{{{- {_lit(user_pre)} + content + {_lit(user_suf)} -}}}}")
    out.append("{%- else -%}")
    for junk in fmt.remove_from_history:
        out.append(f"{{%- set content = content | replace({_lit(junk)}, '') -%}}")
    out.append(f"{{{{- {_lit(asst_pre)} + content + {_lit(asst_suf)} -}}}}")
    out.append("{%- endif -%}")
    out.append("{%- endfor -%}")
    out.append(f"{{%- if add_generation_prompt -%}}{{{{- {_lit(fmt.generation_prompt)} -}}}}{{%- endif -%}}")
    return "".join(out)
