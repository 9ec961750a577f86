"""The studio tab's handlers, called in-process on a built Blocks (no server, no browser)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from ui import studio_tab
from ui.settings import AppSettings
from ui.studio_form import FORM_FIELDS, form_from_data
from ui.studio_view import parse_yaml

ROOT = Path(__file__).resolve().parent.parent
QUILL = ROOT / "tests" / "fixtures" / "studio" / "quill.README.md"
CARD_FIXTURES = ROOT / "tests" / "fixtures" / "cards"


@pytest.fixture(scope="module")
def tab() -> studio_tab.StudioTab:
    with gr.Blocks():
        return studio_tab.build(AppSettings(max_upload_bytes=256 * 1024))


def value(update):
    """The value an output gets, whether returned raw or as gr.update(value=...)."""
    return update.get("value") if isinstance(update, dict) else update


def form_values(tab, spec_yaml: str, **changes) -> list:
    data, _ = parse_yaml(spec_yaml)
    values = dict(zip(FORM_FIELDS, form_from_data(data).values(), strict=True))
    values.update(changes)
    return [values[n] for n in FORM_FIELDS]


def test_build_keeps_the_app_contract(tab):
    assert isinstance(studio_tab.CSS, str) and "#studio-preview" in studio_tab.CSS
    assert len(tab.form) == len(FORM_FIELDS)


def test_loading_an_example_fills_everything(tab):
    out = tab.on_load("memphis-scribe-3b", False)
    spec = out[tab.spec]
    assert "model_name: Memphis-scribe-3B" in spec
    assert value(out[tab.form[FORM_FIELDS.index("license")]]) == "cc-by-4.0"
    assert "Memphis-scribe 3B" in out[tab.preview] and out[tab.readme].startswith("---\n")
    assert out[tab.dl_readme]["interactive"] is True and value(out[tab.dl_readme]).endswith("README.md")
    assert Path(value(out[tab.dl_readme])).read_text(encoding="utf-8") == out[tab.readme]
    assert out[tab.chart]["visible"] is True and len(value(out[tab.chart])) == 8
    assert out[tab.original] == out[tab.readme_state]  # the diff starts empty


def test_a_form_edit_rewrites_the_yaml_and_revalidates(tab):
    spec = tab.on_load("memphis-scribe-3b", False)[tab.spec]
    out = tab.on_form_input(spec, None, False, *form_values(tab, spec, license="Apache 2.0"))
    assert "license: Apache 2.0" in out[tab.spec]
    assert "blocked" in out[tab.summary] and out[tab.dl_readme]["interactive"] is False
    assert "license" in list(value(out[tab.findings])["field"])
    assert tab.on_refresh(out[tab.spec], None, True)[tab.dl_readme]["interactive"] is True


def test_an_unchanged_form_leaves_the_users_yaml_alone(tab):
    spec = "# my notes\nspec_version: 1\nmodel_name: X\n"
    assert tab.on_form_input(spec, None, False, *form_values(tab, spec)) == {}


def test_broken_yaml_keeps_the_form_and_explains_with_a_line(tab):
    spec = tab.on_load("memphis-scribe-3b", False)[tab.spec]
    broken = spec.replace("license: cc-by-4.0", "license: [cc-by-4.0")
    out = tab.on_spec_input(broken, None, False, None)
    assert not any(c in out for c in tab.form)  # the form keeps what it had
    assert "does not parse" in out[tab.summary] and out[tab.dl_readme]["interactive"] is False
    assert out[tab.findings]["label"].endswith("spec YAML lines") and list(value(out[tab.findings])["line"]) != [""]
    out = tab.on_form_input(broken, None, False, *form_values(tab, spec, license="mit"))
    assert tab.spec not in out and "Your form values are kept" in out[tab.status]


def test_a_yaml_edit_refills_the_form(tab):
    spec = tab.on_load("memphis-scribe-3b", False)[tab.spec]
    out = tab.on_spec_input(spec.replace("license: cc-by-4.0", "license: mit"), None, False, None)
    assert value(out[tab.form[FORM_FIELDS.index("license")]]) == "mit"
    assert tab.spec not in out  # the user's text is never rewritten on their own edit


def test_importing_a_readme_sets_the_original_and_shows_its_errors(tab):
    out = tab.on_readme_upload(str(QUILL), False)
    assert out[tab.original] == QUILL.read_text(encoding="utf-8")
    assert out[tab.dl_readme]["interactive"] is False and "Imported the README" in out[tab.status]
    fixed = tab.on_form_input(out[tab.spec], out[tab.original], False,
                              *form_values(tab, out[tab.spec], license="apache-2.0"))
    assert "+license: apache-2.0" in fixed[tab.diff] and fixed[tab.dl_readme]["interactive"] is True


@pytest.mark.parametrize("content", [b"\xff\xfe\x00\x01 binary", b"x" * (300 * 1024)])
def test_a_bad_upload_changes_nothing_but_the_message(tab, tmp_path, content):
    path = tmp_path / "README.md"
    path.write_bytes(content)
    for handler in (tab.on_readme_upload, tab.on_spec_upload):
        out = handler(str(path), False)
        assert set(out) == {tab.status} and "Nothing else changed" in out[tab.status]


def test_preview_from_the_handler_is_sanitised(tab):
    spec = ("spec_version: 1\nmodel_name: Evil\nmetadata: {license: mit}\nsummary: |\n"
            "  <script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1))\n")
    html = tab.on_spec_input(spec, None, False, None)[tab.preview]
    assert "Evil" in html and "<script" not in html and "onerror" not in html and "javascript:" not in html


def test_training_upload_and_results_table(tab):
    spec = tab.on_load("empty", False)[tab.spec]
    out = tab.on_training_upload(str(CARD_FIXTURES / "training_args.json"), "SFT", spec, None, False, None)
    assert "learning_rate: 2.0e-05" in out[tab.spec] or "learning_rate: 2e-05" in out[tab.spec]
    rows = value(out[tab.form[FORM_FIELDS.index("hyperparameters")]])
    assert ["SFT", "learning_rate", "2e-5"] in rows.values.tolist()
    files = [str(CARD_FIXTURES / "lm-eval-0.4.json"), str(CARD_FIXTURES / "lm-eval-0.3.json")]
    assert "arc_challenge" in tab.on_results_change(files)
    out = tab.on_bench_make(files, "My-Model-7B\nBase", "", "My-Model-7B", out[tab.spec], None, False, None)
    assert "Built the benchmark table" in out[tab.bench_msg] and out[tab.chart]["visible"] is True
    bad = tab.on_bench_make(files, "only one name", "", "", out[tab.spec], None, False, None)
    assert set(bad) == {tab.bench_msg} and "one name per file" in bad[tab.bench_msg]


def test_free_sections_add_edit_remove(tab):
    spec = tab.on_load("empty", False)[tab.spec]
    out = tab.on_section_add(spec, None, False)
    assert "New section" in out[tab.spec] and out[tab.sec_pick]["value"] == "0"
    out = tab.on_section_edit(out[tab.spec], None, False, "0", "Usage", "Run it.")
    assert "title: Usage" in out[tab.spec] and "## Usage" in out[tab.readme]
    out = tab.on_section_remove(out[tab.spec], None, False, "0")
    assert "Usage" not in out[tab.spec]


def test_push_button_offline_says_why():
    assert "offline" in studio_tab._push("x", "a/b", "hf_token", None)


def test_a_load_can_be_undone(tab):
    mine = "spec_version: 1\nmodel_name: Mine  # typed by hand\n"
    out = tab.on_load("memphis-scribe-3b", False, mine, "my original")
    assert out[tab.previous] == (mine, "my original") and out[tab.undo_btn]["visible"] is True
    back = tab.on_undo(out[tab.previous], False)
    assert back[tab.spec] == mine and back[tab.original] == "my original"
    assert back[tab.undo_btn]["visible"] is False and back[tab.previous] is None
