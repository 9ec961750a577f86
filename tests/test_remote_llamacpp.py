"""Remote columns against a real llama.cpp server (llama-cpp-python[server]) on 127.0.0.1.

The server serves a tiny GGUF built offline by tests/remote_support/gguf_model.py; the whole module
skips, with the reason, when llama-cpp-python's server is not installed.
"""

from __future__ import annotations

import threading

import httpx
import pytest

from playground.backends.base import backend_for
from playground.backends.remote_openai import OpenAIBackend
from playground.catalog import ModelSpec
from playground.events import EventKind, StopReason
from tests.remote_support.columns import MESSAGES, final, remote_spec, request, run, tokens_text
from tests.remote_support.gguf_model import TinyConfig, build_gguf, build_hf_twin, file_digest
from tests.remote_support.server import free_port, llama_cpp_missing, running_server

pytestmark = [
    pytest.mark.remote,
    pytest.mark.skipif(llama_cpp_missing() is not None, reason=llama_cpp_missing() or ""),
]

N_CTX = 512


@pytest.fixture(scope="module")
def gguf(tmp_path_factory):
    """The tiny GGUF (built once per module)."""
    return build_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def server(gguf, tmp_path_factory):
    """A llama.cpp server on a free loopback port, shared by the module."""
    with running_server(gguf, tmp_path_factory.mktemp("llama-logs"), n_ctx=N_CTX) as srv:
        yield srv


@pytest.fixture
def spec(server):
    """A catalog entry pointing at the server (as a user would write it, with /v1)."""
    return remote_spec(server.url + "/v1", context_length=N_CTX)


def test_gguf_build_is_deterministic(gguf, tmp_path):
    assert file_digest(build_gguf(tmp_path / "again.gguf")) == file_digest(gguf)


def test_streams_tokens_with_metrics(spec):
    events = run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=40))
    last = final(events)
    tokens = [e for e in events if e.kind == EventKind.TOKEN]
    assert last.kind == EventKind.DONE and last.stop_reason == StopReason.MAX_TOKENS, last.error
    assert len(tokens) > 10 and last.text == tokens_text(events) and last.text.strip()
    assert last.generated_tokens == 40  # max_tokens was sent: llama.cpp's own default is 16
    assert last.prompt_tokens > 5 and last.ttft_s is not None and last.tokens_per_s is not None
    assert [e.generated_tokens for e in tokens] == sorted(e.generated_tokens for e in tokens)


def test_greedy_is_deterministic(spec):
    a, b = (final(run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=30, seed=s))) for s in (1, 2))
    assert a.text == b.text and a.text


def test_seed_reproduces_sampling(spec):
    def sample(seed):
        return final(run(backend_for(spec), request(spec, temperature=1.0, top_p=1.0, max_new_tokens=30, seed=seed))).text

    first = sample(7)
    assert sample(7) == first
    assert any(sample(s) != first for s in (8, 9, 10))


def test_stop_string_ends_the_column_exactly(spec):
    full = final(run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=60))).text
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert len(stop) == 3 and stop.strip(), full
    events = run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=60, stop=[stop]))
    last = final(events)
    assert last.stop_reason == StopReason.STOP_STRING
    assert last.text == full[: full.index(stop)] == tokens_text(events)


def test_cancel_closes_the_stream_and_the_server_goes_on(spec):
    cancel = threading.Event()
    events = run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=400), cancel, lambda e: e.generated_tokens >= 3 and cancel.set())
    last = final(events)
    assert last.kind == EventKind.DONE and last.stop_reason == StopReason.CANCELLED
    assert 3 <= last.generated_tokens < 400 and last.text == tokens_text(events)
    again = final(run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=5)))
    assert again.stop_reason == StopReason.MAX_TOKENS


def test_prompt_longer_than_the_context_is_a_clear_error(spec):
    long = [{"role": "user", "content": "hello " * (N_CTX + 50)}]
    last = final(run(backend_for(spec), request(spec, messages=long, max_new_tokens=10)))
    assert last.kind == EventKind.ERROR and last.stop_reason == StopReason.ERROR
    assert f"the openai endpoint {spec.endpoint.url}" in last.error
    assert "context_length_exceeded" in last.error and f"maximum context length is {N_CTX}" in last.error


def test_wrong_port_is_connection_refused(server):
    spec = remote_spec(f"http://127.0.0.1:{free_port()}")
    last = final(run(backend_for(spec), request(spec)))
    assert last.kind == EventKind.ERROR and "connection refused" in last.error and spec.endpoint.url in last.error


def test_unsupported_option_is_shown_before_tokens(spec):
    events = run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=5, no_repeat_ngram_size=3))
    kinds = [e.kind for e in events]
    assert kinds[0] == EventKind.STATUS and "no_repeat_ngram_size=3 is not supported by llama-cpp-python's server" in events[0].status
    assert final(events).kind == EventKind.DONE


