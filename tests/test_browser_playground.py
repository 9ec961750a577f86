"""The Playground tab in headless Chromium: pick two demo models, chat, raw prompt, Stop, export."""

from __future__ import annotations

import contextlib
import json

import pytest
from app_support import save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(120)]

WAIT_MS = 30_000


@contextlib.contextmanager
def shot_on_failure(page, name: str):
    """Keep artifacts/<name>-failure.png when the block fails (what the page showed)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            save_screenshot(page, f"{name}-failure")
        raise


def open_app(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#lu-send", timeout=WAIT_MS)


def pick_models(page, labels: list[str]) -> None:
    """Clear the model picker and select the given options by label text."""
    page.click("#lu-models .remove-all")
    for label in labels:
        page.click("#lu-models input[role=combobox]")
        page.click(f"[data-testid=dropdown-option]:has-text('{label}')")
    page.keyboard.press("Escape")


def open_sampling(page) -> None:
    if not page.is_visible("#lu-opt-max_new_tokens"):
        page.click("#lu-sampling >> text=Sampling")
        page.wait_for_selector("#lu-opt-max_new_tokens", timeout=WAIT_MS)


def set_number(page, elem_id: str, value: str) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(value)
    box.press("Enter")


def metrics(page, i: int) -> str:
    return page.inner_text(f"#lu-metrics-{i}")


def test_two_demo_models_side_by_side(browser_page, app_url, tmp_path):
    page = browser_page
    with shot_on_failure(page, "test_two_demo_models_side_by_side"):
        open_app(page, app_url)
        pick_models(page, ["tiny Mistral", "tiny Llama-3"])
        page.wait_for_selector("#lu-header-0 :text('tiny Mistral')", timeout=WAIT_MS)
        page.wait_for_selector("#lu-header-1 :text('tiny Llama-3')", timeout=WAIT_MS)
        assert not page.is_visible("#lu-col-2")
        assert "cerebrum" in page.inner_text("#lu-badge-0") and "cat-llama3" in page.inner_text("#lu-badge-1")

        # send: both columns fill, each with its metrics and stop reason
        page.fill("#lu-message textarea", "What do cats like?")
        page.click("#lu-send")
        for i in (0, 1):
            page.wait_for_selector(f"#lu-metrics-{i} .lu-chip:has-text('stop:')", timeout=WAIT_MS)
            assert page.locator(f"#lu-chat-{i} [data-testid=user]").inner_text().strip() == "What do cats like?"
            assert page.locator(f"#lu-chat-{i} [data-testid=bot]").first.inner_text().strip()
            line = metrics(page, i)
            assert "TTFT" in line and "tokens" in line and "stop:" in line
        assert page.input_value("#lu-message textarea") == ""
        assert "resident" in page.inner_text("#lu-status")

        # the raw prompt: exact text, token ids, BOS count, lint
        page.click("#lu-raw-acc-1 >> text=Raw prompt")
        raw = page.locator("#lu-raw-1")
        raw.locator("text=Token ids").wait_for(timeout=WAIT_MS)
        text = raw.inner_text()
        assert "<|im_start|>user" in text and "BOS count 1" in text and "Lint" in text

        # export: the replay record of this comparison downloads as JSON
        with page.expect_download(timeout=WAIT_MS) as info:
            page.click("#lu-export-json")
        record = json.loads(open(info.value.path(), encoding="utf-8").read())
        assert [c["model_id"] for c in record["columns"]] == ["demo-mistral", "demo-llama3"]
        assert record["columns"][0]["messages"][-1] == {"role": "user", "content": "What do cats like?"}
        with page.expect_download(timeout=WAIT_MS) as info:
            page.click("#lu-export-md")
        assert "| model | format |" in open(info.value.path(), encoding="utf-8").read()

        # stop: a long generation (EOS ignored) ends in every column as cancelled
        open_sampling(page)
        page.check("#lu-ignore-eos input")
        set_number(page, "lu-opt-max_new_tokens", "450")
        page.fill("#lu-message textarea", "Tell me a story.")
        page.click("#lu-send")
        page.wait_for_function(  # this turn is streaming (the last one's metrics are gone)
            "() => { const t = document.querySelector('#lu-metrics-0').innerText; return t.includes('tok/s') && !t.includes('stop:'); }",
            timeout=WAIT_MS,
        )
        page.click("#lu-stop")
        for i in (0, 1):
            page.wait_for_selector(f"#lu-metrics-{i} :text('stop: cancelled')", timeout=WAIT_MS)
        assert page.locator("#lu-chat-0 [data-testid=user]").count() == 2  # multi-turn: both turns kept
        page.click("#lu-raw-acc-0 >> text=Raw prompt")
        save_screenshot(page, "playground")


def test_invalid_setting_is_shown_next_to_the_controls_and_keeps_the_message(browser_page, app_url):
    page = browser_page
    with shot_on_failure(page, "test_invalid_setting_is_shown_next_to_the_controls_and_keeps_the_message"):
        open_app(page, app_url)
        open_sampling(page)
        page.fill("#lu-seed textarea", "lucky")
        page.fill("#lu-message textarea", "Hello!")
        page.click("#lu-send")
        page.wait_for_selector("#lu-options-error :text('seed')", timeout=WAIT_MS)
        assert "must be an integer from 0 to 4294967295, got 'lucky'" in page.inner_text("#lu-options-error")
        assert page.input_value("#lu-message textarea") == "Hello!"
        assert page.locator("#lu-chat-0 [data-testid=user]").count() == 0
        assert "Traceback" not in page.content()


def test_exported_replay_imports_and_runs_again(browser_page, app_url, tmp_path):
    page = browser_page
    with shot_on_failure(page, "test_exported_replay_imports_and_runs_again"):
        open_app(page, app_url)
        page.fill("#lu-message textarea", "What colour is grass?")
        page.click("#lu-send")
        for i in (0, 1):
            page.wait_for_selector(f"#lu-metrics-{i} .lu-chip:has-text('stop:')", timeout=WAIT_MS)
        seed_before = page.inner_text("#lu-metrics-0 .lu-seed")
        page.click("#lu-regenerate")  # the same message again (a new random seed), in place of the last reply
        page.wait_for_function(
            "s => { const e = document.querySelector('#lu-metrics-0 .lu-seed'); return e && e.innerText !== s; }", arg=seed_before, timeout=WAIT_MS
        )
        for i in (0, 1):
            page.wait_for_selector(f"#lu-metrics-{i} .lu-chip:has-text('stop:')", timeout=WAIT_MS)
            assert page.locator(f"#lu-chat-{i} [data-testid=user]").count() == 1
        replies = [page.locator(f"#lu-chat-{i} [data-testid=bot]").last.inner_text() for i in (0, 1)]
        with page.expect_download(timeout=WAIT_MS) as info:
            page.click("#lu-export-json")
        saved = tmp_path / "replay.json"
        info.value.save_as(saved)
        page.click("#lu-clear")
        page.wait_for_function("document.querySelectorAll('#lu-chat-0 [data-testid=user]').length === 0", timeout=WAIT_MS)
        with page.expect_file_chooser(timeout=WAIT_MS) as chooser:
            page.click("#lu-import")
        chooser.value.set_files(str(saved))
        page.wait_for_selector("#lu-status :text('reproduced the recorded output exactly')", timeout=WAIT_MS)
        assert [page.locator(f"#lu-chat-{i} [data-testid=bot]").last.inner_text() for i in (0, 1)] == replies
        assert "replay" in page.inner_text("#lu-badge-0")
