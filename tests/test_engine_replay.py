"""Replay records (JSON round trip, re-run gives the same outputs) and the generate CLI."""

from __future__ import annotations

import json
import threading

import pytest

from playground.backends import make_request
from playground.catalog import ModelSpec, get_model
from playground.cli import main
from playground.events import EventKind, GenerationEvent, StopReason
from playground.formats import get_format
from playground.replay import ReplayError, ReplayRecord, build_record, compare, replay, request_from_column
from playground.sampling import SamplingOptions
from playground.side_by_side import prepare_columns, run_side_by_side

MESSAGES = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Tell me a story."}]


def _run(pool, ids, options):
    cols = prepare_columns(ids, MESSAGES, options)
    finals = [e for e in run_side_by_side(cols, threading.Event(), pool) if e.final]
    return build_record([c.request for c in cols], finals, pool)


@pytest.mark.parametrize(
    "options",
    [SamplingOptions(temperature=0.0, max_new_tokens=40), SamplingOptions(temperature=1.1, top_p=0.95, top_k=50, seed=1234, max_new_tokens=40)],
    ids=["greedy", "sampled"],
)
def test_replay_round_trip_gives_the_same_outputs(model_pool, options):
    record = _run(model_pool, ["demo-llama", "demo-stablelm"], options)
    again = ReplayRecord.from_json(record.to_json())
    assert again == record
    col = again.columns[0]
    assert col.format_id == "metharme" and col.template_hash == get_format("metharme").template_hash
    assert col.prompt == get_format("metharme").render(MESSAGES)
    assert col.quantization == "fp32" and col.device == "cpu" and col.path == "@demo/llama"
    assert col.seed == col.options["seed"] and col.output and col.metrics.generated_tokens > 0
    rerun = replay(again, model_pool)
    assert compare(record, rerun) == []
    assert [c.output for c in rerun.columns] == [c.output for c in record.columns]


def test_compare_reports_differences(model_pool):
    record = _run(model_pool, ["demo-llama"], SamplingOptions(temperature=0.0, max_new_tokens=20))
    changed = record.model_copy(deep=True)
    changed.columns[0].output += " extra"
    (diff,) = compare(record, changed)
    assert "outputs differ" in diff and "demo-llama" in diff


def test_replay_refuses_a_changed_format(model_pool):
    record = _run(model_pool, ["demo-llama"], SamplingOptions(temperature=0.0, max_new_tokens=5))
    record.columns[0].template_hash = "0" * 16
    with pytest.raises(ReplayError, match="has changed since the recording"):
        replay(record, model_pool)


def test_replay_uses_the_recorded_prompt_exactly(model_pool):
    record = _run(model_pool, ["demo-llama3"], SamplingOptions(temperature=0.0, max_new_tokens=5))
    req = request_from_column(record.columns[0])
    assert req.prompt == record.columns[0].prompt and req.options.seed == record.columns[0].seed
    assert req.spec == get_model("demo-llama3")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema_version": 99, "columns": []}', "schema_version 99 is not supported"),
        ('{"schema_version": 1}', "invalid replay record at columns"),
    ],
)
def test_bad_records_are_replay_errors(text, message):
    with pytest.raises(ReplayError, match=message):
        ReplayRecord.from_json(text)


def test_records_never_hold_secrets(monkeypatch):
    monkeypatch.setenv("LINEUP_TEST_TOKEN", "sk-very-secret")
    spec = ModelSpec.model_validate(
        {
            "id": "remote-x",
            "label": "remote",
            "endpoint": {"url": "http://127.0.0.1:8080", "protocol": "openai", "token_env": "LINEUP_TEST_TOKEN", "model": "x"},
            "architecture": "llama",
            "context_length": 2048,
            "format": "chatml",
        }
    )
    req = make_request(0, spec, MESSAGES, SamplingOptions(seed=3), get_format("chatml"))
    final = GenerationEvent(kind=EventKind.DONE, column=0, model_id="remote-x", text="hi", stop_reason=StopReason.EOS)
    text = build_record([req], [final]).to_json()
    assert "sk-very-secret" not in text
    col = json.loads(text)["columns"][0]
    assert col["endpoint"]["token_env"] == "LINEUP_TEST_TOKEN" and col["quantization"] == "remote"
    assert ReplayRecord.from_json(text).columns[0].spec().endpoint.url == "http://127.0.0.1:8080"


# ---- the CLI --------------------------------------------------------------------------


def test_cli_generate_json(demo_dir, capsys):
    rc = main(["generate", "--model", "demo-llama", "--user", "What colour is grass?", "--temperature", "0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["text"] == "Grass is green." and out["stop_reason"] == "eos"
    assert out["metrics"]["generated_tokens"] > 0 and out["prompt"] == "<|user|>What colour is grass?<|model|>"


def test_cli_streams_to_the_terminal(demo_dir, capsys):
    assert main(["generate", "--model", "demo-llama", "--user", "What colour is grass?", "--temperature", "0"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Grass is green.\n"
    assert "eos:" in captured.err and "tok/s" in captured.err


def test_cli_side_by_side_and_replay(demo_dir, tmp_path, capsys):
    path = tmp_path / "run.json"
    rc = main(["generate", "--models", "demo-llama,demo-llama3", "--user", "Tell me a joke.", "--preset", "creative", "--seed", "9", "--json", "--save-replay", str(path)])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and [c["model"] for c in out["columns"]] == ["demo-llama", "demo-llama3"]
    assert {c["seed"] for c in out["columns"]} == {9}
    assert main(["generate", "--replay", str(path), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["same"] is True and replayed["differences"] == []
    assert [c["output"] for c in replayed["record"]["columns"]] == [c["text"] for c in out["columns"]]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--temperature", "5"], "temperature: must be a number from 0.0 to 2.0"),
        (["--preset", "wild"], "valid preset ids"),
        (["--quantization", "q3"], "valid quantization ids"),
    ],
)
def test_cli_errors_are_one_line_messages(demo_dir, capsys, argv, message):
    rc = main(["generate", "--model", "demo-llama", "--user", "Hi", "--json", *argv])
    captured = capsys.readouterr()
    if "quantization" in message:  # a per-column failure: the column reports it, exit status 1
        assert rc == 1 and message in json.loads(captured.out)["error"]
    else:
        assert rc == 2 and message in captured.err and "Traceback" not in captured.err


def test_cli_estimate(demo_dir, capsys):
    assert main(["estimate", "--model", "demo-llama", "--model", "demo-mistral", "--quantization", "nf4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["together"] is True and [m["model"] for m in out["models"]] == ["demo-llama", "demo-mistral"]
