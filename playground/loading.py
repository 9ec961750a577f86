"""Load a catalog model or a local folder with transformers + accelerate (bitsandbytes 4-bit by default).

Failures become ModelLoadError with a message that says what to do: offline without a cached copy,
gated or missing repos, corrupt folders and out-of-memory all fail fast.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.catalog import ModelSpec
from playground.errors import ModelLoadError, UnknownIdError

ProgressFn = Callable[[float | None, str], None]  # (fraction 0..1 or None, message)

QUANTIZATIONS = ("auto", "nf4", "int8", "bf16", "fp16", "fp32")
WEIGHT_PATTERNS = ("*.safetensors", "*.safetensors.index.json")
BIN_PATTERNS = ("*.bin", "*.bin.index.json")
SIDE_PATTERNS = ("*.json", "*.jinja", "tokenizer.model", "*.tiktoken", "*.txt")


def resolve_device(device: str | None = None) -> str:
    """'cuda' when a GPU is available (or asked for), else 'cpu'."""
    import torch

    if device:
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelLoadError(f"device {device!r} was asked for, but no CUDA GPU is available: use 'cpu'")
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_quantization(quantization: str, device: str) -> str:
    """The concrete quantization: 'auto' is nf4 on CUDA and fp32 on CPU.

    Args:
        quantization: one of QUANTIZATIONS.
        device: the resolved device.

    Returns:
        'nf4', 'int8', 'bf16', 'fp16' or 'fp32'; raises UnknownIdError for anything else.
    """
    if quantization not in QUANTIZATIONS:
        raise UnknownIdError("quantization", str(quantization), QUANTIZATIONS)
    if quantization == "auto":
        return "nf4" if device.startswith("cuda") else "fp32"
    return quantization


def load_kwargs(quantization: str, device: str) -> dict[str, Any]:
    """from_pretrained keyword arguments for a resolved quantization on a device."""
    import torch
    from transformers import BitsAndBytesConfig

    kwargs: dict[str, Any] = {"device_map": {"": device}}
    if quantization == "nf4":
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,  # fp16/fp32 compute make 4-bit decoding several times slower
        )
        kwargs["dtype"] = torch.bfloat16
    elif quantization == "int8":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        kwargs["dtype"] = torch.float16
    else:
        kwargs["dtype"] = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[quantization]
    return kwargs


@dataclass
class LoadedModel:
    """A model resident in memory with its tokenizer; ``lock`` serialises generate() on it."""

    spec: ModelSpec
    model: Any
    tokenizer: Any
    quantization: str
    device: str
    folder: Path
    revision: str | None  # the commit loaded, when known (Hub cache snapshots)
    footprint_bytes: int
    load_s: float
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def base_eos_ids(self) -> tuple[int, ...]:
        """EOS ids from the generation config and the tokenizer."""
        ids: list[int] = []
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        ids += [eos] if isinstance(eos, int) else list(eos or [])
        if getattr(self.tokenizer, "eos_token_id", None) is not None:
            ids.append(self.tokenizer.eos_token_id)
        return tuple(dict.fromkeys(ids))

    def eos_ids_for(self, stop_strings: tuple[str, ...]) -> tuple[int, ...]:
        """EOS ids plus every stop string that is a single special token of this tokenizer."""
        added = self.tokenizer.get_added_vocab() if hasattr(self.tokenizer, "get_added_vocab") else {}
        extra = [added[s] for s in stop_strings if s in added]
        return tuple(dict.fromkeys((*self.base_eos_ids, *extra)))


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set."""
    from huggingface_hub import constants

    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return bool(constants.HF_HUB_OFFLINE) or any(f.strip().lower() in ("1", "true", "yes", "on") for f in flags)


def _has_weights(folder: Path) -> bool:
    return any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))


def check_folder(folder: Path, model_id: str) -> None:
    """Fail fast on a folder that cannot be a loadable model (no/corrupt config, no weights)."""
    if not folder.is_dir():
        raise ModelLoadError(f"model {model_id!r}: folder {folder} does not exist; check the path (demo models: run `python -m playground demo-models`)")
    config = folder / "config.json"
    if not config.is_file():
        raise ModelLoadError(f"model {model_id!r}: {folder} has no config.json; it is not a transformers model folder")
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"model {model_id!r}: {config} is corrupt ({exc}); restore or re-download the model") from exc
    if not _has_weights(folder):
        raise ModelLoadError(f"model {model_id!r}: {folder} has no weights (*.safetensors or *.bin); download them again")


