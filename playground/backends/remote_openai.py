"""Remote columns over OpenAI-compatible text completions (``POST /v1/completions``, SSE).

Serves vLLM, llama.cpp (its C++ server and llama-cpp-python's), TGI's OpenAI route and other
compatible servers. The raw prompt goes out as ``prompt``; no chat template is involved. Servers
differ in which sampling controls they take and how they report why generation stopped, so each
server *dialect* is a row of data (``DIALECTS``), picked from ``GET /v1/models`` (``owned_by``).

httpx is used directly rather than the ``openai`` package: the body must be exact (dialect fields at
the top level) and nothing from the environment may leak into requests to a third-party server
(the openai client adds OPENAI_ORG_ID/OPENAI_PROJECT_ID headers and reads OPENAI_API_KEY).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from playground.backends.base import ColumnEmitter, ColumnRequest
from playground.backends.remote import (
    NEUTRAL,
    Piece,
    RemoteError,
    RemoteHTTPError,
    StreamBroken,
    display_url,
    drive,
    endpoint_label,
    msg_broken,
    msg_connect,
    msg_http,
    msg_timeout,
    read_token,
    redact,
    retrying,
    unsupported_warnings,
)
from playground.catalog import ModelSpec
from playground.events import GenerationEvent, StopReason

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Dialect:
    """What one kind of OpenAI-compatible server takes and tells.

    Attributes:
        id: dialect id.
        server: how messages name it.
        extras: (Lineup option, body field) pairs sent on top of the OpenAI fields.
        server_stop: send stop strings to the server. Only for servers that say which stop ended
            generation; otherwise Lineup matches them itself and closes the stream, so the stop
            reason (EOS vs stop string) stays exact.
        stream_options: sent as ``stream_options`` (token usage in the stream), or None.
        tokenize: (path, input field) of a tokenize route that counts prompt tokens, or None.
        single_bos: how to keep exactly one BOS when the prompt text starts with it (as local
            columns do): 'add_special_tokens' (send add_special_tokens=false), 'strip' (when the
            tokenize route shows the server adds a second BOS, send the prompt without its BOS
            text), or None (no control: see the README).
        top_k_off: the value that turns top_k off on this server.
        omit_neutral: options left out while at their neutral value (the server rejects that value).
    """

    id: str
    server: str
    extras: tuple[tuple[str, str], ...] = ()
    server_stop: bool = False
    stream_options: dict[str, Any] | None = None
    tokenize: tuple[str, str] | None = None
    single_bos: str | None = None
    top_k_off: int = 0
    omit_neutral: frozenset[str] = field(default_factory=frozenset)

    @property
    def carried(self) -> frozenset[str]:
        """Lineup options this dialect sends."""
        return frozenset({"temperature", "top_p", "max_new_tokens", "seed", "stop", *(o for o, _ in self.extras)})


DIALECTS: dict[str, Dialect] = {
    d.id: d
    for d in (
        Dialect(
            id="llama-cpp-python",
            server="llama-cpp-python's server",
            extras=(("top_k", "top_k"), ("min_p", "min_p"), ("repetition_penalty", "repeat_penalty")),
            tokenize=("/extras/tokenize", "input"),
            single_bos="strip",
        ),
        Dialect(
            id="llama.cpp",
            server="the llama.cpp server",
            extras=(("top_k", "top_k"), ("min_p", "min_p"), ("typical_p", "typical_p"), ("repetition_penalty", "repeat_penalty")),
            stream_options={"include_usage": True},
            tokenize=("/tokenize", "content"),
        ),
        Dialect(
            id="vllm",
            server="vLLM",
            extras=(("top_k", "top_k"), ("min_p", "min_p"), ("repetition_penalty", "repetition_penalty")),
            server_stop=True,
            stream_options={"include_usage": True, "continuous_usage_stats": True},
            single_bos="add_special_tokens",
            top_k_off=-1,
        ),
        Dialect(
            id="generic",
            server="this OpenAI-compatible server",
            stream_options={"include_usage": True},
            omit_neutral=frozenset({"top_p"}),  # TGI's OpenAI route rejects top_p=1.0
        ),
    )
}

# owned_by in GET /v1/models -> dialect id
OWNERS: dict[str, str] = {"me": "llama-cpp-python", "llamacpp": "llama.cpp", "vllm": "vllm"}


def get_dialect(dialect_id: str) -> Dialect:
    """Look up a dialect; raises RemoteError listing the valid ids."""
    if dialect_id not in DIALECTS:
        raise RemoteError(f"unknown OpenAI server dialect {dialect_id!r}; valid: {', '.join(DIALECTS)}")
    return DIALECTS[dialect_id]


def api_root(url: str) -> str:
    """The endpoint URL without a trailing '/v1' (routes are added to it)."""
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def build_body(req: ColumnRequest, dialect: Dialect) -> tuple[dict[str, Any], list[str]]:
    """The JSON body of the completions request, and the warnings for options not carried.

    Args:
        req: the column request (raw prompt, options with seed).
        dialect: the server dialect.

    Returns:
        (body, warnings). Every carried option is in the body, even at its default, because servers
        have their own defaults (llama.cpp: repeat_penalty 1.1, max_tokens 16, min_p 0.05).
    """
    o = req.options
    body: dict[str, Any] = {
        "prompt": req.prompt,
        "max_tokens": o.max_new_tokens,
        "temperature": o.temperature,  # 0 is greedy on every one of these servers
        "top_p": o.top_p,
        "seed": o.seed,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "stop": list(req.stop_strings) if dialect.server_stop else [],
        "stream": True,
    }
    if req.spec.endpoint is not None and req.spec.endpoint.model:
        body["model"] = req.spec.endpoint.model
    for option, wire in dialect.extras:
        value = getattr(o, option)
        if option == "top_k" and value == 0:
            value = dialect.top_k_off
        body[wire] = value
    for option in dialect.omit_neutral:
        if getattr(o, option) == NEUTRAL[option]:
            body.pop(option, None)
    if dialect.stream_options:
        body["stream_options"] = dict(dialect.stream_options)
    if dialect.single_bos == "add_special_tokens" and starts_with_bos(req):
        body["add_special_tokens"] = False
    return body, unsupported_warnings(o, dialect.carried, dialect.server)


def starts_with_bos(req: ColumnRequest) -> bool:
    """True when the rendered prompt begins with the format's BOS text."""
    return bool(req.fmt.bos) and req.prompt.startswith(req.fmt.bos)


