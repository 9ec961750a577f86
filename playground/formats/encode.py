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
