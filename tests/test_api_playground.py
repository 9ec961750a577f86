"""The Playground's named API endpoints, through gradio_client against the real app (python app.py)."""

from __future__ import annotations

import json
import time

import pytest
from gradio_client import Client

pytestmark = pytest.mark.slow

FINISHED = {"eos", "stop_string", "max_tokens"}


@pytest.fixture
def client(app_url):
    return Client(app_url, verbose=False)


def test_named_endpoints_are_public(client):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/generate", "/render", "/formats", "/models", "/stop"} <= set(named)
    assert not any(name.startswith("/on_") for name in named), "UI handlers must stay private"


def test_generate_side_by_side_returns_both_columns_with_metrics(client):
    result = client.predict(
        ["demo-llama", "demo-stablelm"], "Tell me a story.", "You are a friendly cat.", {"temperature": 0.7, "seed": 11, "max_new_tokens": 48},
        api_name="/generate",
    )
    assert result["done"] is True
    cols = result["columns"]
    assert [c["model_id"] for c in cols] == ["demo-llama", "demo-stablelm"]
    for col in cols:
        assert col["error"] is None and col["text"].strip()
        assert col["stop_reason"] in FINISHED and col["seed"] == 11
        m = col["metrics"]
        assert 0 < m["generated_tokens"] <= 48 and m["prompt_tokens"] > 0 and m["ttft_s"] > 0
    record = json.loads(result["replay_json"])
    assert [c["seed"] for c in record["columns"]] == [11, 11]
    assert record["columns"][0]["prompt"] == "<|system|>You are a friendly cat.<|user|>Tell me a story.<|model|>"
    assert [c["output"] for c in record["columns"]] == [c["text"] for c in cols]


def test_generate_streams_partial_updates_before_the_final_one(client):
    job = client.submit(["demo-mistral"], "Tell me a joke.", "", {"temperature": 0.0, "max_new_tokens": 64}, api_name="/generate")
    final = job.result(timeout=60)
    updates = job.outputs()
    assert len(updates) >= 2 and updates[0]["done"] is False and updates[-1] == final
    assert final["columns"][0]["stop_reason"] in FINISHED


def test_stop_cancels_every_column_of_this_session(client):
    job = client.submit(
        ["demo-llama", "demo-llama3"], "Tell me a story.", "", {"temperature": 1.0, "max_new_tokens": 4000, "seed": 1}, True, None, None, True,
        api_name="/generate",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(any(c["text"] for c in u["columns"]) for u in job.outputs()):
        time.sleep(0.05)
    assert client.predict(api_name="/stop")["stopped"] == 1
    result = job.result(timeout=30)
    assert result["done"] is True
    for col in result["columns"]:
        assert col["stop_reason"] == "cancelled"
        assert col["metrics"]["generated_tokens"] < 400  # far less than the ~500 the context allows


def test_stop_from_another_session_does_not_cancel(client, app_url):
    other = Client(app_url, verbose=False)
    assert other.predict(api_name="/stop")["stopped"] == 0
    result = client.predict(["demo-llama"], "Hello!", "", {"temperature": 0.0, "max_new_tokens": 32}, api_name="/generate")
    assert result["columns"][0]["stop_reason"] in FINISHED


@pytest.mark.parametrize(
    ("models", "options", "fragments"),
    [
        (["demo-llama"], {"temperature": 5}, ["invalid option temperature", "0.0 to 2.0", "got 5"]),
        (["demo-llama"], {"max_new_tokens": 0}, ["invalid option max_new_tokens", "integer from 1 to 4096"]),
        (["demo-llama"], {"temprature": 0.5}, ["invalid option temprature", "valid options are temperature"]),
        (["nope"], {}, ["unknown model 'nope'", "demo-llama"]),
        ([], {}, ["pick at least one model"]),
        (["demo-llama"] * 5, {}, ["at most 4 models"]),
    ],
)
def test_invalid_settings_return_a_clear_error(client, models, options, fragments):
    with pytest.raises(Exception) as info:
        client.predict(models, "Hello!", "", options, api_name="/generate")
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "Traceback" not in message


def test_a_failing_model_stays_in_its_column(client):
    result = client.predict(["metharme-7b", "demo-llama"], "Hello!", "", {"temperature": 0.0, "max_new_tokens": 16}, api_name="/generate")
    real, demo = result["columns"]
    assert real["stop_reason"] == "error" and "metharme-7b" in real["error"] and "Traceback" not in real["error"]
    assert demo["error"] is None and demo["text"]


def test_history_and_format_override_reach_the_prompt(client):
    history = [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hello! How can I help you today?"}]
    result = client.predict(["demo-stablelm"], "What is two plus three?", "", {"temperature": 0.0, "max_new_tokens": 64}, True, ["memphis-cot"], history, api_name="/generate")
    col = json.loads(result["replay_json"])["columns"][0]
    assert col["format_id"] == "memphis-cot"
    assert col["prompt"] == (
        "### User:\nHello!\n### Rationale:\nHello! How can I help you today?\n### User:\nWhat is two plus three?\n### Rationale:\n"
    )
    assert result["columns"][0]["rationale"] is not None


def test_render_gives_the_exact_prompt_and_tokens(client):
    out = client.predict("metharme", [{"role": "system", "content": "SYS"}, {"role": "user", "content": "Start!"}], api_name="/render")
    assert out["prompt"] == "<|system|>SYS<|user|>Start!<|model|>" and "token_ids" not in out
    with_ids = client.predict("metharme", [{"role": "user", "content": "Hi"}], "demo-llama", api_name="/render")
    assert with_ids["bos_count"] == 1 and with_ids["token_ids"][0] != with_ids["token_ids"][1] and with_ids["lint"] == []
    with pytest.raises(Exception, match="unknown format 'nope'"):
        client.predict("nope", [{"role": "user", "content": "Hi"}], api_name="/render")


def test_formats_and_models_endpoints(client):
    formats = {f["id"]: f for f in client.predict(api_name="/formats")}
    assert {"memphis", "memphis-cot", "metharme", "cerebrum", "cat-llama3", "tokenizer"} <= set(formats)
    assert "<|user|>" in formats["metharme"]["stop_strings"]
    models = {m["id"]: m for m in client.predict(api_name="/models")}
    assert models["demo-llama"]["demo"] is True and models["demo-llama"]["availability"] is None
    assert "network" in models["cat-llama3-70b"]["availability"]