def finish_reason(reason: str | None, stop_reason: Any = None) -> StopReason | None:
    """Map a choice's finish_reason (and vLLM's stop_reason) to a StopReason.

    Returns:
        None while generation goes on; raises RemoteError for reasons that are failures.
    """
    if reason is None:
        return None
    if reason == "length":
        return StopReason.MAX_TOKENS
    if reason in ("stop", "eos_token", "eos"):
        return StopReason.STOP_STRING if isinstance(stop_reason, str) else StopReason.EOS
    if reason in ("stop_sequence", "stop_string"):
        return StopReason.STOP_STRING
    raise RemoteError(f"the server ended generation with finish_reason {reason!r}")


def parse_error(payload: Any) -> tuple[str, str | None]:
    """(message, code) from an error body: OpenAI {'error': {...}}, TGI {'error', 'error_type'}, FastAPI {'detail'}."""
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or json.dumps(err)), err.get("code") or err.get("type")
        if isinstance(err, str):
            return err, payload.get("error_type")
        if "detail" in payload:
            detail = payload["detail"]
            return (detail if isinstance(detail, str) else json.dumps(detail)), None
        if "message" in payload:
            return str(payload["message"]), payload.get("code")
    return str(payload)[:500], None


def http_error(response: httpx.Response) -> RemoteHTTPError:
    """The RemoteHTTPError for a (read) error response."""
    try:
        message, code = parse_error(response.json())
    except ValueError:
        message, code = response.text[:500], None
    return RemoteHTTPError(response.status_code, message, code)


