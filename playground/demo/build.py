"""Build the offline demo family: one tiny, briefly trained model per architecture of the family.

Each model is a real transformers class (StableLM, Llama, Mistral) with a byte-level BPE tokenizer
that carries its prompt format's special tokens, a ``chat_template.jinja`` equal to the format's
template, and a generation config whose EOS ends its turns. The build is deterministic (fixed
seeds, one thread), offline, and idempotent: a stamp file records the builder version.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BUILDER_VERSION = "1"
STAMP = "lineup-demo.json"

ProgressFn = Callable[[float | None, str], None]


@dataclass(frozen=True)
class DemoArch:
    """One demo model: its folder name, architecture, format and tokens."""

    name: str  # folder under demo_dir(); the catalog refers to it as '@demo/NAME'
    model_type: str  # transformers model_type: stablelm | llama | mistral
    format_id: str
    bos: str
    eos: str
    special: tuple[str, ...]  # every special token, bos and eos included
    add_bos: bool  # does the tokenizer put BOS in front by default?
    turn_end: str  # text appended after the last assistant turn in training (the EOS text, or '')
    extra_eos: tuple[str, ...] = ()  # more tokens that end a turn (generation_config.eos_token_id)
    cot_format: str | None = None  # train rationale/answer examples in this format too
    vocab_size: int = 640


LLAMA3_SPECIAL = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
)

DEMOS: tuple[DemoArch, ...] = (
    DemoArch("stablelm", "stablelm", "memphis", "<|endoftext|>", "<|endoftext|>", ("<|endoftext|>",), False, "<|endoftext|>", cot_format="memphis-cot"),
    DemoArch("llama", "llama", "metharme", "<s>", "</s>", ("<s>", "</s>", "<|system|>", "<|user|>", "<|model|>"), True, "</s>"),
    DemoArch("mistral", "mistral", "cerebrum", "<s>", "</s>", ("<s>", "</s>"), True, "</s>"),
    DemoArch("llama3", "llama", "cat-llama3", "<|begin_of_text|>", "<|end_of_text|>", LLAMA3_SPECIAL, True, "", extra_eos=("<|im_end|>", "<|eot_id|>")),
)

TRAIN_STEPS = 80
BATCH = 32
HIDDEN = 64
LAYERS = 2


def get_demo(name: str) -> DemoArch:
    """Look up a demo architecture by folder name."""
    from playground.errors import UnknownIdError

    for d in DEMOS:
        if d.name == name:
            return d
    raise UnknownIdError("demo model", name, [d.name for d in DEMOS])


def conversations(arch: DemoArch) -> list[tuple[str, list[dict[str, str]]]]:
    """The training conversations for one demo: (format id, messages ending with the answer)."""
    from playground.demo.corpus import COT, QA, SYSTEMS

    out: list[tuple[str, list[dict[str, str]]]] = []
    for i, (q, a) in enumerate(QA):
        msgs = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        if i % 3 == 1:
            msgs = [{"role": "system", "content": SYSTEMS[i % len(SYSTEMS)]}, *msgs]
        out.append((arch.format_id, msgs))
        if i % 4 == 0:  # a two-turn conversation, so history does not confuse the model
            q2, a2 = QA[(i + 5) % len(QA)]
            out.append((arch.format_id, [*msgs, {"role": "user", "content": q2}, {"role": "assistant", "content": a2}]))
    if arch.cot_format:
        for q, rationale, answer in COT:
            content = f"{rationale}\n### Answer:\n{answer}"
            out.append((arch.cot_format, [{"role": "user", "content": q}, {"role": "assistant", "content": content}]))
    return out


def training_texts(arch: DemoArch) -> list[tuple[str, str]]:
    """(prompt prefix, full text) pairs: the loss covers only what follows the prefix."""
    from playground.formats import get_format

    pairs = []
    for fmt_id, msgs in conversations(arch):
        fmt = get_format(fmt_id)
        prefix = fmt.render(msgs[:-1], add_generation_prompt=True)
        full = fmt.render(msgs, add_generation_prompt=False)
        pairs.append((prefix, full + arch.turn_end))
    return pairs


def build_tokenizer(arch: DemoArch, texts: list[str]):
    """Train a byte-level BPE tokenizer on texts; wrap it with the format's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    from playground.demo.corpus import PROSE
    from playground.formats import get_format

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=arch.vocab_size,
        special_tokens=list(arch.special),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([*texts, PROSE], trainer)
    if arch.add_bos:
        bos_id = tok.token_to_id(arch.bos)
        tok.post_processor = processors.TemplateProcessing(
            single=f"{arch.bos} $A", pair=f"{arch.bos} $A {arch.bos} $B", special_tokens=[(arch.bos, bos_id)]
        )
    extra = [t for t in arch.special if t not in (arch.bos, arch.eos)]
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=arch.bos,
        eos_token=arch.eos,
        pad_token=arch.eos,
        additional_special_tokens=extra,
        model_max_length=512,
    )
    hf.chat_template = get_format(arch.format_id).chat_template
    return hf


def model_config(arch: DemoArch, tokenizer):
    """A tiny config of the architecture's real transformers class."""
    from transformers import AutoConfig

    eos_ids = [tokenizer.convert_tokens_to_ids(t) for t in (arch.eos, *arch.extra_eos)]
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN,
        intermediate_size=HIDDEN * 3,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        num_key_value_heads=2 if arch.model_type != "stablelm" else 4,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos_ids[0],
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    return AutoConfig.for_model(arch.model_type, **common), eos_ids


