"""Remote backends at the protocol level: the requests they build and the events they make of replies.

No real server here: a scripted HTTP stub on 127.0.0.1 stands in for TGI and vLLM (which cannot be
installed in CI). The real llama.cpp server is exercised in test_remote_llamacpp.py.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from playground.backends import remote
from playground.backends.base import backend_for
from playground.backends.remote import display_url, retrying, unsupported_warnings
from playground.backends.remote_openai import (
    DIALECTS,
    OpenAIBackend,
    api_root,
    build_body,
    finish_reason,
    iter_sse,
    parse_error,
)
from playground.backends.remote_tgi import MAX_SERVER_STOPS, TGIBackend, tgi_parameters
from playground.events import EventKind, StopReason
from playground.sampling import SamplingOptions
from tests.remote_support.columns import final, remote_spec, request, run, statuses, tokens_text
from tests.remote_support.server import free_port
from tests.remote_support.stub_http import Reply, StubServer, openai_events, tgi_events

SECRET = "sk-test-secret-value-123"


@pytest.fixture
def hub_online(monkeypatch):
    """Let huggingface_hub's InferenceClient talk to the loopback stub although tests set HF_HUB_OFFLINE=1."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def vllm_routes(events, status: int = 200, body=None, owner: str = "vllm", **reply):
    """Routes of a vLLM-like stub: /v1/models naming the owner, /v1/completions answering events."""
    return {
        ("GET", "/v1/models"): lambda _: Reply(body={"object": "list", "data": [{"id": "m", "owned_by": owner}]}),
        ("POST", "/v1/completions"): lambda _: Reply(status=status, body=body, events=events, **reply),
    }


# ---- request building -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("llama-cpp-python", {"repeat_penalty": 1.0, "top_k": 0, "min_p": 0.0, "stop": []}),
        ("llama.cpp", {"repeat_penalty": 1.0, "top_k": 0, "min_p": 0.0, "typical_p": 1.0, "stop": [], "stream_options": {"include_usage": True}}),
        ("vllm", {"repetition_penalty": 1.0, "top_k": -1, "min_p": 0.0, "stop": ["<|im_end|>", "<|im_start|>", "END"]}),
        ("generic", {"stop": [], "stream_options": {"include_usage": True}}),
    ],
)
def test_body_sends_every_carried_option_explicitly(dialect, expected):
    spec = remote_spec("http://127.0.0.1:9/v1")
    req = request(spec, temperature=0.0, max_new_tokens=33, seed=42, stop=["END"])
    body, warnings = build_body(req, DIALECTS[dialect])
    assert body["prompt"] == req.prompt  # the raw rendered prompt, byte for byte
    assert (body["max_tokens"], body["temperature"], body["seed"], body["stream"]) == (33, 0.0, 42, True)
    assert body["presence_penalty"] == body["frequency_penalty"] == 0.0
    for key, value in expected.items():
        assert body[key] == value, key
    assert "model" not in body and warnings == []


@pytest.mark.parametrize(("top_p", "sent"), [(1.0, False), (0.9, True)])
def test_generic_dialect_leaves_out_top_p_only_at_its_neutral_value(top_p, sent):
    body, _ = build_body(request(remote_spec("http://127.0.0.1:9"), top_p=top_p), DIALECTS["generic"])
    assert ("top_p" in body) is sent


@pytest.mark.parametrize(("format_id", "flag"), [("cat-llama3", False), ("chatml", None)])
def test_vllm_is_told_not_to_add_a_second_bos(format_id, flag):
    body, _ = build_body(request(remote_spec("http://127.0.0.1:9", format_id=format_id)), DIALECTS["vllm"])
    assert body.get("add_special_tokens") is flag


def test_body_names_the_model_when_the_catalog_does():
    body, _ = build_body(request(remote_spec("http://127.0.0.1:9", model="served-name")), DIALECTS["vllm"])
    assert body["model"] == "served-name"


