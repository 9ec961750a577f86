"""Studio form adapters: spec data -> form values -> spec data, free-section editor (no gradio, no browser)."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import cards
from cards.specio import spec_data
from ui.studio_data import slug
from ui.studio_form import FORM_FIELDS, NO_CHOICE, CardForm, apply_form, form_from_data
from ui.studio_sections import add_section, apply_section, remove_section, section_choices, section_fields
from ui.studio_tables import BENCH_FIXED, hyper_rows, stages_from_rows

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples" / "cards").glob("*.yaml"))


def example(stem: str) -> dict:
    return spec_data(cards.load_spec_file(next(p for p in EXAMPLES if p.stem == stem)))


def edited(form: CardForm, **changes) -> CardForm:
    """The form as the browser would send it back after the user changed some fields."""
    values = dict(zip(FORM_FIELDS, form.values(), strict=True))
    values.update(changes)
    return CardForm.from_values([values[name] for name in FORM_FIELDS])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_untouched_form_writes_back_the_same_spec(path):
    data = spec_data(cards.load_spec_file(path))
    form = form_from_data(data)
    assert CardForm.from_values(form.values()) == form
    assert apply_form(data, CardForm.from_values(form.values())) == data


def _training_stages(path):
    return spec_data(cards.load_spec_file(path)).get("training", {}).get("stages")


WITH_STAGES = [p for p in EXAMPLES if _training_stages(p)]


def test_some_examples_have_training_stages():
    assert len(WITH_STAGES) >= 2


@pytest.mark.parametrize("path", WITH_STAGES, ids=lambda p: p.stem)
def test_hyperparameter_rows_round_trip_every_example(path):
    data = spec_data(cards.load_spec_file(path))
    stages = data["training"]["stages"]
    assert stages_from_rows(hyper_rows(data["training"]), stages) == stages


def test_changing_the_license_changes_only_the_license():
    data = example("memphis-scribe-3b")
    new = apply_form(data, edited(form_from_data(data), license="mit"))
    assert new["metadata"]["license"] == "mit"
    assert list(new["metadata"]) == list(data["metadata"])  # key order kept
    new["metadata"]["license"] = data["metadata"]["license"]
    assert new == data


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("license", None, lambda d: "license" not in d["metadata"]),
        ("language", ["en", "fr"], lambda d: d["metadata"]["language"] == ["en", "fr"]),
        ("tags", [], lambda d: "tags" not in d["metadata"]),
        ("base_model_relation", "finetune", lambda d: d["metadata"]["base_model_relation"] == "finetune"),
        ("repo_id", "", lambda d: "repo_id" not in d),
        ("summary", "New summary.", lambda d: d["summary"] == "New summary."),
        ("prompt_format", NO_CHOICE, lambda d: "prompt_format" not in d),
        ("prompt_format", "chatml", lambda d: d["prompt_format"]["id"] == "chatml" and d["prompt_format"]["examples"]),
        ("limitations", "Not for medical advice.", lambda d: d["limitations"] == "Not for medical advice."),
        ("merge_config", "merge_method: slerp\n", lambda d: d["merge"] == {"config": "merge_method: slerp\n"}),
        ("training_intro", "", lambda d: "intro" not in d["training"] and d["training"]["stages"]),
    ],
)
def test_each_form_field_writes_its_spec_key(field, value, check):
    data = example("memphis-scribe-3b")
    new = apply_form(data, edited(form_from_data(data), **{field: value}))
    assert check(new)


def test_a_new_top_level_key_goes_where_the_spec_declares_it():
    data = {"spec_version": 1, "model_name": "X", "sections": [{"title": "Usage", "body": "hi"}]}
    new = apply_form(data, edited(form_from_data(data), summary="A summary."))
    assert list(new) == ["spec_version", "model_name", "summary", "sections"]


def test_editing_one_hyperparameter_keeps_stage_descriptions():
    data = example("memphis-scribe-3b")
    form = form_from_data(data)
    rows = [list(r) for r in form.hyperparameters]
    at = next(i for i, r in enumerate(rows) if r[1] == "loss_mix.ranking loss weight")
    rows[at][2] = "0.3"
    new = apply_form(data, edited(form, hyperparameters=rows))
    stage = new["training"]["stages"][0]
    assert stage["hyperparameters"]["loss_mix"] == {"ranking loss weight": 0.3}
    assert stage["description"] == data["training"]["stages"][0]["description"]


def test_renaming_a_stage_keeps_its_description():
    data = example("memphis-scribe-3b")
    rows = [["Ranking" if r[0] == "Contrastive finetuning" else r[0], r[1], r[2]]
            for r in form_from_data(data).hyperparameters]
    new = apply_form(data, edited(form_from_data(data), hyperparameters=rows))
    names = [s["name"] for s in new["training"]["stages"]]
    assert names == ["Ranking", "Spherical average"]
    assert new["training"]["stages"][0]["description"] == data["training"]["stages"][0]["description"]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (["SFT", "learning_rate", "2e-5"], {"name": "SFT", "hyperparameters": {"learning_rate": 2e-5}}),
        (["SFT", "extra.seed", "42"], {"name": "SFT", "hyperparameters": {"extra": {"seed": 42}}}),
        (["SFT", "datasets", "a/b, c/d"], {"name": "SFT", "datasets": ["a/b", "c/d"]}),
        (["SFT", "generation.temperature", "0.7"], {"name": "SFT", "generation": {"temperature": 0.7}}),
        (["SFT", "lerning_rate", "1"], {"name": "SFT", "hyperparameters": {"lerning_rate": 1}}),  # spec flags it
        (["SFT", "", ""], {"name": "SFT"}),
    ],
)
def test_table_rows_become_typed_stage_data(row, expected):
    assert stages_from_rows([tuple(row)], []) == [expected]


def test_blank_table_rows_from_the_browser_are_ignored():
    data = example("memphis-scribe-3b")
    form = form_from_data(data)
    rows = [list(r) for r in form.hyperparameters] + [["", "", ""], [None, None, None]]
    assert apply_form(data, edited(form, hyperparameters=rows)) == data


def test_benchmark_table_edits_keep_stderr_and_tick_this_model():
    data = example("memphis-scribe-3b")
    data["benchmarks"]["rows"][0]["values"]["gsm8k"] = {"value": 2.05, "stderr": 0.4}
    form = form_from_data(data)
    frame = pd.DataFrame([list(r) for r in form.bench_rows], columns=[*BENCH_FIXED, *form.bench_columns])
    frame.loc[1, "agieval"] = "30"  # typed
    frame.loc[2, "this model"] = ""
    frame.loc[1, "this model"] = "yes"
    new = apply_form(data, edited(form, benchmarks=frame))
    rows = new["benchmarks"]["rows"]
    assert rows[0]["values"]["gsm8k"] == {"value": 2.05, "stderr": 0.4}
    assert rows[1]["values"]["agieval"] == 30 and rows[1]["this_model"] is True
    assert "this_model" not in rows[2] and rows[1]["link"] == "euclaise/Memphis-CoT-3B"


def test_a_typed_non_number_is_kept_for_the_checks_to_flag():
    data = example("memphis-scribe-3b")
    form = form_from_data(data)
    frame = pd.DataFrame([list(r) for r in form.bench_rows], columns=[*BENCH_FIXED, *form.bench_columns])
    frame.loc[0, "gsm8k"] = "n/a"
    new = apply_form(data, edited(form, benchmarks=frame))
    assert new["benchmarks"]["rows"][0]["values"]["gsm8k"] == "n/a"


def test_half_typed_specs_fill_the_form_with_blanks():
    form = form_from_data({"model_name": "X", "metadata": "oops", "training": {"stages": "no"}, "benchmarks": 3})
    assert form.model_name == "X" and form.license == "" and form.hyperparameters == () and form.bench_rows == ()


def test_slug_is_unique():
    assert slug("GSM8K (5-shot)") == "gsm8k_5_shot"
    assert slug("GSM8K", ["gsm8k"]) == "gsm8k_2"


def test_section_editor_edits_adds_and_removes_items():
    data = {"model_name": "X", "sections": [{"text": "# X\n\nkept\n"}, {"part": "summary"},
                                            {"title": "Usage", "body": "Run it."}]}
    before = copy.deepcopy(data)
    assert [label for label, _ in section_choices(data)][1] == "2. [generated: summary]"
    assert section_fields(data, "1").editable_body is False
    assert section_fields(data, "0").editable_title is False and section_fields(data, "0").body == "# X\n\nkept\n"
    edited_data = apply_section(data, "2", "How to use", "Run it fast.")
    assert edited_data["sections"][2] == {"title": "How to use", "body": "Run it fast."}
    assert apply_section(data, "1", "t", "b") is None  # placements are read-only
    added, index = add_section(data)
    assert index == "3" and added["sections"][3]["title"] == "New section"
    assert [s for s in remove_section(data, "0")["sections"]] == data["sections"][1:]
    assert remove_section(data, "9") is None
    assert data == before  # nothing changed in place
