"""Backends that run one column: local transformers models or remote endpoints."""

from playground.backends.base import (
    BACKENDS,
    Backend,
    ColumnEmitter,
    ColumnRequest,
    StreamMetrics,
    backend_for,
    backend_key,
    make_request,
    resolve_seed,
    turn_content,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "ColumnEmitter",
    "ColumnRequest",
    "StreamMetrics",
    "backend_for",
    "backend_key",
    "make_request",
    "resolve_seed",
    "turn_content",
]