def locate_weights(spec: ModelSpec, progress: ProgressFn | None = None) -> tuple[Path, str | None]:
    """The local folder holding a model's files, downloading from the Hub when online.

    Args:
        spec: a catalog entry with a path or a repo.
        progress: receives download progress.

    Returns:
        (folder, revision): revision is the snapshot's commit for Hub models, else None.
    """
    if spec.local_path is not None:
        check_folder(spec.local_path, spec.id)
        return spec.local_path, None
    if not spec.repo:
        raise ModelLoadError(f"model {spec.id!r} has neither a local path nor a Hub repo")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    patterns = [*WEIGHT_PATTERNS, *BIN_PATTERNS, *SIDE_PATTERNS]
    try:
        cached = Path(snapshot_download(spec.repo, revision=spec.revision, local_files_only=True, allow_patterns=patterns))
        if _has_weights(cached):
            return cached, cached.name
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if hub_offline():
        raise ModelLoadError(
            f"model {spec.id!r} ({spec.repo}) is not in the local Hugging Face cache and the Hub is offline "
            "(HF_HUB_OFFLINE=1): download it on a connected machine with "
            f"`hf download {spec.repo}`, or pick a demo model"
        )
    return _download(spec, progress)


def check_available(spec: ModelSpec) -> None:
    """Fail fast when a model cannot be loaded here: a bad local folder, or offline without a cached copy."""
    if spec.is_remote:
        return
    if spec.local_path is not None:
        check_folder(spec.local_path, spec.id)
    elif hub_offline():
        locate_weights(spec)  # finds the cached snapshot or raises the offline message


def locate_tokenizer_folder(spec: ModelSpec) -> Path:
    """A folder with the model's tokenizer and config (for Hub models: the small files only)."""
    if spec.local_path is not None:
        if not spec.local_path.is_dir():
            raise ModelLoadError(f"model {spec.id!r}: folder {spec.local_path} does not exist; check the path")
        return spec.local_path
    if not spec.repo:
        raise ModelLoadError(f"model {spec.id!r} has neither a local path nor a Hub repo")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(spec.repo, revision=spec.revision, local_files_only=True, allow_patterns=list(SIDE_PATTERNS)))
    except (LocalEntryNotFoundError, OSError, ValueError):
        if hub_offline():
            raise ModelLoadError(
                f"model {spec.id!r} ({spec.repo}) is not in the local cache and the Hub is offline (HF_HUB_OFFLINE=1): "
                f"download it with `hf download {spec.repo}` on a connected machine, or pick a demo model"
            ) from None
    info = _repo_info(spec)
    try:
        return Path(snapshot_download(spec.repo, revision=info.sha or spec.revision, allow_patterns=list(SIDE_PATTERNS)))
    except Exception as exc:
        raise ModelLoadError(f"model {spec.id!r}: downloading the tokenizer of {spec.repo} failed ({exc}); try again") from exc


