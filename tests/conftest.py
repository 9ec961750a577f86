"""Shared test set-up: offline environment, the demo model family built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Shared end-to-end fixtures, defined once so session scope really means one app and one browser.
from app_support import app_url, browser_page, chromium_browser  # noqa: F401

# Offline and quiet before anything imports huggingface_hub, transformers or gradio.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.pop("LINEUP_MEMORY_BUDGET_GB", None)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline demo models (StableLM, Llama, Mistral, Llama-3 style), built once per session.

    Sets LINEUP_DEMO_DIR so that the catalog's '@demo/...' entries resolve here. Set
    LINEUP_TEST_DEMO_DIR to reuse a build across sessions (the stamp file keeps it current).
    """
    import torch

    from playground.demo import build_demo_models

    torch.set_num_threads(1)  # tiny models: one thread is fastest and keeps runs reproducible
    reuse = os.environ.get("LINEUP_TEST_DEMO_DIR")
    root = Path(reuse) if reuse else tmp_path_factory.mktemp("demo-models")
    build_demo_models(root)
    os.environ["LINEUP_DEMO_DIR"] = str(root)
    return root


@pytest.fixture(scope="session")
def model_pool(demo_dir: Path):
    """A CPU ModelPool shared by the engine tests (demo models load in well under a second)."""
    from playground.pool import ModelPool

    return ModelPool(budget_bytes=4 * 1024**3, device="cpu")
