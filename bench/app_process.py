"""Start and stop the real app (`python app.py`) on loopback: shared by the benchmarks and the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "PYTHONUNBUFFERED": "1",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    """Poll url until it answers 200, the process dies, or the (bounded) time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {proc.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app did not answer at {url} within {timeout_s:.0f} s")


def start_app(
    env_extra: dict[str, str] | None = None, log_path: Path | None = None, timeout_s: float = 180.0
) -> tuple[subprocess.Popen, str]:
    """Start `python app.py` offline on a free loopback port and wait until it serves.

    Args:
        env_extra: environment variables on top of this process's and the offline ones.
        log_path: where the app's output goes (default: discarded).
        timeout_s: give up (and kill the app) after this many seconds.

    Returns:
        (process, base URL); the caller stops it with stop_app. A failed start raises
        RuntimeError with the tail of the log.
    """
    port = free_port()
    env = {**os.environ, **OFFLINE_ENV, **(env_extra or {})}
    log = open(log_path or os.devnull, "w")  # lives as long as the process
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc, timeout_s)
    except RuntimeError as exc:
        proc.kill()
        log.close()
        tail = Path(log_path).read_text()[-4000:] if log_path else ""
        raise RuntimeError(f"{exc}; log:\n{tail}" if tail else str(exc)) from None
    return proc, url


def stop_app(proc: subprocess.Popen) -> None:
    """Terminate the app and wait for it (kill after 10 s)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
