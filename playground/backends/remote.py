"""What the remote backends share: the stream driver, cancel-aware pumping, tokens and error messages.

A remote column sends the raw prompt Lineup rendered (never a server-side chat template) and turns
what comes back into the same events as a local column, through ``ColumnEmitter``. The protocol
modules (``remote_openai``, ``remote_tgi``) only build requests and parse responses into ``Piece``s.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from playground.backends.base import ColumnEmitter, ColumnRequest
from playground.catalog import Endpoint, ModelSpec
from playground.errors import GenerationError
from playground.events import GenerationEvent, StopReason
from playground.formats.lint import typed_markers
from playground.sampling import SamplingOptions

T = TypeVar("T")

CONNECT_RETRIES = 2  # retries after a refused/unreachable connection, before any byte was exchanged
RETRY_DELAYS_S = (0.2, 0.5)
POLL_S = 0.05  # how often a waiting stream checks its cancel flag

# The value at which each optional sampling control does nothing: an option left there is not
# "dropped" when a server cannot carry it, so it needs no warning.
NEUTRAL: dict[str, float | int] = {
    "top_p": 1.0,
    "top_k": 0,
    "min_p": 0.0,
    "typical_p": 1.0,
    "repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
}


class RemoteError(GenerationError):
    """A remote endpoint failed; the message names the endpoint and never holds the token."""


class StreamBroken(RemoteError):
    """The stream ended or broke before the server said generation was finished."""


class RemoteHTTPError(RemoteError):
    """The endpoint answered with an HTTP error status (or an error object inside the stream)."""

    def __init__(self, status: int | None, detail: str, code: str | None = None):
        self.status, self.detail, self.code = status, detail, code
        super().__init__(f"HTTP {status}: {detail}" if status else detail)


@dataclass(frozen=True)
class Piece:
    """One parsed update from a server stream.

    Attributes:
        text: newly generated text (may be empty).
        tokens: how many generated tokens came with it.
        finish: set on the update that ends generation.
        prompt_tokens: the prompt's token count, when the server tells it.
        generated_tokens: the server's own count of generated tokens (final update).
        sent: True for the marker yielded right before the generation request goes out.
        status: a message for the column (a STATUS event), e.g. an option the server cannot take.
    """

    text: str = ""
    tokens: int = 0
    finish: StopReason | None = None
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    sent: bool = False
    status: str | None = None


# ---- endpoint facts -------------------------------------------------------------------------
def display_url(url: str) -> str:
    """The endpoint URL as shown to users: no credentials, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def endpoint_label(spec: ModelSpec) -> str:
    """'the openai endpoint http://host:port' for messages."""
    ep = _endpoint(spec)
    return f"the {ep.protocol} endpoint {display_url(ep.url)}"


def _endpoint(spec: ModelSpec) -> Endpoint:
    if spec.endpoint is None:
        raise RemoteError(f"model {spec.id!r} has no endpoint; it is not a remote model")
    return spec.endpoint


def read_token(spec: ModelSpec) -> str | None:
    """The bearer token from the variable named by the endpoint's token_env (read per request).

    Returns:
        The token, or None when the endpoint names no variable; raises RemoteError when it names one
        that is unset or empty.
    """
    ep = _endpoint(spec)
    if not ep.token_env:
        return None
    token = os.environ.get(ep.token_env, "").strip()
    if not token:
        raise RemoteError(
            f"{endpoint_label(spec)} needs a token: set the environment variable {ep.token_env} "
            f"(model {spec.id!r}, catalog field endpoint.token_env)"
        )
    return token


def redact(text: str, token: str | None) -> str:
    """Text with every occurrence of the token replaced (belt and braces for messages)."""
    return text.replace(token, "[token]") if token else text


def unsupported_warnings(options: SamplingOptions, carried: set[str] | frozenset[str], server: str) -> list[str]:
    """One warning per set sampling option the server cannot carry.

    Args:
        options: the column's options.
        carried: names of the options this protocol/dialect sends.
        server: how to name the server in the message.

    Returns:
        Messages for options away from their neutral value that are not carried.
    """
    out = []
    for name, neutral in NEUTRAL.items():
        value = getattr(options, name)
        if name not in carried and value != neutral:
            out.append(f"{name}={value} is not supported by {server} and was not applied")
    return out


# ---- cancel-aware pumping ---------------------------------------------------------------------
def pump(source: Callable[[threading.Event], Iterator[Piece]], close: Callable[[], None], cancel: threading.Event) -> Iterator[Piece]:
    """Run a blocking stream on a helper thread and hand its items over, watching cancel.

    Args:
        source: opens the stream and yields Pieces; it gets a 'halt' event to check between items.
        close: closes the underlying connection (called from this thread to unblock a read).
        cancel: the column's cancel flag.

    Returns:
        An iterator of Pieces that ends soon after cancel is set (and closes the stream then);
        exceptions from source are re-raised here.
    """
    items: queue.Queue = queue.Queue()
    halt = threading.Event()
    end = object()

    def work() -> None:
        try:
            for item in source(halt):
                items.put(item)
                if halt.is_set() or cancel.is_set():
                    break
        except BaseException as exc:  # handed to the consumer
            items.put(exc)
        finally:
            items.put(end)

    worker = threading.Thread(target=work, name="lineup-remote-stream", daemon=True)
    worker.start()
    try:
        while True:
            try:
                item = items.get(timeout=POLL_S)
            except queue.Empty:
                if cancel.is_set():
                    return
                continue
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            if cancel.is_set():
                return
    finally:
        halt.set()
        if worker.is_alive():
            try:
                close()
            except Exception:  # closing a half-dead connection may fail; nothing to report
                pass


