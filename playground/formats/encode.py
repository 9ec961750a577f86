"""Turn a rendered prompt into token ids with exactly one BOS, and count what matters."""

from __future__ import annotations


def tokenizer_adds_bos(tokenizer) -> bool:
    """True when the tokenizer puts its BOS token in front of text by default."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if bos_id is None:
        return False
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bool(ids) and ids[0] == bos_id


def encode_prompt(prompt: str, tokenizer) -> list[int]:
    """Encode a prompt so that it starts with exactly one BOS when the model expects one.

    Args:
        prompt: text rendered by a PromptFormat (it may already begin with the BOS text).
        tokenizer: the model's tokenizer.

    Returns:
        Token ids: the prompt's own tokens, with the BOS id prepended only when the
        tokenizer adds one by default and the prompt does not already start with it.
    """
    ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if tokenizer_adds_bos(tokenizer) and (not ids or ids[0] != bos_id):
        ids.insert(0, bos_id)
    return ids


def leading_bos_count(ids: list[int], tokenizer) -> int:
    """How many BOS ids the sequence starts with."""
    bos_id = getattr(tokenizer, "bos_token_id", None)
    count = 0
    while bos_id is not None and count < len(ids) and ids[count] == bos_id:
        count += 1
    return count


def control_tokens_in(messages: list[dict[str, str]], tokenizer) -> list[str]:
    """The tokenizer's special/added token texts that occur inside message contents."""
    tokens = [t for t in getattr(tokenizer, "added_tokens_encoder", {}) if t and not t.isspace()]
    found = {t for m in messages for t in tokens if t in m["content"]}
    return sorted(found)


def encode_messages(fmt, messages, tokenizer, add_generation_prompt: bool = True) -> tuple[str, list[int], list[str]]:
    """Render and encode a conversation so that text typed by a user can never act as a control token.

    Special-token text inside a message (e.g. ``<|im_end|>`` typed by the user) is *escaped*: it is
    encoded as ordinary text pieces through transformers' ``sanitize_control_tokens``, so it cannot end
    the turn or open a new role; only the markers written by the format itself become tokens.

    Args:
        fmt: the PromptFormat (its chat_template is the format's Jinja twin).
        messages: the conversation.
        tokenizer: the model's tokenizer.
        add_generation_prompt: end with the assistant prompt.

    Returns:
        (prompt text, token ids with exactly one BOS when the model expects one, escaped token texts).
    """
    from playground.formats.spec import normalize_messages

    msgs = normalize_messages(messages)
    prompt = fmt.render(msgs, add_generation_prompt=add_generation_prompt)
    escaped = control_tokens_in(msgs, tokenizer)
    if not escaped:
        return prompt, encode_prompt(prompt, tokenizer), []
    enc = tokenizer.apply_chat_template(
        msgs,
        chat_template=fmt.chat_template,
        tokenize=True,
        return_dict=True,
        add_generation_prompt=add_generation_prompt,
        sanitize_control_tokens=True,
    )
    ids = list(enc["input_ids"])
    bos_id = getattr(tokenizer, "bos_token_id", None)
    if tokenizer_adds_bos(tokenizer) and (not ids or ids[0] != bos_id):
        ids.insert(0, bos_id)
    return prompt, ids, escaped