def test_two_remote_columns_at_once_both_finish(spec):
    """The server queues the second request (--interrupt_requests false) instead of cutting the first."""
    results: dict[int, list] = {}
    threads = [
        threading.Thread(target=lambda c=c: results.__setitem__(c, run(OpenAIBackend(spec), request(spec, column=c, temperature=0.0, max_new_tokens=50))))
        for c in (0, 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    finals = [final(results[c]) for c in (0, 1)]
    assert [f.column for f in finals] == [0, 1]
    assert all(f.stop_reason == StopReason.MAX_TOKENS and f.generated_tokens == 50 for f in finals)
    assert finals[0].text == finals[1].text


def test_server_killed_mid_stream(gguf, tmp_path):
    with running_server(gguf, tmp_path, n_ctx=2048) as srv:
        spec = remote_spec(srv.url, context_length=2048)
        events = run(backend_for(spec), request(spec, temperature=0.0, max_new_tokens=2000), on_event=lambda e: e.kind == EventKind.TOKEN and srv.kill())
        assert not srv.alive()
    last = final(events)
    assert last.kind == EventKind.ERROR and last.stop_reason == StopReason.ERROR
    assert f"the stream from the openai endpoint {srv.url}" in last.error and "broke after" in last.error
    assert last.text == tokens_text(events) and last.text
    with pytest.raises(httpx.ConnectError):
        httpx.get(srv.url + "/v1/models", timeout=1)


@pytest.fixture(scope="module")
def local_twin(tmp_path_factory):
    """The same tiny model as the GGUF, as a local transformers folder in the catalog's terms."""
    folder = build_hf_twin(tmp_path_factory.mktemp("twin") / "tiny-llama")
    return ModelSpec(id="tiny-local", label="Tiny (local)", path=str(folder), architecture="llama", context_length=N_CTX, format="chatml")


@pytest.mark.parametrize("temperature", [0.0, 0.8])
def test_remote_and_local_columns_side_by_side(spec, local_twin, temperature):
    """One local and one remote column of the same weights stream together through the engine.

    Raw prompts are byte-exact on both sides, so greedy decoding gives the same text; sampled runs
    use the same seed but different samplers, so only the metrics and stop reasons are compared.
    """
    from playground.pool import ModelPool
    from playground.sampling import SamplingOptions
    from playground.side_by_side import ColumnChoice, side_by_side

    options = SamplingOptions(temperature=temperature, top_p=1.0, max_new_tokens=24, seed=5)
    events = list(side_by_side([ColumnChoice(local_twin), ColumnChoice(spec)], list(MESSAGES), options, threading.Event(), pool=ModelPool(device="cpu")))
    by_col = {c: [e for e in events if e.column == c] for c in (0, 1)}
    local, remote = (final(by_col[c]) for c in (0, 1))
    assert local.kind == remote.kind == EventKind.DONE, (local.error, remote.error)
    assert local.stop_reason == remote.stop_reason == StopReason.MAX_TOKENS
    assert local.generated_tokens == remote.generated_tokens == 24
    assert local.prompt_tokens == remote.prompt_tokens > 5  # the same raw prompt, the same tokens
    assert (local.model_id, remote.model_id) == ("tiny-local", spec.id)
    if temperature == 0.0:
        assert remote.text == local.text and remote.text


def test_a_dead_endpoint_fails_only_its_own_column(local_twin):
    from playground.pool import ModelPool
    from playground.sampling import SamplingOptions
    from playground.side_by_side import ColumnChoice, side_by_side

    dead = remote_spec(f"http://127.0.0.1:{free_port()}")
    options = SamplingOptions(temperature=0.0, max_new_tokens=8, seed=1)
    events = list(side_by_side([ColumnChoice(dead), ColumnChoice(local_twin)], list(MESSAGES), options, threading.Event(), pool=ModelPool(device="cpu")))
    remote, local = (final([e for e in events if e.column == c]) for c in (0, 1))
    assert remote.kind == EventKind.ERROR and "connection refused" in remote.error
    assert local.kind == EventKind.DONE and local.generated_tokens == 8


def test_a_server_that_adds_bos_gets_the_prompt_without_its_bos_text(spec, tmp_path):
    """Cat-llama3 prompts begin with '<|begin_of_text|>'; a GGUF whose tokenizer adds BOS would double it."""
    adds_bos = build_gguf(tmp_path / "adds-bos.gguf", TinyConfig(add_bos=True))
    plain = request(remote_spec(spec.endpoint.url, format_id="cat-llama3"), temperature=0.0, max_new_tokens=12)
    reference = final(run(backend_for(plain.spec), plain))
    with running_server(adds_bos, tmp_path) as srv:
        spec_bos = remote_spec(srv.url, format_id="cat-llama3")
        events = run(backend_for(spec_bos), request(spec_bos, temperature=0.0, max_new_tokens=12))
    assert any("sees exactly one BOS" in (e.status or "") for e in events)
    last = final(events)
    assert last.prompt_tokens == reference.prompt_tokens and last.text == reference.text
