"""Fixtures for end-to-end tests: the real app in a subprocess on loopback, and headless Chromium.

conftest.py registers the fixtures once for the whole session; test modules must not import them
(a fixture imported into a module is a separate session fixture there: a second app, a second browser).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
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


def start_app(env_extra: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """Start `python app.py` on a free loopback port; returns (process, base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **env_extra,
    }
    log = open(log_path, "w")  # closed with the process by the fixture
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_http(url, proc)
    except RuntimeError:
        proc.kill()
        log.close()
        raise RuntimeError(f"app failed to start; log:\n{log_path.read_text()[-4000:]}") from None
    return proc, url


@pytest.fixture(scope="session")
def app_url(demo_dir, tmp_path_factory):
    """The base URL of the real app, started once per session with the demo models."""
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    proc, url = start_app({"LINEUP_DEMO_DIR": str(demo_dir)}, log_path)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def chromium_browser():
    """Headless Debian Chromium driven by Playwright (skips with a reason if it is not installed)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser, tmp_path):
    """A fresh page (own context, downloads allowed); closed after the test."""
    context = chromium_browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def save_screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (kept as a test artifact)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
