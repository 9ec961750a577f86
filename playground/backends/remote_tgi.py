"""Remote columns over TGI's native generate-stream API (TGI servers and Inference Endpoints).

Uses huggingface_hub's ``InferenceClient(model=URL).text_generation(prompt, stream=True,
details=True, ...)``: the raw prompt goes out as ``inputs``; TGI reports why generation stopped
(``eos_token``, ``stop_sequence``, ``length``) and the prompt length, so metrics match local columns.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from playground.backends.base import ColumnEmitter, ColumnRequest
from playground.backends.remote import (
    Piece,
    RemoteError,
    RemoteHTTPError,
    StreamBroken,
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

SERVER = "TGI's generate API"
MAX_SERVER_STOPS = 4  # TGI's default --max-stop-sequences; Lineup matches any further ones itself
CARRIED = frozenset({"temperature", "top_p", "top_k", "typical_p", "repetition_penalty", "max_new_tokens", "seed", "stop"})
FINISH: dict[str, StopReason] = {
    "length": StopReason.MAX_TOKENS,
    "eos_token": StopReason.EOS,
    "stop_sequence": StopReason.STOP_STRING,
}


def tgi_parameters(req: ColumnRequest) -> tuple[dict[str, Any], list[str]]:
    """The keyword arguments for ``InferenceClient.text_generation``, and the unsupported-option warnings.

    TGI rejects top_p/typical_p of 1.0, top_k of 0 and any temperature with greedy decoding, so a
    control at its 'off' value is sent as None (TGI's own 'off'); greedy is ``do_sample=False``.

    Args:
        req: the column request.

    Returns:
        (kwargs, warnings).
    """
    o = req.options
    sample = not o.greedy
    kwargs: dict[str, Any] = {
        "stream": True,
        "details": True,
        "return_full_text": False,
        "max_new_tokens": o.max_new_tokens,
        "do_sample": sample,
        "temperature": o.temperature if sample else None,
        "top_p": o.top_p if sample and o.top_p < 1.0 else None,
        "top_k": o.top_k if sample and o.top_k > 0 else None,
        "typical_p": o.typical_p if sample and o.typical_p < 1.0 else None,
        "repetition_penalty": o.repetition_penalty,
        "seed": o.seed,
        "stop": list(req.stop_strings[:MAX_SERVER_STOPS]),
        "watermark": False,
    }
    return kwargs, unsupported_warnings(o, CARRIED, SERVER)


def piece_from_output(out: Any) -> Piece:
    """One ``TextGenerationStreamOutput`` as a Piece (special tokens count but show no text)."""
    token = out.token
    text = "" if getattr(token, "special", False) else (token.text or "")
    details = getattr(out, "details", None)
    finish = None
    prompt_tokens = generated = None
    if details is not None:
        reason = str(details.finish_reason)
        if reason not in FINISH:
            raise RemoteError(f"the server ended generation with finish_reason {reason!r}")
        finish = FINISH[reason]
        prompt_tokens = getattr(details, "input_length", None)
        generated = getattr(details, "generated_tokens", None)
    return Piece(text=text, tokens=1, finish=finish, prompt_tokens=prompt_tokens, generated_tokens=generated)


def _is_connect_error(exc: BaseException) -> bool:
    """True for a connection that never opened."""
    import httpx2

    return isinstance(exc, httpx2.ConnectError)


class _Closer:
    """Holds the InferenceClient of one stream so another thread can close its response."""

    def __init__(self) -> None:
        self.client: Any = None

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # already closed
                pass


class TGIBackend:
    """A Backend for endpoints with protocol 'tgi'."""

    def __init__(self, spec: ModelSpec):
        if spec.endpoint is None or spec.endpoint.protocol != "tgi":
            raise RemoteError(f"model {spec.id!r} has no 'tgi' endpoint")
        self.spec = spec
        self.endpoint = spec.endpoint

    def stream(self, req: ColumnRequest, cancel: threading.Event) -> Iterator[GenerationEvent]:
        """Generate for req on the endpoint (see base.Backend)."""
        label = endpoint_label(req.spec)
        try:
            token = read_token(req.spec)
        except RemoteError as exc:
            yield ColumnEmitter(req).error(exc)
            return
        kwargs, warnings = tgi_parameters(req)
        closer = _Closer()

        def describe(exc: BaseException, n_tokens: int) -> str:
            return redact(self.describe_error(exc, n_tokens, label, self.endpoint.timeout_s, self.endpoint.token_env), token)

        yield from drive(
            req, cancel, warnings=warnings, source=lambda halt: self._pieces(req.prompt, kwargs, token, closer, halt),
            close=closer.close, describe=describe,
        )

    def _pieces(self, prompt: str, kwargs: dict[str, Any], token: str | None, closer: _Closer, halt: threading.Event) -> Iterator[Piece]:
        """Runs on the pump's thread: send the request and parse the stream."""
        from huggingface_hub import InferenceClient

        # Without a catalog token, blank the Authorization header: huggingface_hub would otherwise send
        # the user's own Hugging Face token (HF_TOKEN / cached login) to whatever server this is.
        headers = {} if token else {"authorization": ""}
        client = InferenceClient(model=self.endpoint.url.rstrip("/"), token=token, headers=headers, timeout=self.endpoint.timeout_s)
        closer.client = client
        with client:
            yield Piece(sent=True)
            outputs = retrying(lambda: client.text_generation(prompt, **kwargs), _is_connect_error, halt)
            for out in outputs:
                yield piece_from_output(out)
                if halt.is_set():
                    return

    @staticmethod
    def describe_error(exc: BaseException, n_tokens: int, label: str, timeout_s: float, token_env: str | None = None) -> str:
        """The ERROR message for a failure of this protocol (no token in it: the caller redacts)."""
        import httpx2
        from huggingface_hub.errors import (
            HfHubHTTPError,
            InferenceTimeoutError,
            OfflineModeIsEnabled,
            TextGenerationError,
        )

        if isinstance(exc, OfflineModeIsEnabled):
            return (
                f"cannot reach {label}: HF_HUB_OFFLINE is set, and huggingface_hub's InferenceClient then refuses every "
                "request, even to your own server; unset HF_HUB_OFFLINE, or use protocol 'openai' (TGI's /v1/completions)"
            )
        if isinstance(exc, RemoteHTTPError):
            return msg_http(label, exc.status, exc.detail, exc.code, token_env)
        if isinstance(exc, TextGenerationError):
            cause = exc.__cause__ if isinstance(exc.__cause__, HfHubHTTPError) else exc  # HTTP errors are chained
            status = getattr(getattr(cause, "response", None), "status_code", None)
            kind = type(exc).__name__.replace("Error", "").lower() or "error"
            if n_tokens and status is None:
                return msg_broken(label, n_tokens, f"{kind}: {exc}")
            return msg_http(label, status, str(exc), kind, token_env)
        if isinstance(exc, HfHubHTTPError):
            status = getattr(exc.response, "status_code", None) if exc.response is not None else None
            detail = exc.server_message or str(exc).split("\n")[0]
            return msg_http(label, status, detail, None, token_env)
        if _is_connect_error(exc):
            text = str(exc) or type(exc).__name__
            return msg_connect(label, "connection refused" if "refused" in text.lower() else text)
        if isinstance(exc, (InferenceTimeoutError, httpx2.TimeoutException)):
            return msg_timeout(label, timeout_s, n_tokens)
        if isinstance(exc, (httpx2.TransportError, httpx2.StreamError)):
            return msg_broken(label, n_tokens, str(exc) or type(exc).__name__)
        if isinstance(exc, StreamBroken):
            return msg_broken(label, n_tokens, str(exc))
        if isinstance(exc, RemoteError):
            return f"{label}: {exc}"
        return f"{label} failed: {type(exc).__name__}: {exc}"
