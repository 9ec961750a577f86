"""A tiny scripted HTTP server on 127.0.0.1 that speaks SSE, for protocol-level tests.

It stands in for servers that cannot be installed here (TGI, vLLM): each route is a function that
gets the parsed JSON body and returns a ``Reply``; every request is recorded (path, headers, body).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What a route answers.

    Attributes:
        status: HTTP status.
        body: a JSON object for a plain reply (ignored when events is set).
        events: SSE data items (dicts are JSON-encoded, strings sent as is) for a streamed reply.
        delay_s: pause before each event.
        break_after: drop the connection (no chunk terminator) after this many events.
    """

    status: int = 200
    body: Any = None
    events: list[Any] | None = None
    delay_s: float = 0.0
    break_after: int | None = None


@dataclass
class Recorded:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


Route = Callable[[Any], Reply]


@dataclass
class StubServer:
    """A running stub; use as a context manager."""

    routes: dict[tuple[str, str], Route]
    requests: list[Recorded] = field(default_factory=list)
    httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _handle(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                stub.requests.append(Recorded(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                route = stub.routes.get((method, self.path))
                reply = route(body) if route else Reply(404, {"error": f"no route {method} {self.path}"})
                if reply.events is None:
                    data = json.dumps(reply.body).encode()
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, ev in enumerate(reply.events):
                    if reply.break_after is not None and i >= reply.break_after:
                        self.wfile.flush()
                        self.close_connection = True
                        self.connection.shutdown(2)  # abrupt: no final chunk
                        return
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    payload = ev if isinstance(ev, str) else json.dumps(ev)
                    chunk = f"data: {payload}\n\n".encode()
                    try:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    except OSError:  # the client went away (cancel)
                        return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()


def tgi_events(tokens: list[str], finish: str = "length", input_length: int = 7, special_last: bool = False) -> list[dict]:
    """TGI generate_stream events for tokens (the last one carries generated_text and details)."""
    out = []
    for i, text in enumerate(tokens):
        last = i == len(tokens) - 1
        out.append(
            {
                "index": i + 1,
                "token": {"id": 100 + i, "text": text, "logprob": -0.5, "special": special_last and last},
                "generated_text": "".join(tokens if not special_last else tokens[:-1]) if last else None,
                "details": {"finish_reason": finish, "generated_tokens": len(tokens), "input_length": input_length, "seed": 1} if last else None,
            }
        )
    return out


def openai_events(pieces: list[str], finish: str = "length", stop_reason: Any = None, usage: dict | None = None) -> list[Any]:
    """vLLM-style completion chunks for pieces, a usage chunk when given, then [DONE]."""
    out: list[Any] = []
    for i, text in enumerate(pieces):
        last = i == len(pieces) - 1
        out.append({"id": "cmpl-1", "object": "text_completion", "choices": [{"index": 0, "text": text, "finish_reason": finish if last else None, "stop_reason": stop_reason if last else None}]})
    if usage:
        out.append({"id": "cmpl-1", "object": "text_completion", "choices": [], "usage": usage})
    out.append("[DONE]")
    return out
