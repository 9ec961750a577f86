"""Start and stop llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) on loopback."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.app_process import free_port

HOST = "127.0.0.1"


def llama_cpp_missing() -> str | None:
    """Why the llama.cpp server cannot run here (None when it can)."""
    for mod in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette"):
        if importlib.util.find_spec(mod) is None:
            return f"{mod} is not installed; pip install 'llama-cpp-python[server]==0.3.36' to run the remote tests"
    return None


@dataclass
class LlamaServer:
    """A running llama.cpp server subprocess."""

    model: Path
    port: int
    proc: subprocess.Popen
    log: Path
    args: tuple[str, ...] = field(default=())

    @property
    def url(self) -> str:
        """Base URL (no /v1)."""
        return f"http://{HOST}:{self.port}"

    def log_tail(self, n: int = 2000) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return self.log.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.alive():
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL after a few seconds."""
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(model: Path, log_dir: Path, *, n_ctx: int = 512, ready_timeout_s: float = 60.0, extra: tuple[str, ...] = ()) -> LlamaServer:
    """Start ``python -m llama_cpp.server`` on a free loopback port and wait until it answers.

    Args:
        model: the .gguf file to serve.
        log_dir: where the server's output goes (server-PORT.log).
        n_ctx: the context window the server allocates.
        ready_timeout_s: give up (and stop the server) after this many seconds.
        extra: more command-line arguments.

    Returns:
        The running LlamaServer; raises RuntimeError with the log tail when it does not come up.
    """
    port = free_port()
    log = Path(log_dir) / f"server-{port}.log"
    args = (
        "--model", str(model),
        "--host", HOST,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", "1",
        "--interrupt_requests", "false",  # else a second request truncates a running stream
        *extra,
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", *args], stdout=fh, stderr=subprocess.STDOUT, env=env)
    server = LlamaServer(model=Path(model), port=port, proc=proc, log=log, args=args)
    deadline = time.monotonic() + ready_timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"llama.cpp server exited with {proc.returncode}:\n{server.log_tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/v1/models", timeout=1.0).status_code == 200:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"llama.cpp server did not answer within {ready_timeout_s:.0f} s:\n{server.log_tail()}")


@contextlib.contextmanager
def running_server(model: Path, log_dir: Path, **kwargs) -> Iterator[LlamaServer]:
    """Context manager around start_server that always stops the server."""
    server = start_server(model, log_dir, **kwargs)
    try:
        yield server
    finally:
        server.stop()