def encode_examples(tokenizer, pairs: list[tuple[str, str]]):
    """Token ids and label masks (prompt tokens are -100) for the training pairs."""
    from playground.formats.encode import encode_prompt

    rows = []
    for prefix, full in pairs:
        ids = encode_prompt(full, tokenizer)
        n_prefix = len(encode_prompt(prefix, tokenizer))
        labels = [-100] * n_prefix + ids[n_prefix:]
        rows.append((ids, labels))
    return rows


def train(model, rows, pad_id: int, steps: int = TRAIN_STEPS, seed: int = 0) -> float:
    """A short deterministic AdamW run; returns the last loss."""
    import torch

    g = torch.Generator().manual_seed(seed)
    width = max(len(ids) for ids, _ in rows)
    ids_t = torch.full((len(rows), width), pad_id, dtype=torch.long)
    lab_t = torch.full((len(rows), width), -100, dtype=torch.long)
    att_t = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (ids, labels) in enumerate(rows):
        ids_t[i, : len(ids)] = torch.tensor(ids)
        lab_t[i, : len(ids)] = torch.tensor(labels)
        att_t[i, : len(ids)] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 20) * max(0.05, 1 - s / steps))
    model.train()
    loss_value = float("nan")
    for _ in range(steps):
        idx = torch.randperm(len(rows), generator=g)[:BATCH]
        width_b = int(att_t[idx].sum(dim=1).max())
        out = model(input_ids=ids_t[idx, :width_b], attention_mask=att_t[idx, :width_b], labels=lab_t[idx, :width_b])
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_value = out.loss.item()
    model.eval()
    return loss_value


def build_one(arch: DemoArch, target: Path, steps: int = TRAIN_STEPS) -> dict:
    """Build one demo model folder at target (replaced atomically).

    Returns:
        A small report: name, parameters, final training loss, seconds.
    """
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    t0 = time.perf_counter()
    pairs = training_texts(arch)
    tokenizer = build_tokenizer(arch, [full for _, full in pairs])
    config, eos_ids = model_config(arch, tokenizer)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same floats run after run (and fastest for tiny models)
    try:
        torch.manual_seed(1234)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        loss = train(model, encode_examples(tokenizer, pairs), tokenizer.pad_token_id, steps=steps)
    finally:
        torch.set_num_threads(threads)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=eos_ids if len(eos_ids) > 1 else eos_ids[0],
        pad_token_id=tokenizer.pad_token_id,
    )
    tmp = Path(tempfile.mkdtemp(prefix=f".{arch.name}-", dir=target.parent))
    try:
        with _quiet_progress_bars():
            model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        report = {
            "name": arch.name,
            "format": arch.format_id,
            "architecture": arch.model_type,
            "parameters": sum(p.numel() for p in model.parameters()),
            "final_loss": round(loss, 4),
            "seconds": round(time.perf_counter() - t0, 2),
        }
        (tmp / "README.md").write_text(
            f"# Lineup demo model: {arch.name}\n\nA tiny {arch.model_type} trained for {steps} steps on a built-in "
            f"corpus, prompted in the {arch.format_id!r} format. NOT a real model: for offline demos and tests.\n",
            encoding="utf-8",
        )
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return report


@contextlib.contextmanager
def _quiet_progress_bars():
    """Hide transformers' shard-writing progress bar while saving."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def stamp_matches(root: Path) -> bool:
    """True when root holds a complete build of this builder version."""
    try:
        stamp = json.loads((root / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("builder_version") == BUILDER_VERSION and all(
        (root / d.name / "config.json").is_file() and (root / d.name / "tokenizer.json").is_file() for d in DEMOS
    )


def build_demo_models(root: Path | None = None, force: bool = False, progress: ProgressFn | None = None) -> list[dict]:
    """Build every demo model into root (default: catalog.demo_dir()).

    Args:
        root: the output folder.
        force: rebuild even when the stamp says the build is current.
        progress: called with (fraction, message) as each model is built.

    Returns:
        One report per model built (empty when the build was already current).
    """
    from playground.catalog import demo_dir

    root = Path(root) if root else demo_dir()
    if not force and stamp_matches(root):
        return []
    root.mkdir(parents=True, exist_ok=True)
    with _build_lock(root):  # an app and a test run may ask at the same moment: build once
        if not force and stamp_matches(root):
            return []
        (root / STAMP).unlink(missing_ok=True)
        reports = []
        for i, arch in enumerate(DEMOS):
            if progress:
                progress(i / len(DEMOS), f"building demo model {arch.name} ({arch.format_id})")
            reports.append(build_one(arch, root / arch.name))
        (root / STAMP).write_text(json.dumps({"builder_version": BUILDER_VERSION, "models": reports}, indent=2), encoding="utf-8")
    if progress:
        progress(1.0, "demo models ready")
    return reports


@contextlib.contextmanager
def _build_lock(root: Path):
    """An exclusive lock file in root (POSIX flock; no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: builds are atomic per model folder anyway
        yield
        return
    with open(root / ".build.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_demo_models(progress: ProgressFn | None = None) -> Path:
    """Build the demo models if they are missing or stale, and return their folder.

    Args:
        progress: optional (fraction, message) callback for a progress bar.

    Returns:
        The demo folder (catalog.demo_dir()).
    """
    from playground.catalog import demo_dir

    root = demo_dir()
    build_demo_models(root, progress=progress)
    return root