@pytest.mark.parametrize(
    ("dialect", "options", "unsupported"),
    [
        ("llama-cpp-python", {"no_repeat_ngram_size": 3}, ["no_repeat_ngram_size"]),
        ("llama-cpp-python", {"typical_p": 0.5}, ["typical_p"]),
        ("llama.cpp", {"typical_p": 0.5}, []),
        ("vllm", {"typical_p": 0.5, "top_k": 5}, ["typical_p"]),
        ("generic", {"top_k": 5, "min_p": 0.1, "repetition_penalty": 1.2}, ["min_p", "repetition_penalty", "top_k"]),
        ("generic", {}, []),  # options at their neutral value are not dropped, so no warning
    ],
)
def test_options_a_dialect_cannot_carry_are_reported(dialect, options, unsupported):
    _, warnings = build_body(request(remote_spec("http://127.0.0.1:9"), **options), DIALECTS[dialect])
    assert sorted(w.split("=")[0] for w in warnings) == unsupported
    assert all("not supported by" in w for w in warnings)


def test_unsupported_warnings_name_value_and_server():
    (w,) = unsupported_warnings(SamplingOptions(no_repeat_ngram_size=4), {"top_p"} | set(remote.NEUTRAL) - {"no_repeat_ngram_size"}, "X")
    assert w == "no_repeat_ngram_size=4 is not supported by X and was not applied"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"temperature": 0.0, "top_k": 40, "top_p": 0.9}, {"do_sample": False, "temperature": None, "top_k": None, "top_p": None}),
        ({"temperature": 0.8, "top_k": 0, "top_p": 1.0, "typical_p": 1.0}, {"do_sample": True, "temperature": 0.8, "top_k": None, "top_p": None, "typical_p": None}),
        ({"temperature": 0.8, "top_k": 40, "top_p": 0.9, "typical_p": 0.7}, {"top_k": 40, "top_p": 0.9, "typical_p": 0.7}),
        ({"repetition_penalty": 1.0, "max_new_tokens": 77, "seed": 5}, {"repetition_penalty": 1.0, "max_new_tokens": 77, "seed": 5}),
    ],
)
def test_tgi_parameters(options, expected):
    kwargs, _ = tgi_parameters(request(remote_spec("http://127.0.0.1:9", "tgi"), **options))
    assert kwargs["stream"] is kwargs["details"] is True and kwargs["return_full_text"] is False
    for key, value in expected.items():
        assert kwargs[key] == value, key


def test_tgi_sends_at_most_its_stop_limit_and_reports_min_p():
    req = request(remote_spec("http://127.0.0.1:9", "tgi"), stop=["a1", "b2", "c3"], min_p=0.1, no_repeat_ngram_size=2)
    kwargs, warnings = tgi_parameters(req)
    assert kwargs["stop"] == list(req.stop_strings[:MAX_SERVER_STOPS]) and len(req.stop_strings) > MAX_SERVER_STOPS
    assert sorted(w.split("=")[0] for w in warnings) == ["min_p", "no_repeat_ngram_size"]


# ---- response parsing ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reason", "stop_reason", "expected"),
    [
        (None, None, None),
        ("length", None, StopReason.MAX_TOKENS),
        ("stop", None, StopReason.EOS),
        ("stop", 128009, StopReason.EOS),  # vLLM: a stop token id
        ("stop", "</answer>", StopReason.STOP_STRING),  # vLLM: the stop string that matched
        ("eos_token", None, StopReason.EOS),  # TGI's OpenAI route
        ("stop_sequence", None, StopReason.STOP_STRING),
    ],
)
def test_finish_reason(reason, stop_reason, expected):
    assert finish_reason(reason, stop_reason) == expected


