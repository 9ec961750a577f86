"""The Model-card studio in headless Chromium: import a README, fix its license, preview, check, download.

Screenshots go to artifacts/studio.png and artifacts/studio-memphis-scribe.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from app_support import save_screenshot

import cards

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

WAIT_MS = 30_000
QUILL = Path(__file__).resolve().parent / "fixtures" / "studio" / "quill.README.md"


def open_studio(page, url: str) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Model-card studio").click()
    page.wait_for_selector("#studio-load", timeout=WAIT_MS)


def wait_text(page, selector: str, text: str) -> None:
    """Wait until the element's text contains text (events re-render asynchronously)."""
    page.wait_for_function(
        "([sel, text]) => { const el = document.querySelector(sel); return el && el.innerText.includes(text); }",
        arg=[selector, text], timeout=WAIT_MS)


def pick_license(page, license_id: str) -> None:
    box = page.locator("#studio-license input")
    box.click()
    box.fill(license_id)
    page.get_by_role("option", name=license_id, exact=True).click()


def show_view(page, name: str) -> None:
    page.locator("#studio-views").get_by_role("tab", name=name).click()


def download_readme(page) -> str:
    with page.expect_download(timeout=WAIT_MS) as info:
        page.click("#studio-download-readme")
    assert info.value.suggested_filename == "README.md"
    return Path(info.value.path()).read_text(encoding="utf-8")


def test_import_fix_license_preview_and_download(browser_page, app_url):
    page = browser_page
    open_studio(page, app_url)

    # import: the card's own error shows, with its line, and blocks the download
    with page.expect_file_chooser(timeout=WAIT_MS) as chooser:
        page.click("#studio-import-readme")
    chooser.value.set_files(str(QUILL))
    wait_text(page, "#studio-status", "Imported the README")
    wait_text(page, "#studio-spec", "model_name: Quill-7B")
    wait_text(page, "#studio-validation-summary", "blocked")
    findings = page.inner_text("#studio-findings")
    assert "license" in findings and "README.md lines" in findings and "apache-2.0" in findings
    assert page.locator("#studio-download-readme").is_disabled()
    assert page.input_value("#studio-model-name textarea, #studio-model-name input") == "Quill-7B"

    # edit the license in the form: the YAML, the checks, the preview and the diff follow
    pick_license(page, "apache-2.0")
    wait_text(page, "#studio-spec", "license: apache-2.0")
    wait_text(page, "#studio-validation-summary", "No problems found")
    assert "Apache 2.0" not in page.inner_text("#studio-findings")
    show_view(page, "Preview")
    wait_text(page, "#studio-preview", "license: apache-2.0")
    assert page.locator("#studio-preview h1").first.inner_text() == "Quill-7B"
    assert page.locator("#studio-preview script").count() == 0
    show_view(page, "Diff")
    wait_text(page, "#studio-diff", "+license: apache-2.0")

    # download: the README passes `cards check`
    page.wait_for_function("!document.querySelector('#studio-download-readme').disabled", timeout=WAIT_MS)
    readme = download_readme(page)
    assert "license: apache-2.0" in readme and "It invents facts" in readme
    assert not [f for f in cards.check(readme) if f.severity == "error"]
    show_view(page, "Preview")
    save_screenshot(page, "studio")


def test_build_memphis_scribe_from_its_example(browser_page, app_url):
    page = browser_page
    open_studio(page, app_url)
    page.click("#studio-start-choice input")
    page.get_by_role("option", name="Example: memphis-scribe-3b").click()
    page.click("#studio-load")
    wait_text(page, "#studio-spec", "model_name: Memphis-scribe-3B")
    page.wait_for_selector("#studio-chart svg", timeout=WAIT_MS)  # the benchmark chart
    wait_text(page, "#studio-validation-summary", "No errors")

    # edit: a sentence in the summary reaches the spec and the preview
    summary = page.locator("#studio-summary textarea")
    summary.click()
    summary.press("Control+End")
    summary.type(" Tested in Lineup.")
    wait_text(page, "#studio-spec", "Tested in Lineup.")
    show_view(page, "Preview")
    wait_text(page, "#studio-preview", "Tested in Lineup.")
    assert page.locator("#studio-preview table").count() >= 2  # hyperparameters and benchmarks

    readme = download_readme(page)
    assert "Tested in Lineup." in readme and "# Memphis-scribe 3B" in readme
    assert not [f for f in cards.check(readme) if f.severity == "error"]
    save_screenshot(page, "studio-memphis-scribe")
