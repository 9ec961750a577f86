"""The Hub token is read from the environment (or the login / a typed token), and never shown anywhere.

A fake token is put in HF_TOKEN and passed through every path that handles one: card push (dry run,
offline, failing uploads that echo it), the studio's push, remote endpoints (token_env; a server
that echoes the Authorization header), replay records, exported cards and trainer-config imports.
Every message, event, record, file, log record and printed line is searched for it.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest

import cards
from cards import cli as cards_cli
from cards.errors import HubError
from cards.hub import push_card, resolve_token
from playground.backends.remote_openai import OpenAIBackend
from playground.backends.remote_tgi import TGIBackend
from playground.replay import build_record
from playground.sampling import SamplingOptions
from tests.remote_support.columns import final, remote_spec, request, run
from tests.remote_support.stub_http import Reply, StubServer, openai_events
from ui.studio_push import push_to_hub

TOKEN = "hf_FAKE_SECRET_123"
GOOD_CARD = "---\nlicense: mit\nlanguage: en\nlibrary_name: transformers\npipeline_tag: text-generation\n---\n# Test\n\nA model.\n"


@pytest.fixture(autouse=True)
def token_everywhere(monkeypatch, caplog):
    """HF_TOKEN and an endpoint variable hold the fake token; every logger records at DEBUG."""
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("LINEUP_TEST_ENDPOINT_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    yield
    assert TOKEN not in caplog.text, "the token reached a log record"


def _no_token(*things) -> None:
    for thing in things:
        text = thing if isinstance(thing, str) else repr(thing)
        assert TOKEN not in text, text[:500]


class FailingApi:
    """An HfApi stand-in whose upload fails with an error that quotes the token (as some HTTP errors do)."""

    def __init__(self, status: int | None = None):
        self.status = status
        self.calls = []

    def upload_file(self, **kwargs):
        self.calls.append(kwargs)
        exc = RuntimeError(f"401 Client Error for url https://huggingface.co/api (Authorization: Bearer {kwargs['token']})")
        if self.status is not None:
            exc.response = type("R", (), {"status_code": self.status})()
        raise exc


class OkApi:
    def upload_file(self, **kwargs):
        return type("Info", (), {"pr_url": "https://huggingface.co/org/model/discussions/1", "commit_url": None})()


# ---- card push --------------------------------------------------------------------------------------------
def test_the_token_comes_from_the_environment_and_is_reported_by_source_only():
    token, source = resolve_token()
    assert token == TOKEN and source == "HF_TOKEN"
    result = push_card(GOOD_CARD, "org/model", dry_run=True)
    assert result.token_source == "HF_TOKEN" and "a token from HF_TOKEN" in result.message
    _no_token(result, result.message)


@pytest.mark.parametrize("status", [None, 401, 403, 404, 500], ids=["no-status", "401", "403", "404", "500"])
def test_a_failing_push_never_echoes_the_token(monkeypatch, status):
    monkeypatch.setattr("cards.hub.is_offline", lambda: False)
    api = FailingApi(status)
    with pytest.raises(HubError) as info:
        push_card(GOOD_CARD, "org/model", create_pr=True, api=api)
    assert api.calls and api.calls[0]["token"] == TOKEN  # it was used...
    _no_token(str(info.value), info.value.args)  # ...and never shown


def test_push_offline_and_without_a_token_say_so_without_it(monkeypatch):
    with pytest.raises(HubError, match="HF_HUB_OFFLINE is set") as info:
        push_card(GOOD_CARD, "org/model")
    _no_token(str(info.value))


@pytest.mark.parametrize("argv", [["--dry-run"], []], ids=["dry-run", "offline"])
def test_the_push_cli_prints_no_token(tmp_path, capsys, argv):
    readme = tmp_path / "README.md"
    readme.write_text(GOOD_CARD, encoding="utf-8")
    cards_cli.main(["push", str(readme), "--repo", "org/model", *argv])
    out = capsys.readouterr()
    _no_token(out.out, out.err)
    assert "HF_TOKEN" in out.err or "HF_HUB_OFFLINE" in out.err


# ---- the studio's push: the visitor's own token, never the server's -----------------------------------------
@pytest.mark.parametrize("api", [FailingApi(), FailingApi(401), OkApi()], ids=["error-quoting-token", "401", "ok"])
def test_studio_push_never_shows_the_typed_token(monkeypatch, api):
    monkeypatch.setattr("ui.studio_push.offline_reason", lambda: None)
    monkeypatch.setattr("cards.hub.is_offline", lambda: False)
    message = push_to_hub(GOOD_CARD, "org/model", f"  {TOKEN}  ", None, api=api)
    _no_token(message)
    assert message.startswith(("✔", "✖"))


def test_studio_push_does_not_fall_back_to_the_servers_token(monkeypatch):
    monkeypatch.setattr("ui.studio_push.offline_reason", lambda: None)
    api = OkApi()
    message = push_to_hub(GOOD_CARD, "org/model", "", None, api=api)
    assert message.startswith("✖ No token")  # HF_TOKEN is set on the server, and not used


# ---- remote endpoints ---------------------------------------------------------------------------------------
def _routes(reply: Reply):
    return {
        ("GET", "/v1/models"): lambda _: Reply(body={"object": "list", "data": [{"id": "m", "owned_by": "vllm"}]}),
        ("POST", "/v1/completions"): lambda _: reply,
    }


REMOTE = [
    ("ok", Reply(events=openai_events(["Hello", " there"], finish="stop"))),
    ("401-echoing-the-header", Reply(401, {"error": {"message": f"bad token Bearer {TOKEN}", "code": "invalid_api_key"}})),
    ("500-echoing-the-header", Reply(500, {"detail": f"Authorization: Bearer {TOKEN}"})),
    ("stream-error-echoing-it", Reply(events=[{"error": {"message": f"token {TOKEN} expired"}}])),
    ("broken-stream", Reply(events=openai_events(["a", "b", "c"]), break_after=1)),
]


@pytest.mark.parametrize("reply", [r[1] for r in REMOTE], ids=[r[0] for r in REMOTE])
def test_remote_columns_never_show_the_token(reply):
    with StubServer(_routes(reply)) as stub:
        spec = remote_spec(stub.url, token_env="LINEUP_TEST_ENDPOINT_TOKEN")
        req = request(spec)
        events = run(OpenAIBackend(spec), req)
        assert stub.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"  # sent to the server only
    last = final(events)
    _no_token([e.to_dict() for e in events], last.error or "")
    record = build_record([req], [last])
    text = record.to_json()
    _no_token(text)
    assert json.loads(text)["columns"][0]["endpoint"]["token_env"] == "LINEUP_TEST_ENDPOINT_TOKEN"


@pytest.mark.parametrize("backend", [OpenAIBackend, TGIBackend], ids=["openai", "tgi"])
def test_an_unset_token_variable_is_named_not_guessed(monkeypatch, backend):
    monkeypatch.delenv("LINEUP_UNSET_TOKEN", raising=False)
    spec = remote_spec("http://127.0.0.1:9", "tgi" if backend is TGIBackend else "openai", token_env="LINEUP_UNSET_TOKEN")
    last = final(run(backend(spec), request(spec)))
    assert "set the environment variable LINEUP_UNSET_TOKEN" in last.error
    _no_token(last.error)


def test_an_endpoint_without_token_env_gets_no_token_at_all():
    with StubServer(_routes(Reply(events=openai_events(["ok"], finish="stop")))) as stub:
        spec = remote_spec(stub.url)
        run(OpenAIBackend(spec), request(spec))
        assert all("authorization" not in r.headers for r in stub.requests)  # HF_TOKEN is not forwarded


# ---- replay records, exported cards, trainer configs -----------------------------------------------------------
def test_a_local_replay_record_holds_no_token(model_pool):
    from playground.side_by_side import prepare_columns, run_side_by_side

    opts = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 8, "seed": 1})
    cols = prepare_columns(["demo-llama"], [{"role": "user", "content": "Hello!"}], opts)
    finals = [e for e in run_side_by_side(cols, threading.Event(), model_pool) if e.final]
    _no_token(build_record([c.request for c in cols], finals, model_pool).to_json())


def test_a_trainer_config_with_a_hub_token_never_reaches_the_card():
    config = json.dumps({"learning_rate": 2e-5, "num_train_epochs": 3, "hub_token": TOKEN, "hub_model_id": "org/model",
                         "push_to_hub_token": TOKEN, "report_to": ["wandb"], "wandb_api_key": TOKEN})
    imported = cards.import_training(config, "training_args.json")
    assert any("dropped secret 'hub_token' (value not shown)" in n for n in imported.notes)
    _no_token(imported, imported.notes)
    spec = {"spec_version": 1, "model_name": "X", "training": {"stages": [{"name": "SFT", "hyperparameters":
            imported.hyperparameters.model_dump(mode="json", exclude_none=True)}]}}
    readme = cards.build(spec)
    _no_token(readme, cards.render_preview(readme))


def test_the_studio_downloads_and_views_hold_no_token():
    from ui.studio_view import render_view

    view = render_view("spec_version: 1\nmodel_name: X\nsummary: uses $HF_TOKEN\n")
    assert view.readme is not None
    _no_token(view.readme, view.preview_html, view.findings)
