"""Tiny real tokenizers for format tests: byte-level BPE with chosen special tokens and BOS rule."""

from __future__ import annotations

from functools import lru_cache

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "User: hello there, how are you today? AI: I am fine, thank you.",
    "### User:\nWhat is two plus two?\n### Assistant:\nFour.",
    "A chat between a user and a thinking artificial intelligence assistant.",
] * 4


def make_tokenizer(bos: str | None, eos: str | None, specials: tuple[str, ...] = (), add_bos: bool = False) -> PreTrainedTokenizerFast:
    """Build a byte-level BPE tokenizer (a fresh object each call; the training is cached).

    Args:
        bos: the BOS token text (None: no BOS).
        eos: the EOS token text.
        specials: other special tokens (kept whole).
        add_bos: whether encoding adds BOS by default.

    Returns:
        A PreTrainedTokenizerFast.
    """
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(_trained(bos, eos, specials, add_bos)),
        bos_token=bos,
        eos_token=eos,
        additional_special_tokens=list(specials) or None,
    )


@lru_cache(maxsize=32)
def _trained(bos: str | None, eos: str | None, specials: tuple[str, ...], add_bos: bool) -> str:
    """The trained tokenizer as JSON."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    all_special = [t for t in (bos, eos, *specials) if t]
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=all_special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    if add_bos and bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, tok.token_to_id(bos))]
        )
    return tok.to_str()