def parse_chunk(data: Any) -> Piece:
    """One SSE data object of a completions stream as a Piece; raises RemoteHTTPError for an error object."""
    if not isinstance(data, dict):
        raise RemoteError(f"unexpected stream data {str(data)[:200]!r}")
    if data.get("error"):
        message, code = parse_error(data)
        raise RemoteHTTPError(None, message, code)
    usage = data.get("usage") or {}
    text, finish = "", None
    choices = data.get("choices") or []
    if choices:
        choice = choices[0]
        text = choice.get("text") or ""
        finish = finish_reason(choice.get("finish_reason"), choice.get("stop_reason"))
    return Piece(
        text=text,
        tokens=1 if text else 0,
        finish=finish,
        prompt_tokens=usage.get("prompt_tokens"),
        generated_tokens=usage.get("completion_tokens"),
    )


def iter_sse(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event ('[DONE]' included), from the response's lines."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive ping
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


class _Closer:
    """Holds the live client/response of one stream so another thread can close them."""

    def __init__(self) -> None:
        self.client: httpx.Client | None = None
        self.response: httpx.Response | None = None

    def close(self) -> None:
        for thing in (self.response, self.client):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # already closed / half-dead
                    pass


class OpenAIBackend:
    """A Backend for endpoints with protocol 'openai'."""

    def __init__(self, spec: ModelSpec):
        if spec.endpoint is None or spec.endpoint.protocol != "openai":
            raise RemoteError(f"model {spec.id!r} has no 'openai' endpoint")
        self.spec = spec
        self.endpoint = spec.endpoint
        self.root = api_root(self.endpoint.url)
        self._dialect: Dialect | None = None  # detected once per backend (one endpoint)

    # ---- Backend ------------------------------------------------------------------------
    def stream(self, req: ColumnRequest, cancel: threading.Event) -> Iterator[GenerationEvent]:
        """Generate for req on the endpoint (see base.Backend)."""
        label = endpoint_label(req.spec)
        try:
            token = read_token(req.spec)
        except RemoteError as exc:
            yield ColumnEmitter(req).error(exc)
            return
        closer = _Closer()
        timeout = self.endpoint.timeout_s

        def describe(exc: BaseException, n_tokens: int) -> str:
            return redact(self.describe_error(exc, n_tokens, label, timeout, self.endpoint.token_env), token)

        yield from drive(
            req, cancel, warnings=[], source=lambda halt: self._pieces(req, token, closer, halt),
            close=closer.close, describe=describe,
        )

    # ---- internals ------------------------------------------------------------------------
    def _headers(self, token: str | None) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "User-Agent": "lineup"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def dialect(self, client: httpx.Client) -> Dialect:
        """The server's dialect: the catalog's choice if it has one, else detected from /v1/models."""
        explicit = getattr(self.endpoint, "dialect", None)
        if explicit and explicit != "auto":
            return get_dialect(explicit)
        if self._dialect is not None:
            return self._dialect
        dialect_id, known = self._probe(client)
        if known:  # remember only a real answer, not a failed probe
            self._dialect = DIALECTS[dialect_id]
        return DIALECTS[dialect_id]

    def _probe(self, client: httpx.Client) -> tuple[str, bool]:
        """(dialect id, whether the server answered) from owned_by in GET /v1/models.

        A refused connection is raised (so it is retried and reported); any other failure gives
        'generic' and leaves the completions request to report what is wrong.
        """
        try:
            r = client.get(f"{self.root}/v1/models", timeout=min(PROBE_TIMEOUT_S, self.endpoint.timeout_s))
            if r.status_code != 200:
                return "generic", False
            models = r.json().get("data") or []
            owner = str(models[0].get("owned_by", "")) if models else ""
        except httpx.ConnectError:
            raise
        except (httpx.HTTPError, ValueError, AttributeError, IndexError):
            return "generic", False
        return OWNERS.get(owner, "generic"), True

    def _tokenize(self, client: httpx.Client, dialect: Dialect, prompt: str) -> list | None:
        """The prompt's tokens from the server's tokenize route (None when unavailable)."""
        if dialect.tokenize is None:
            return None
        path, key = dialect.tokenize
        try:
            r = client.post(f"{self.root}{path}", json={key: prompt})
            tokens = r.json().get("tokens") if r.status_code == 200 else None
        except (httpx.HTTPError, ValueError, AttributeError):
            return None
        return tokens if isinstance(tokens, list) else None

    def _pieces(self, req: ColumnRequest, token: str | None, closer: _Closer, halt: threading.Event) -> Iterator[Piece]:
        """Runs on the pump's thread: detect the dialect, send the request, parse the stream."""
        t = self.endpoint.timeout_s
        with httpx.Client(timeout=httpx.Timeout(t, connect=min(t, 10.0)), headers=self._headers(token)) as client:
            closer.client = client
            dialect = retrying(lambda: self.dialect(client), _is_connect_error, halt)
            body, warnings = build_body(req, dialect)
            for w in warnings:
                yield Piece(status=w)
            tokens = self._tokenize(client, dialect, req.prompt)
            if dialect.single_bos == "strip" and tokens and len(tokens) > 1 and tokens[0] == tokens[1] and starts_with_bos(req):
                body["prompt"] = req.prompt[len(req.fmt.bos):]
                tokens = tokens[1:]
                yield Piece(status=f"{dialect.server} adds a BOS token itself, so Lineup sent the prompt without its leading {req.fmt.bos!r}: the model sees exactly one BOS, as in a local column")
            yield Piece(sent=True, prompt_tokens=len(tokens) if tokens is not None else None)
            request = client.build_request("POST", f"{self.root}/v1/completions", json=body)
            response = retrying(lambda: client.send(request, stream=True), _is_connect_error, halt)
            closer.response = response
            try:
                if response.status_code >= 400:
                    response.read()
                    raise http_error(response)
                empty = True
                try:
                    for data in iter_sse(response.iter_lines()):
                        empty = False
                        if data.strip() == "[DONE]":
                            return
                        try:
                            payload = json.loads(data)
                        except ValueError:
                            raise RemoteError(f"the server sent data that is not JSON: {data[:200]!r}") from None
                        yield parse_chunk(payload)
                        if halt.is_set():
                            return
                except httpx.TransportError as exc:
                    if not empty or halt.is_set() or isinstance(exc, httpx.TimeoutException):
                        raise
                    self._recheck(client, body, exc)
            finally:
                response.close()
            if empty and not halt.is_set():
                self._recheck(client, body, StreamBroken("the server closed the stream without sending anything"))

    def _recheck(self, client: httpx.Client, body: dict[str, Any], original: Exception) -> None:
        """Find out why a stream ended before its first byte, by asking again without streaming.

        llama-cpp-python, for one, reports a too-long prompt (context_length_exceeded) only to
        non-streaming requests; a streaming one just ends or is reset. One token is asked for.
        Always raises: the server's error, else the original one.
        """
        probe = {**body, "stream": False, "max_tokens": 1}
        probe.pop("stream_options", None)
        try:  # on a fresh connection: the pooled one may be the one the server just dropped
            with httpx.Client(timeout=client.timeout, headers=client.headers) as fresh:
                response = fresh.post(f"{self.root}/v1/completions", json=probe)
        except httpx.HTTPError:
            raise original from None
        if response.status_code >= 400:
            raise http_error(response)
        raise original

    @staticmethod
    def describe_error(exc: BaseException, n_tokens: int, label: str, timeout_s: float, token_env: str | None = None) -> str:
        """The ERROR message for a failure of this protocol (no token in it: the caller redacts)."""
        if isinstance(exc, RemoteHTTPError):
            return msg_http(label, exc.status, exc.detail, exc.code, token_env)
        if isinstance(exc, httpx.ConnectError) or _is_connect_error(exc):
            text = str(exc) or type(exc).__name__
            return msg_connect(label, "connection refused" if "refused" in text.lower() else text)
        if isinstance(exc, httpx.TimeoutException):
            return msg_timeout(label, timeout_s, n_tokens)
        if isinstance(exc, (httpx.TransportError, httpx.StreamError)):
            return msg_broken(label, n_tokens, str(exc) or type(exc).__name__)
        if isinstance(exc, StreamBroken):
            return msg_broken(label, n_tokens, str(exc))
        if isinstance(exc, RemoteError):
            return f"{label}: {exc}"
        return f"{label} failed: {type(exc).__name__}: {exc}"


def _is_connect_error(exc: BaseException) -> bool:
    """True for a connection that never opened (refused, unreachable, unknown host)."""
    return isinstance(exc, httpx.ConnectError)


__all__ = ["DIALECTS", "Dialect", "OpenAIBackend", "build_body", "display_url", "finish_reason", "iter_sse", "parse_chunk", "parse_error"]
