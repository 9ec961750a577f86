"""App settings read from the environment (catalog path, memory budget, model dirs, limits)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def _env_float(name: str, default: float | None) -> float | None:
    """A float from the environment, or default when unset or empty."""
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


@dataclass(frozen=True)
class AppSettings:
    """Everything the app reads from its environment, parsed once at start."""

    catalog_path: Path | None = None  # LINEUP_CATALOG
    memory_budget_gb: float | None = None  # LINEUP_MEMORY_BUDGET_GB (None: free memory)
    model_dirs: tuple[Path, ...] = field(default=())  # LINEUP_MODEL_DIRS, os.pathsep-separated
    build_demo_models: bool = True  # LINEUP_DEMO_MODELS=0 skips building them
    concurrency_limit: int = 4
    queue_size: int = 64  # requests waiting beyond this are refused ("queue is full")
    session_capacity: int = 200  # sessions whose state is kept; the least recent beyond it are dropped
    max_upload_bytes: int = 5 * 1024 * 1024

    @classmethod
    def from_env(cls) -> AppSettings:
        """Read the settings from LINEUP_* environment variables."""
        dirs = tuple(Path(p).expanduser() for p in os.environ.get("LINEUP_MODEL_DIRS", "").split(os.pathsep) if p)
        catalog = os.environ.get("LINEUP_CATALOG")
        return cls(
            catalog_path=Path(catalog).expanduser() if catalog else None,
            memory_budget_gb=_env_float("LINEUP_MEMORY_BUDGET_GB", None),
            model_dirs=dirs,
            build_demo_models=os.environ.get("LINEUP_DEMO_MODELS", "1") != "0",
            concurrency_limit=int(os.environ.get("LINEUP_CONCURRENCY", "4")),
            session_capacity=int(os.environ.get("LINEUP_SESSION_CAPACITY", "200")),
        )

    def prepare(self, log: Callable[[str], None] = print) -> None:
        """Build the offline demo models if needed (first start only), logging progress."""
        if not self.build_demo_models:
            return
        from playground.demo import ensure_demo_models

        log("Lineup: preparing the offline demo models (built once, takes seconds)...")
        path = ensure_demo_models(progress=lambda frac, msg: log(f"  [{frac:4.0%}] {msg}"))
        log(f"Lineup: demo models ready in {path}")