def _repo_info(spec: ModelSpec):
    """The Hub's model info, failing fast (5 s) with a message for gated, missing or unreachable repos."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

    repo = spec.repo
    try:
        return HfApi().model_info(repo, revision=spec.revision, timeout=5)
    except GatedRepoError as exc:
        raise ModelLoadError(
            f"model {spec.id!r}: {repo} is gated; accept its license at https://huggingface.co/{repo} "
            "and set HF_TOKEN to a token of that account"
        ) from exc
    except RevisionNotFoundError as exc:
        raise ModelLoadError(f"model {spec.id!r}: {repo} has no revision {spec.revision!r}; fix the catalog entry") from exc
    except RepositoryNotFoundError as exc:
        raise ModelLoadError(
            f"model {spec.id!r}: {repo} does not exist on the Hub (or is private: set HF_TOKEN); check the repo id"
        ) from exc
    except Exception as exc:  # network down, DNS failure, timeout
        raise ModelLoadError(
            f"model {spec.id!r}: cannot reach the Hugging Face Hub ({type(exc).__name__}); check the network, "
            "or set HF_HUB_OFFLINE=1 and use a cached copy or a demo model"
        ) from exc


def _download(spec: ModelSpec, progress: ProgressFn | None) -> tuple[Path, str | None]:
    """Check the repo (fast) and download its safetensors (or .bin when it has none)."""
    from huggingface_hub import snapshot_download

    repo = spec.repo
    info = _repo_info(spec)
    names = [s.rfilename for s in (info.siblings or [])]
    has_st = any(n.endswith(".safetensors") for n in names)
    patterns = [*WEIGHT_PATTERNS, *SIDE_PATTERNS] if has_st else [*BIN_PATTERNS, *SIDE_PATTERNS]
    if progress:
        progress(0.05, f"downloading {repo}")
    try:
        folder = Path(
            snapshot_download(repo, revision=info.sha or spec.revision, allow_patterns=patterns, tqdm_class=_tqdm_for(progress, repo))
        )
    except Exception as exc:  # a broken connection mid-download
        raise ModelLoadError(f"model {spec.id!r}: download of {repo} failed ({exc}); try again") from exc
    check_folder(folder, spec.id)
    return folder, info.sha


def _tqdm_for(progress: ProgressFn | None, repo: str):
    """A tqdm class that forwards byte progress to the callback (None when there is no callback)."""
    if progress is None:
        return None
    from tqdm.auto import tqdm

    class _Forward(tqdm):
        def update(self, n=1):
            out = super().update(n)
            if self.total:
                progress(0.05 + 0.45 * min(1.0, self.n / self.total), f"downloading {repo}")
            return out

    return _Forward


def _friendly(spec: ModelSpec, folder: Path, quantization: str, device: str, exc: BaseException) -> ModelLoadError:
    """Turn an exception from from_pretrained into a ModelLoadError that says what to do."""
    import torch

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
        hint = "pick nf4 quantization" if quantization != "nf4" else "unload other models or pick a smaller one"
        return ModelLoadError(f"model {spec.id!r} ran out of {device} memory while loading with {quantization}: {hint}")
    if "safetensor" in text.lower() or "header" in text.lower() or "deserializ" in text.lower():
        return ModelLoadError(f"model {spec.id!r}: the weights in {folder} are corrupt or incomplete ({text}); delete them and download again")
    if "bitsandbytes" in text.lower():
        return ModelLoadError(f"model {spec.id!r}: {quantization} needs a working bitsandbytes ({text}); pick bf16/fp32 instead")
    return ModelLoadError(f"model {spec.id!r} could not be loaded from {folder}: {text}")


def load_tokenizer(folder: Path, model_id: str):
    """The model's tokenizer (errors become ModelLoadError)."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:
        raise ModelLoadError(f"model {model_id!r}: its tokenizer in {folder} cannot be loaded ({type(exc).__name__}: {exc})") from exc


def load_model(
    spec: ModelSpec,
    quantization: str = "auto",
    device: str | None = None,
    progress: ProgressFn | None = None,
) -> LoadedModel:
    """Load a model and its tokenizer.

    Args:
        spec: a local or Hub catalog entry (remote endpoints are not loaded).
        quantization: 'auto' (nf4 on CUDA, fp32 on CPU), 'nf4', 'int8', 'bf16', 'fp16' or 'fp32'.
        device: 'cuda', 'cuda:N' or 'cpu' (default: CUDA when available).
        progress: called with (fraction, message) while downloading and loading.

    Returns:
        A LoadedModel; raises ModelLoadError with what to do on any failure.
    """
    from transformers import AutoModelForCausalLM

    if spec.is_remote:
        raise ModelLoadError(f"model {spec.id!r} is served by an endpoint; it is not loaded locally")
    device = resolve_device(device)
    quant = resolve_quantization(quantization, device)
    t0 = time.perf_counter()
    if progress:
        progress(0.0, f"locating {spec.id}")
    folder, revision = locate_weights(spec, progress)
    if progress:
        progress(0.5, f"loading tokenizer of {spec.id}")
    tokenizer = load_tokenizer(folder, spec.id)
    if progress:
        progress(0.6, f"loading {spec.id} weights ({quant} on {device})")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), **load_kwargs(quant, device))
    except ModelLoadError:
        raise
    except Exception as exc:  # every loader failure is reported, never re-raised raw
        raise _friendly(spec, folder, quant, device, exc) from exc
    model.eval()
    if progress:
        progress(1.0, f"{spec.id} ready")
    return LoadedModel(
        spec=spec,
        model=model,
        tokenizer=tokenizer,
        quantization=quant,
        device=device,
        folder=folder,
        revision=revision,
        footprint_bytes=int(model.get_memory_footprint()),
        load_s=time.perf_counter() - t0,
    )


def unload(loaded: LoadedModel) -> None:
    """Drop a model's tensors and return the memory (CUDA cache included)."""
    import gc

    import torch

    loaded.model = None
    loaded.tokenizer = None
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
