"""A remote column (llama.cpp server on loopback) beside a local column, in the real app and its API."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from app_support import start_app

from tests.remote_support.gguf_model import build_gguf
from tests.remote_support.server import llama_cpp_missing, running_server

pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(llama_cpp_missing() is not None, reason=llama_cpp_missing() or ""),
]

PACKAGED = Path(__file__).resolve().parent.parent / "playground" / "models.yaml"


@pytest.fixture(scope="module")
def remote_app(demo_dir, tmp_path_factory):
    """The app with a catalog that adds a llama.cpp endpoint to the packaged models."""
    tmp = tmp_path_factory.mktemp("remote-app")
    gguf = build_gguf(tmp / "tiny.gguf")
    with running_server(gguf, tmp, n_ctx=512) as server:
        models = yaml.safe_load(PACKAGED.read_text())["models"]
        models.append(
            {
                "id": "remote-llamacpp",
                "label": "Tiny llama.cpp (remote)",
                "endpoint": {"url": server.url + "/v1", "protocol": "openai"},
                "architecture": "llama",
                "params_b": 0.0001,
                "context_length": 512,
                "format": "chatml",
                "preset": "balanced",
                "license": "apache-2.0",
                "description": "A tiny GGUF served by llama.cpp on 127.0.0.1",
            }
        )
        catalog = tmp / "catalog.yaml"
        catalog.write_text(yaml.safe_dump({"models": models}, sort_keys=False))
        proc, url = start_app({"LINEUP_DEMO_DIR": str(demo_dir), "LINEUP_CATALOG": str(catalog)}, tmp / "app.log")
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_catalog_marks_the_remote_column(remote_app):
    from gradio_client import Client

    models = {m["id"]: m for m in Client(remote_app, verbose=False).predict(api_name="/models")}
    assert models["remote-llamacpp"]["remote"] is True
    assert models["demo-llama"]["remote"] is False


def test_remote_and_local_columns_stream_side_by_side_through_the_api(remote_app):
    from gradio_client import Client

    client = Client(remote_app, verbose=False)
    job = client.submit(
        ["remote-llamacpp", "demo-llama"],
        "Tell me a story about the sea.",
        "",
        {"temperature": 0.0, "max_new_tokens": 24, "seed": 3},
        api_name="/generate",
    )
    updates = list(job)
    final = job.result()
    assert final["done"] is True and len(updates) >= 2
    remote, local = final["columns"]
    assert remote["model_id"] == "remote-llamacpp" and local["model_id"] == "demo-llama"
    for col in (remote, local):
        assert col["error"] is None, col["error"]
        assert col["text"].strip()
        assert col["stop_reason"] in {"eos", "stop_string", "max_tokens"}
        assert col["metrics"]["prompt_tokens"] > 0 and col["metrics"]["generated_tokens"] > 0
        assert col["metrics"]["ttft_s"] is not None
    # the same request again is reproduced exactly (greedy, fixed seed) on both backends
    again = client.predict(
        ["remote-llamacpp", "demo-llama"], "Tell me a story about the sea.", "",
        {"temperature": 0.0, "max_new_tokens": 24, "seed": 3}, api_name="/generate",
    )
    assert [c["text"] for c in again["columns"]] == [remote["text"], local["text"]]