# ---- the stream driver --------------------------------------------------------------------------
def drive(
    req: ColumnRequest,
    cancel: threading.Event,
    *,
    warnings: list[str],
    source: Callable[[threading.Event], Iterator[Piece]],
    close: Callable[[], None],
    describe: Callable[[BaseException, int], str],
) -> Iterator[GenerationEvent]:
    """Turn a protocol's Pieces into the column's events (the Backend contract of base.py).

    Args:
        req: the column request.
        cancel: the cancel flag.
        warnings: shown first, one STATUS event each (e.g. unsupported options).
        source: see pump.
        close: see pump.
        describe: turns an exception (and the number of tokens received so far) into the message
            of the final ERROR event.

    Returns:
        STATUS*, TOKEN*, then one DONE or ERROR event.
    """
    em = ColumnEmitter(req)
    for marker in typed_markers(req.fmt, list(req.messages)):
        warnings = [
            *warnings,
            f"warning: a message contains {marker!r}; a remote server reads raw text, so it may act as a turn marker "
            "(local columns encode it as plain text)",
        ]
    for w in warnings:
        yield em.status(w)
    em.metrics.restart()
    finish: StopReason | None = None
    server_count: int | None = None
    stream = pump(source, close, cancel)
    try:
        for piece in stream:
            if piece.status:
                yield em.status(piece.status)
            if piece.sent:
                em.metrics.restart()
            if piece.prompt_tokens is not None:
                em.metrics.prompt_tokens = piece.prompt_tokens
            if piece.text or piece.tokens:
                event = em.piece(piece.text, piece.tokens)
                if event is not None:
                    yield event
            if piece.generated_tokens is not None:
                server_count = piece.generated_tokens
            if em.stopped:
                finish = StopReason.STOP_STRING
                break
            if piece.finish is not None:
                finish = piece.finish
    except Exception as exc:
        if cancel.is_set():  # the close we caused may surface as an error: it is a cancel
            yield from em.done(StopReason.CANCELLED)
            return
        if finish is not None:  # finished; only the goodbye (usage, [DONE]) was lost
            yield from em.done(finish)
            return
        yield em.error(describe(exc, em.metrics.generated_tokens))
        return
    finally:
        stream.close()  # stops the helper thread and the connection when we leave early
    if cancel.is_set() and finish is None:
        yield from em.done(StopReason.CANCELLED)
        return
    if finish is None:
        broken = StreamBroken("the stream ended before the server said generation was finished")
        yield em.error(describe(broken, em.metrics.generated_tokens))
        return
    if server_count is not None and not em.stopped:
        em.metrics.generated_tokens = server_count
    yield from em.done(finish)


def retrying(open_once: Callable[[], T], is_connect_error: Callable[[BaseException], bool], halt: threading.Event) -> T:
    """Call open_once, retrying quickly (CONNECT_RETRIES times) while the connection is refused.

    Only connection errors are retried: nothing reached the server, so a retry cannot run a
    generation twice. Timeouts and HTTP errors are not retried.
    """
    for attempt in range(CONNECT_RETRIES + 1):
        try:
            return open_once()
        except Exception as exc:
            if attempt == CONNECT_RETRIES or halt.is_set() or not is_connect_error(exc):
                raise
            halt.wait(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
    raise AssertionError("unreachable")  # pragma: no cover


# ---- messages -----------------------------------------------------------------------------------
def msg_connect(label: str, detail: str) -> str:
    """Connection refused / unreachable."""
    return f"cannot connect to {label} ({detail}); is the server running and the URL right?"


def msg_timeout(label: str, timeout_s: float, n_tokens: int) -> str:
    """No byte within the timeout."""
    when = f"after {n_tokens} tokens" if n_tokens else "before the first token"
    return (
        f"{label} sent nothing for {timeout_s:g} s {when} (timeout); the server may be overloaded or "
        "still loading the model (raise endpoint.timeout_s in the catalog if it is just slow)"
    )


def msg_http(label: str, status: int | None, detail: str, code: str | None, token_env: str | None) -> str:
    """An HTTP error status (or an error object in the stream)."""
    what = f"answered HTTP {status}" if status else "reported an error"
    if code:
        what += f" {code}"
    hint = ""
    if status in (401, 403):
        hint = f"; check the token in ${token_env}" if token_env else "; the endpoint wants a token: set endpoint.token_env in the catalog"
    elif status == 404:
        hint = "; check the URL and the protocol in the catalog entry"
    elif status == 503:
        hint = "; the endpoint may be starting up or scaled to zero, try again shortly"
    detail = detail.strip() or "(no details)"
    return f"{label} {what}: {detail}{hint}"


def msg_broken(label: str, n_tokens: int, detail: str) -> str:
    """The stream stopped mid-way."""
    when = f"after {n_tokens} tokens; the text so far is kept" if n_tokens else "before the first token"
    return f"the stream from {label} broke {when} ({detail})"
