"""Build a tiny llama-architecture GGUF offline, deterministically, in well under a second.

``build_hf_twin`` writes the same model (same weights, same tokenizer) as a transformers folder, so a
local column and a remote column of one model can be compared token for token.

The vocabulary is a byte-level BPE trained with the ``tokenizers`` library on a small built-in
corpus and written as tokenizer model "gpt2" (tokens, token types, merges, BOS/EOS ids, ChatML and
Llama-3 special tokens). The weights are random but shaped, so the model is useful to test against:

* every embedding carries a constant positive component in dimension 0, and the output rows of
  tokens that are not printable text (lone UTF-8 bytes, control characters, special tokens) point
  hard the other way in that dimension, so they never win. (A server that samples an invalid UTF-8
  byte holds the stream back waiting for the rest of the character, which stalls it for seconds.)
* the output row of each printable token is aligned with the embedding of its predecessor in one
  long random cycle, so greedy decoding walks through many different tokens and sampling at
  temperature ~1 often (not always) follows the cycle: different seeds give different text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CORPUS = (
    "The quick brown fox jumps over the lazy dog. A small model says hello to the world. "
    "Lineup shows several chat models side by side, each prompted in its own format. "
    "User: what is the capital of France? Assistant: The capital of France is Paris. "
    "### User:\nWrite a short poem about the sea.\n### Assistant:\nThe sea is wide and blue.\n"
    "<|im_start|>user\nTell me a story.<|im_end|>\n<|im_start|>assistant\nOnce upon a time there was a cat.\n"
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100. Punctuation: , . ; : ! ? ( ) [ ] - _ ' \" / # * + = < > |\n"
    "Remote columns stream tokens from a server while local columns run here. Stop strings end text.\n"
)
SPECIAL_TOKENS = ("<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>")
BOS, EOS = "<|begin_of_text|>", "<|im_end|>"


@dataclass(frozen=True)
class TinyConfig:
    """Shape of the tiny model."""

    vocab_size: int = 600
    n_embd: int = 64
    n_head: int = 4
    n_layer: int = 1
    n_ff: int = 128
    context_length: int = 512
    seed: int = 1234
    cycle_gain: float = 0.12  # how strongly the next token follows the cycle (sampling diversity)
    add_bos: bool = False  # tokenizer.ggml.add_bos_token: does the server put BOS in front itself?


def train_tokenizer(vocab_size: int):
    """A byte-level BPE ``tokenizers.Tokenizer`` trained on CORPUS (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([CORPUS] * 4, trainer=trainer)
    return tok


def train_vocab(vocab_size: int) -> tuple[list[str], list[str], dict[str, int]]:
    """Train the BPE and read it out for GGUF.

    Returns:
        (tokens in id order, merges as 'a b' strings, special token -> id).
    """
    tok = train_tokenizer(vocab_size)
    vocab = tok.get_vocab()
    tokens = [""] * len(vocab)
    for text, idx in vocab.items():
        tokens[idx] = text
    state = tok.model.__getstate__()
    import json

    merges = json.loads(state)["merges"]
    merges = [" ".join(m) if isinstance(m, list) else m for m in merges]
    return tokens, merges, {s: vocab[s] for s in SPECIAL_TOKENS}


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet: printable character -> byte."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def token_text(token: str, decoder: dict[str, int]) -> str | None:
    """The text a byte-level token stands for, or None when it is not whole UTF-8."""
    try:
        return bytes(decoder[c] for c in token).decode("utf-8")
    except (KeyError, UnicodeDecodeError):
        return None


def printable(text: str | None) -> bool:
    """True for text made of printable characters (newline allowed)."""
    return bool(text) and all(ch == "\n" or ch.isprintable() for ch in text)


def permute_qk(w: np.ndarray, n_head: int) -> np.ndarray:
    """transformers' rotary layout (halves) -> llama.cpp's (pairs), as convert_hf_to_gguf.py does."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def build_weights(cfg: TinyConfig, allowed: np.ndarray) -> dict[str, np.ndarray]:
    """Random but shaped llama weights (see the module docstring), GGUF names, transformers layout."""
    rng = np.random.default_rng(cfg.seed)
    v, d, ff = len(allowed), cfg.n_embd, cfg.n_ff
    emb = rng.standard_normal((v, d)).astype(np.float32)
    emb[:, 0] = 3.0
    out = np.zeros((v, d), dtype=np.float32)
    ids = np.flatnonzero(allowed)
    order = rng.permutation(ids)
    for prev, nxt in zip(order, np.roll(order, -1), strict=True):  # one cycle through printable tokens
        out[nxt, 1:] = cfg.cycle_gain * emb[prev, 1:]
    out[~allowed, 0] = -10.0
    w: dict[str, np.ndarray] = {"token_embd.weight": emb, "output_norm.weight": np.ones(d, np.float32), "output.weight": out}

    def small(*shape: int) -> np.ndarray:
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    for i in range(cfg.n_layer):
        p = f"blk.{i}."
        w |= {
            p + "attn_norm.weight": np.ones(d, np.float32),
            p + "attn_q.weight": small(d, d),
            p + "attn_k.weight": small(d, d),
            p + "attn_v.weight": small(d, d),
            p + "attn_output.weight": small(d, d),
            p + "ffn_norm.weight": np.ones(d, np.float32),
            p + "ffn_gate.weight": small(ff, d),
            p + "ffn_up.weight": small(ff, d),
            p + "ffn_down.weight": small(d, ff),
        }
    return w


def build_gguf(path: str | Path, cfg: TinyConfig | None = None) -> Path:
    """Write the tiny model to path.

    Args:
        path: the .gguf file to write (its folder must exist).
        cfg: model shape (default TinyConfig()).

    Returns:
        The path written.
    """
    import gguf

    cfg = cfg or TinyConfig()
    tokens, merges, special = train_vocab(cfg.vocab_size)
    decoder = _byte_decoder()
    allowed = np.array([t not in special and printable(token_text(t, decoder)) for t in tokens])
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens]
    path = Path(path)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("lineup-tiny-remote")
    w.add_context_length(cfg.context_length)
    w.add_embedding_length(cfg.n_embd)
    w.add_block_count(cfg.n_layer)
    w.add_feed_forward_length(cfg.n_ff)
    w.add_head_count(cfg.n_head)
    w.add_head_count_kv(cfg.n_head)
    w.add_rope_dimension_count(cfg.n_embd // cfg.n_head)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(len(tokens))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(special[BOS])
    w.add_eos_token_id(special[EOS])
    w.add_add_bos_token(cfg.add_bos)  # False: Lineup's formats carry BOS as text where the card wants it
    w.add_add_eos_token(False)
    for name, arr in build_weights(cfg, allowed).items():
        if name.endswith(("attn_q.weight", "attn_k.weight")):
            arr = permute_qk(arr, cfg.n_head)
        w.add_tensor(name, arr)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


HF_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}


def _hf_name(name: str) -> str:
    """GGUF tensor name -> transformers LlamaForCausalLM parameter name."""
    if name.startswith("blk."):
        _, layer, rest = name.split(".", 2)
        return f"model.layers.{layer}.{HF_NAMES[rest]}"
    return HF_NAMES[name]


def build_hf_twin(folder: str | Path, cfg: TinyConfig | None = None) -> Path:
    """Write the same model as build_gguf as a transformers folder (config, safetensors, tokenizer).

    Args:
        folder: the output folder (created).
        cfg: model shape (default TinyConfig()).

    Returns:
        The folder.
    """
    import json

    import torch
    from safetensors.torch import save_file
    from transformers import PreTrainedTokenizerFast

    cfg = cfg or TinyConfig()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(cfg.vocab_size)
    tokens, _, special = train_vocab(cfg.vocab_size)
    decoder = _byte_decoder()
    allowed = np.array([t not in special and printable(token_text(t, decoder)) for t in tokens])
    tensors = {_hf_name(k): torch.from_numpy(np.ascontiguousarray(v)) for k, v in build_weights(cfg, allowed).items()}
    save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": len(tokens),
        "hidden_size": cfg.n_embd,
        "intermediate_size": cfg.n_ff,
        "num_hidden_layers": cfg.n_layer,
        "num_attention_heads": cfg.n_head,
        "num_key_value_heads": cfg.n_head,
        "max_position_embeddings": cfg.context_length,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": special[BOS],
        "eos_token_id": special[EOS],
        "torch_dtype": "float32",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    (folder / "generation_config.json").write_text(json.dumps({"bos_token_id": special[BOS], "eos_token_id": special[EOS]}))
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=BOS, eos_token=EOS, additional_special_tokens=[s for s in SPECIAL_TOKENS if s not in (BOS, EOS)])
    hf_tok.save_pretrained(folder)
    return folder


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file (to check the build is deterministic)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


if __name__ == "__main__":  # pragma: no cover - manual use: python -m tests.remote_support.gguf_model OUT
    import sys

    out = build_gguf(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf")
    print(out, file_digest(out))