def test_unknown_finish_reason_is_an_error():
    with pytest.raises(remote.RemoteError, match="content_filter"):
        finish_reason("content_filter")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"error": {"message": "too long", "type": "invalid_request_error", "code": "context_length_exceeded"}}, ("too long", "context_length_exceeded")),
        ({"error": {"message": "bad", "type": "BadRequestError"}}, ("bad", "BadRequestError")),
        ({"error": "Input validation error: top_p", "error_type": "validation"}, ("Input validation error: top_p", "validation")),
        ({"detail": "Not Found"}, ("Not Found", None)),
        ({"message": "overloaded", "code": 503}, ("overloaded", 503)),
    ],
)
def test_parse_error(payload, expected):
    assert parse_error(payload) == expected


def test_iter_sse_joins_data_lines_and_skips_comments():
    lines = [": ping", "data: {\"a\":", "data: 1}", "", "event: x", "data:[DONE]", ""]
    assert list(iter_sse(iter(lines))) == ['{"a":\n1}', "[DONE]"]


@pytest.mark.parametrize(
    ("url", "shown", "root"),
    [
        ("http://user:pw@10.0.0.5:8000/v1/?key=abc#x", "http://10.0.0.5:8000/v1", "http://user:pw@10.0.0.5:8000/v1/?key=abc#x"),
        ("https://x.endpoints.huggingface.cloud/", "https://x.endpoints.huggingface.cloud", "https://x.endpoints.huggingface.cloud"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
    ],
)
def test_urls(url, shown, root):
    assert display_url(url) == shown
    if "?" not in url:
        assert api_root(url) == root


def test_retrying_retries_only_connection_errors():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 2:
            raise httpx.ConnectError("refused")
        return "ok"

    assert retrying(flaky, lambda e: isinstance(e, httpx.ConnectError), threading.Event()) == "ok" and len(calls) == 2
    calls.clear()

    def slow():
        calls.append(1)
        raise httpx.ReadTimeout("slow")

    with pytest.raises(httpx.ReadTimeout):
        retrying(slow, lambda e: isinstance(e, httpx.ConnectError), threading.Event())
    assert len(calls) == 1


# ---- backend selection --------------------------------------------------------------------------
@pytest.mark.parametrize(("protocol", "cls"), [("openai", OpenAIBackend), ("tgi", TGIBackend)])
def test_backend_for_picks_the_remote_backend(protocol, cls):
    assert isinstance(backend_for(remote_spec("http://127.0.0.1:9", protocol)), cls)


# ---- OpenAI protocol against the stub (vLLM dialect) -------------------------------------------
def test_vllm_stream_uses_server_stops_and_usage():
    events = openai_events(["Once", " upon", " a"], finish="stop", stop_reason="<|im_end|>", usage={"prompt_tokens": 11, "completion_tokens": 4})
    with StubServer(vllm_routes(events)) as stub:
        evs = run(OpenAIBackend(remote_spec(stub.url + "/v1")), request(remote_spec(stub.url + "/v1"), typical_p=0.5))
    last = final(evs)
    assert last.kind == EventKind.DONE and last.stop_reason == StopReason.STOP_STRING
    assert last.text == tokens_text(evs) == "Once upon a"
    assert (last.prompt_tokens, last.generated_tokens) == (11, 4)
    assert statuses(evs) == ["typical_p=0.5 is not supported by vLLM and was not applied"]
    sent = stub.requests[-1]
    assert sent.path == "/v1/completions" and sent.body["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert "authorization" not in sent.headers


@pytest.mark.parametrize(
    ("reply", "fragments"),
    [
        (Reply(400, {"error": {"message": "This model's maximum context length is 512 tokens, you requested 900", "code": "context_length_exceeded"}}), ["HTTP 400 context_length_exceeded", "maximum context length is 512"]),
        (Reply(401, {"error": "unauthorized"}), ["HTTP 401", "$LINEUP_TEST_TOKEN"]),
        (Reply(503, {"error": "loading"}), ["HTTP 503", "starting up"]),
        (Reply(events=[{"error": {"message": "CUDA out of memory"}}]), ["CUDA out of memory"]),
        (Reply(events=openai_events(["a", "b", "c", "d"]), break_after=2), ["broke after 2 tokens", "the text so far is kept"]),
        (Reply(events=openai_events(["a", "b"], finish=None)[:2]), ["broke after 2 tokens", "ended before"]),
    ],
)
def test_openai_errors_become_one_clear_message(monkeypatch, reply, fragments):
    monkeypatch.setenv("LINEUP_TEST_TOKEN", SECRET)
    routes = vllm_routes(None)
    routes[("POST", "/v1/completions")] = lambda _: reply
    with StubServer(routes) as stub:
        spec = remote_spec(stub.url, token_env="LINEUP_TEST_TOKEN")
        evs = run(OpenAIBackend(spec), request(spec))
        assert stub.requests[-1].headers["authorization"] == f"Bearer {SECRET}"
    last = final(evs)
    assert last.kind == EventKind.ERROR and last.stop_reason == StopReason.ERROR
    assert f"the openai endpoint {stub.url}" in last.error
    for frag in fragments:
        assert frag in last.error
    assert SECRET not in last.error
    assert last.text == tokens_text(evs)


def test_the_token_never_appears_even_when_the_server_echoes_it(monkeypatch):
    monkeypatch.setenv("LINEUP_TEST_TOKEN", SECRET)
    routes = vllm_routes(None)
    routes[("POST", "/v1/completions")] = lambda _: Reply(403, {"error": f"token Bearer {SECRET} is not allowed"})
    with StubServer(routes) as stub:
        spec = remote_spec(stub.url, token_env="LINEUP_TEST_TOKEN")
        evs = run(OpenAIBackend(spec), request(spec))
    assert SECRET not in repr([e.to_dict() for e in evs]) and "[token]" in evs[-1].error


@pytest.mark.parametrize("backend", [OpenAIBackend, TGIBackend])
def test_missing_token_variable_is_named(monkeypatch, backend):
    monkeypatch.delenv("LINEUP_NO_SUCH_TOKEN", raising=False)
    spec = remote_spec("http://127.0.0.1:9", "tgi" if backend is TGIBackend else "openai", token_env="LINEUP_NO_SUCH_TOKEN")
    last = final(run(backend(spec), request(spec)))
    assert last.kind == EventKind.ERROR and "set the environment variable LINEUP_NO_SUCH_TOKEN" in last.error


@pytest.mark.usefixtures("hub_online")
@pytest.mark.parametrize("protocol", ["openai", "tgi"])
def test_connection_refused(protocol):
    url = f"http://127.0.0.1:{free_port()}"
    spec = remote_spec(url, protocol)
    last = final(run(backend_for(spec), request(spec)))
    assert last.kind == EventKind.ERROR
    assert f"cannot connect to the {protocol} endpoint {url}" in last.error and "connection refused" in last.error


def test_timeout_names_the_endpoint_and_the_limit():
    with StubServer(vllm_routes(openai_events(["a"]), delay_s=3.0)) as stub:
        spec = remote_spec(stub.url, timeout_s=0.5)
        last = final(run(OpenAIBackend(spec), request(spec)))
    assert last.kind == EventKind.ERROR and "sent nothing for 0.5 s before the first token (timeout)" in last.error


@pytest.mark.usefixtures("hub_online")
@pytest.mark.parametrize("protocol", ["openai", "tgi"])
@pytest.mark.parametrize("silent", [False, True], ids=["streaming", "silent-server"])
def test_cancel_closes_the_stream(protocol, silent):
    """Cancel ends the column with CANCELLED, whether tokens are flowing or the server says nothing."""
    n = 200
    pieces = [f"t{i} " for i in range(n)]
    events = openai_events(pieces) if protocol == "openai" else tgi_events(pieces)
    delay = 30.0 if silent else 0.02
    routes = vllm_routes(events, delay_s=delay) if protocol == "openai" else {("POST", "/"): lambda _: Reply(events=events, delay_s=delay)}
    with StubServer(routes) as stub:
        spec = remote_spec(stub.url, protocol)
        cancel = threading.Event()
        if silent:
            threading.Timer(0.3, cancel.set).start()
        out: list = []
        worker = threading.Thread(target=lambda: out.extend(run(backend_for(spec), request(spec), cancel, lambda e: e.kind == EventKind.TOKEN and len(e.text) > 8 and cancel.set())))
        worker.start()
        worker.join(timeout=15)
        assert not worker.is_alive(), "the stream did not end after cancel"
    last = final(out)
    assert last.kind == EventKind.DONE and last.stop_reason == StopReason.CANCELLED
    assert last.generated_tokens < n and last.text == tokens_text(out)


# ---- TGI protocol against the stub ---------------------------------------------------------------
@pytest.mark.usefixtures("hub_online")
@pytest.mark.parametrize(
    ("finish", "reason"),
    [("eos_token", StopReason.EOS), ("stop_sequence", StopReason.STOP_STRING), ("length", StopReason.MAX_TOKENS)],
)
def test_tgi_stream(monkeypatch, finish, reason):
    monkeypatch.setenv("HF_TOKEN", "hf_users_own_token_must_not_leak")
    tokens = ["Hel", "lo", " there", "</s>"]
    with StubServer({("POST", "/"): lambda _: Reply(events=tgi_events(tokens, finish=finish, input_length=9, special_last=True))}) as stub:
        spec = remote_spec(stub.url, "tgi")
        req = request(spec, temperature=0.7, top_k=40, seed=123, min_p=0.2)
        evs = run(TGIBackend(spec), req)
    last = final(evs)
    assert last.kind == EventKind.DONE and last.stop_reason == reason
    assert last.text == tokens_text(evs) == "Hello there"  # the special EOS token shows no text
    assert (last.prompt_tokens, last.generated_tokens) == (9, 4)
    assert statuses(evs) == ["min_p=0.2 is not supported by TGI's generate API and was not applied"]
    sent = stub.requests[-1]
    assert sent.body["inputs"] == req.prompt and sent.body["stream"] is True
    params = sent.body["parameters"]
    assert params["do_sample"] is True and params["temperature"] == 0.7 and params["top_k"] == 40
    assert params["seed"] == 123 and params["max_new_tokens"] == 256 and params["repetition_penalty"] == 1.0
    assert params["stop"] == ["<|im_end|>", "<|im_start|>"] and params["details"] is True
    assert "hf_users_own_token_must_not_leak" not in sent.headers.get("authorization", "")


@pytest.mark.usefixtures("hub_online")
def test_tgi_sends_the_catalog_token(monkeypatch):
    monkeypatch.setenv("LINEUP_TEST_TOKEN", SECRET)
    with StubServer({("POST", "/"): lambda _: Reply(events=tgi_events(["x"]))}) as stub:
        spec = remote_spec(stub.url, "tgi", token_env="LINEUP_TEST_TOKEN")
        final(run(TGIBackend(spec), request(spec)))
    assert stub.requests[-1].headers["authorization"] == f"Bearer {SECRET}"


@pytest.mark.usefixtures("hub_online")
@pytest.mark.parametrize(
    ("reply", "fragments"),
    [
        (Reply(422, {"error": "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096", "error_type": "validation"}), ["HTTP 422 validation", "must be <= 4096"]),
        (Reply(424, {"error": "Request failed during generation: Server error: CUDA OOM", "error_type": "generation"}), ["HTTP 424 generation", "CUDA OOM"]),
        (Reply(events=[*tgi_events(["a", "b", "c"])[:2], {"error": "Request failed during generation: shard died", "error_type": "generation"}]), ["broke after 2 tokens", "shard died"]),
        (Reply(events=tgi_events(["a", "b", "c", "d"]), break_after=3), ["broke after 3 tokens"]),
    ],
)
def test_tgi_errors_become_one_clear_message(reply, fragments):
    with StubServer({("POST", "/"): lambda _: reply}) as stub:
        spec = remote_spec(stub.url, "tgi")
        evs = run(TGIBackend(spec), request(spec))
    last = final(evs)
    assert last.kind == EventKind.ERROR and f"the tgi endpoint {stub.url}" in last.error
    for frag in fragments:
        assert frag in last.error
    assert last.text == tokens_text(evs)


def test_tgi_explains_hf_hub_offline(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    spec = remote_spec(f"http://127.0.0.1:{free_port()}", "tgi")
    last = final(run(TGIBackend(spec), request(spec)))
    assert last.kind == EventKind.ERROR and "HF_HUB_OFFLINE" in last.error and "protocol 'openai'" in last.error


@pytest.mark.parametrize(
    ("owner", "field", "stop"),
    [("me", "repeat_penalty", []), ("llamacpp", "typical_p", []), ("vllm", "repetition_penalty", ["<|im_end|>", "<|im_start|>"]), ("someone", None, [])],
)
def test_dialect_is_detected_from_the_model_list(owner, field, stop):
    with StubServer(vllm_routes(openai_events(["a"]), owner=owner)) as stub:
        backend = OpenAIBackend(remote_spec(stub.url))
        for _ in range(2):
            final(run(backend, request(remote_spec(stub.url))))
    paths = [r.path for r in stub.requests]
    assert paths.count("/v1/models") == 1 and paths.count("/v1/completions") == 2  # probed once per backend
    body = stub.requests[-1].body
    assert body["stop"] == stop
    extras = {"repeat_penalty", "typical_p", "repetition_penalty", "top_k", "min_p"}
    assert (field in body) if field else not (extras & set(body))


def test_a_failed_probe_is_not_remembered():
    answers = iter([Reply(500, {"error": "warming up"})])
    routes = vllm_routes(openai_events(["a"]))
    routes[("GET", "/v1/models")] = lambda _: next(answers, Reply(body={"data": [{"id": "m", "owned_by": "vllm"}]}))
    with StubServer(routes) as stub:
        backend = OpenAIBackend(remote_spec(stub.url))
        bodies = []
        for _ in range(2):
            final(run(backend, request(remote_spec(stub.url))))
            bodies.append(stub.requests[-1].body)
    assert "top_k" not in bodies[0] and bodies[1]["top_k"] == -1


CATALOG_YAML = """
models:
  - id: cat-llama3-70b-vllm
    label: Cat-Llama-3 70B (vLLM)
    repo: turboderp/Cat-Llama-3-70B-instruct
    endpoint:
      url: http://10.0.0.5:8000/v1
      protocol: openai
      model: turboderp/Cat-Llama-3-70B-instruct
      token_env: LINEUP_VLLM_TOKEN
      timeout_s: 120
    architecture: llama
    params_b: 70.6
    context_length: 8192
    format: cat-llama3
    preset: balanced
  - id: cat-llama3-70b-endpoint
    label: Cat-Llama-3 70B (Inference Endpoint)
    endpoint:
      url: https://abc123.us-east-1.aws.endpoints.huggingface.cloud
      protocol: tgi
      token_env: HF_TOKEN
    architecture: llama
    context_length: 8192
    format: cat-llama3
"""


def test_the_documented_catalog_entries_load(tmp_path):
    from playground.catalog import load_catalog

    path = tmp_path / "models.yaml"
    path.write_text(CATALOG_YAML)
    models = load_catalog(path)
    vllm, endpoint = models["cat-llama3-70b-vllm"], models["cat-llama3-70b-endpoint"]
    assert vllm.is_remote and endpoint.is_remote
    assert isinstance(backend_for(vllm), OpenAIBackend) and isinstance(backend_for(endpoint), TGIBackend)
    assert vllm.endpoint.timeout_s == 120 and endpoint.endpoint.token_env == "HF_TOKEN"
