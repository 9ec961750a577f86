"""Fixtures for end-to-end tests: the real app in a subprocess on loopback, and headless Chromium.

conftest.py registers the fixtures once for the whole session; test modules must not import them
(a fixture imported into a module is a separate session fixture there: a second app, a second browser).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.app_process import free_port, start_app, stop_app  # noqa: F401 - re-exported for tests

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


@pytest.fixture(scope="session")
def app_url(demo_dir, tmp_path_factory):
    """The base URL of the real app, started once per session with the demo models."""
    log_path = tmp_path_factory.mktemp("app") / "app.log"
    proc, url = start_app({"LINEUP_DEMO_DIR": str(demo_dir)}, log_path)
    yield url
    stop_app(proc)


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
