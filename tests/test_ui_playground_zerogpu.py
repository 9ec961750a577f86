"""ZeroGPU: with the `spaces` package importable, generation runs under spaces.GPU; without it nothing changes."""

from __future__ import annotations

import functools
import sys
import types

import pytest

from ui.playground_api import gpu


def plain(x):
    yield x


def test_without_spaces_functions_are_unchanged(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # `import spaces` raises ImportError
    assert gpu(plain) is plain


@pytest.mark.slow
def test_with_spaces_generation_runs_under_gpu(monkeypatch, demo_dir):
    calls: list[tuple[str, int]] = []

    def GPU(duration=None):
        def deco(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                calls.append((fn.__name__, duration))
                yield from fn(*args, **kwargs)

            return wrapper

        return deco

    monkeypatch.setitem(sys.modules, "spaces", types.SimpleNamespace(GPU=GPU))
    import gradio as gr
    from gradio_client import Client

    from ui import playground_tab
    from ui.settings import AppSettings

    with gr.Blocks() as demo:
        playground_tab.build(AppSettings(build_demo_models=False))
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        result = Client(url, verbose=False).predict(["demo-llama"], "Hello!", "", {"temperature": 0.0, "max_new_tokens": 8}, api_name="/generate")
    finally:
        demo.close()
    assert result["done"] and result["columns"][0]["error"] is None
    assert ("generate", 120) in calls
    names = {fn.name for fn in demo.fns.values()}
    assert {"on_send", "on_regenerate", "on_import"} <= names
