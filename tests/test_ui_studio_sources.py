"""Studio inputs: start-from choices, uploads, trainer configs, lm-eval results, merge configs, Hub push."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from ui import studio_push
from ui.studio_sources import (
    EMPTY,
    StudioInputError,
    add_benchmark_column,
    benchmarks_from_results,
    example_choices,
    format_choices,
    format_example,
    import_readme,
    import_spec,
    import_training,
    load_start,
    metrics_overview,
    parse_lines,
    read_upload,
    set_merge_config,
    split_names,
)
from ui.studio_view import dump_data, render_view

ROOT = Path(__file__).resolve().parent.parent
CARD_FIXTURES = ROOT / "tests" / "fixtures" / "cards"
STUDIO_FIXTURES = ROOT / "tests" / "fixtures" / "studio"
EXAMPLE_STEMS = sorted(p.stem for p in (ROOT / "examples" / "cards").glob("*.yaml"))


def fixture_text(name: str) -> str:
    return (CARD_FIXTURES / name).read_text(encoding="utf-8")


def test_start_choices_list_the_empty_card_and_every_example():
    ids = [value for _, value in example_choices()]
    assert ids[0] == EMPTY and ids[1:] == EXAMPLE_STEMS and "memphis-scribe-3b" in ids


@pytest.mark.parametrize("choice", [EMPTY, *EXAMPLE_STEMS])
def test_every_start_choice_builds_a_card_without_errors(choice):
    loaded = load_start(choice)
    view = render_view(loaded.spec_yaml)
    assert view.readme is not None and view.errors == 0, view.findings


def test_unknown_example_is_a_message_not_a_crash():
    with pytest.raises(StudioInputError, match="unknown example 'nope'; examples: "):
        load_start("nope")


def test_readme_import_round_trips_and_keeps_the_original_for_the_diff():
    text = (STUDIO_FIXTURES / "quill.README.md").read_text(encoding="utf-8")
    loaded = import_readme(text)
    assert loaded.original == text and "Imported the README" in loaded.message
    view = render_view(loaded.spec_yaml, loaded.original)
    assert view.readme == text and view.diff == ""
    assert [f.field for f in view.findings if f.severity == "error"] == ["license"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"x" * 2048, "the limit is"),
    ],
)
def test_bad_uploads_raise_a_message(tmp_path, content, match):
    path = tmp_path / "README.md"
    path.write_bytes(content)
    with pytest.raises(StudioInputError, match=match):
        read_upload(path, "the README", max_bytes=1024)


def test_missing_upload_is_a_message():
    with pytest.raises(StudioInputError, match="nothing was uploaded as the README"):
        read_upload(None, "the README", 1024)


@pytest.mark.parametrize(
    ("text", "match"),
    [("- just\n- a list\n", "not a mapping"), ("model_name: [\n", "does not parse")],
)
def test_spec_upload_must_be_a_yaml_mapping(text, match):
    with pytest.raises(StudioInputError, match=match):
        import_spec(text)


def test_spec_upload_that_does_not_validate_still_loads_as_typed():
    text = "spec_version: 1\nmodel_name: X\nlicence: mit  # typo\n"
    assert import_spec(text).spec_yaml == text


@pytest.mark.parametrize(
    ("name", "stage", "checks"),
    [
        ("training_args.json", "SFT", {"learning_rate": 2e-5, "per_device_batch_size": 4}),
        ("axolotl.yml", "QLoRA", {"learning_rate": 2e-4, "sequence_length": 4096}),
    ],
)
def test_trainer_configs_fill_a_new_stage_without_secrets(name, stage, checks):
    data = {"spec_version": 1, "model_name": "X"}
    new, message = import_training(data, fixture_text(name), name, stage)
    hyper = new["training"]["stages"][0]["hyperparameters"]
    assert new["training"]["stages"][0]["name"] == stage
    assert {k: hyper[k] for k in checks} == checks
    assert "secret" in message and "0123456789abcdef" not in message + str(new) and "hf_" not in str(new)
    view = render_view(dump_data(new))
    assert view.readme is not None and view.errors == 0, view.findings
    assert data == {"spec_version": 1, "model_name": "X"}


def test_trainer_import_keeps_typed_values_in_an_existing_stage():
    data = {"spec_version": 1, "model_name": "X",
            "training": {"stages": [{"name": "SFT", "description": "d", "hyperparameters": {"learning_rate": 1e-4}}]}}
    new, _ = import_training(data, fixture_text("training_args.json"), "args.json", "SFT")
    stage = new["training"]["stages"][0]
    assert stage["hyperparameters"]["learning_rate"] == 1e-4 and stage["description"] == "d"
    assert stage["hyperparameters"]["optimizer"] == "adamw_torch"


def test_trainer_import_of_garbage_is_a_message():
    with pytest.raises(StudioInputError, match="not valid JSON"):
        import_training({}, "{not json", "args.json", "SFT")


def test_results_files_make_a_table_with_readable_column_ids():
    files = {"a.json": fixture_text("lm-eval-0.4.json"), "b.json": fixture_text("lm-eval-0.3.json")}
    data = {"spec_version": 1, "model_name": "Mine"}
    new, findings, message = benchmarks_from_results(data, files, ["Mine", "Base"], {}, "Mine")
    bench = new["benchmarks"]
    ids = [c["id"] for c in bench["columns"]]
    assert all(not i.startswith("c") or not i[1:].isdigit() for i in ids) and len(set(ids)) == len(ids)
    assert [r["model"] for r in bench["rows"]] == ["Mine", "Base"] and bench["rows"][0]["this_model"] is True
    assert set(bench["rows"][0]["values"]) <= set(ids) and "2 results file" in message
    view = render_view(dump_data(new))
    assert view.readme and view.chart and view.errors == 0, view.findings
    assert isinstance(findings, list)


def test_headline_metric_override_picks_the_metric():
    files = {"a.json": fixture_text("lm-eval-0.4.json")}
    new, _, _ = benchmarks_from_results({}, files, [], {"arc_challenge": "acc"}, None)
    arc = next(c for c in new["benchmarks"]["columns"] if c.get("task") == "arc_challenge")
    assert arc["metric"] == "acc"


@pytest.mark.parametrize(
    ("files", "names", "match"),
    [({}, [], "upload one or more"), ({"a.json": "{}"}, ["x", "y"], "2 model names for 1 files"),
     ({"a.json": "not json"}, [], "a.json")],
)
def test_results_problems_are_messages(files, names, match):
    with pytest.raises(StudioInputError, match=match):
        benchmarks_from_results({}, files, names, {}, None)


def test_metrics_overview_lists_tasks_and_metrics():
    text = metrics_overview({"a.json": fixture_text("lm-eval-0.4.json"), "bad.json": "nope"})
    assert "`arc_challenge`: acc,none, acc_norm,none" in text and "**bad.json**: ✖" in text


def test_benchmark_column_by_hand():
    new = add_benchmark_column({"spec_version": 1, "model_name": "Mine"}, "GSM8K")
    assert new["benchmarks"] == {"columns": [{"id": "gsm8k", "label": "GSM8K"}],
                                 "rows": [{"model": "Mine", "this_model": True, "values": {}}]}
    again = add_benchmark_column(new, "GSM8K")
    assert [c["id"] for c in again["benchmarks"]["columns"]] == ["gsm8k", "gsm8k_2"]
    with pytest.raises(StudioInputError):
        add_benchmark_column(new, "  ")


def test_merge_config_upload():
    text = fixture_text("passthrough-overlap.yml")
    new = set_merge_config({"spec_version": 1, "model_name": "X", "merge": {"config_file": "m.yml"}}, text)
    assert new["merge"] == {"config": text}
    with pytest.raises(StudioInputError, match="does not parse"):
        set_merge_config({}, "slices: [")


@pytest.mark.parametrize(("text", "expected"), [("a=b\nc = d,e", {"a": "b", "c": "d,e"}), ("", {}), ("x", {})])
def test_parse_lines(text, expected):
    assert parse_lines(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("a\nb", ["a", "b"]), ("a, b", ["a", "b"]), ("", [])])
def test_split_names(text, expected):
    assert split_names(text) == expected


def test_prompt_format_choices_and_rendered_example():
    ids = [value for _, value in format_choices()]
    assert "metharme" in ids and "tokenizer" not in ids
    assert format_example("metharme").startswith("<|system|>") and format_example(None) == ""
    assert "unknown format" in format_example("nope")


# ------------------------------------------------------------------ push


def test_push_offline_explains_why():
    assert studio_push.offline_reason() is not None  # the tests run with HF_HUB_OFFLINE=1
    assert "offline" in studio_push.push_to_hub("x", "a/b", "hf_secret", None)
    assert "offline" in studio_push.push_note()


class FakeApi:
    def __init__(self, fail: bool = False):
        self.fail, self.calls = fail, []

    def upload_file(self, **kwargs):
        self.calls.append(kwargs)
        if self.fail:
            raise RuntimeError(f"boom with token {kwargs['token']}")
        return SimpleNamespace(pr_url="https://huggingface.co/a/b/discussions/1", commit_url=None)


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr(studio_push, "offline_reason", lambda: None)
    monkeypatch.setattr("cards.hub.is_offline", lambda: False)
    monkeypatch.setenv("HF_TOKEN", "hf_server_token_must_not_be_used")


def good_readme() -> str:
    return render_view(load_start(EMPTY).spec_yaml).readme


def test_push_opens_a_pull_request_with_the_users_token(online):
    api = FakeApi()
    message = studio_push.push_to_hub(good_readme(), "a/b", " hf_user ", None, api=api)
    assert message.startswith("✔") and "discussions/1" in message
    assert api.calls[0]["create_pr"] is True and api.calls[0]["token"] == "hf_user"


def test_push_prefers_a_typed_token_then_oauth_and_never_the_servers(online):
    api = FakeApi()
    studio_push.push_to_hub(good_readme(), "a/b", "", "hf_oauth", api=api)
    assert api.calls[0]["token"] == "hf_oauth"
    assert "No token" in studio_push.push_to_hub(good_readme(), "a/b", "", None, api=api)
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    ("readme", "repo", "match"),
    [(None, "a/b", "no README"), ("x", "not a repo", "not an 'org/name'")],
)
def test_push_refuses_what_cannot_work(online, readme, repo, match):
    assert match in studio_push.push_to_hub(readme, repo, "hf_user", None, api=FakeApi())


def test_push_errors_never_show_the_token(online):
    message = studio_push.push_to_hub(good_readme(), "a/b", "hf_user_secret", None, api=FakeApi(fail=True))
    assert message.startswith("✖") and "hf_user_secret" not in message


def test_push_of_a_card_with_errors_is_refused(online):
    bad = good_readme().replace("license: apache-2.0", "license: Apache 2.0")
    assert "error" in studio_push.push_to_hub(bad, "a/b", "hf_user", None, api=FakeApi())


def test_login_button_only_on_a_space_with_oauth(monkeypatch):
    monkeypatch.delenv("SYSTEM", raising=False)
    assert not studio_push.oauth_available()
    monkeypatch.setenv("SYSTEM", "spaces")
    monkeypatch.setenv("SPACE_ID", "me/lineup")
    monkeypatch.setenv("OAUTH_CLIENT_ID", "abc")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object())
    assert studio_push.oauth_available()
