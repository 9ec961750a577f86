"""The spec model: validation errors name the field and the fix; dump/load round trip; schema."""

from __future__ import annotations

import json

import pytest

from cards.errors import SpecError
from cards.specio import dump_spec, load_spec, parse_spec, spec_schema

MERGE_CONFIG = "models:\n  - model: ./local/a\n  - model: org/b\nmerge_method: linear\ndtype: float16\n"


def _spec(**extra):
    """A minimal valid spec plus overrides."""
    return {"model_name": "Demo-1B", **extra}


@pytest.mark.parametrize(
    ("data", "expected_error"),
    [
        (_spec(licence="mit"), "unknown key 'licence' in (top level)"),
        (_spec(training={"stages": [{"name": "SFT", "hyperparameters": {"learnign_rate": 1e-5}}]}),
         "did you mean 'learning_rate'?"),
        (_spec(training={"stages": [{"name": "SFT", "hyperparameters": {"learning_rate": -1}}]}),
         "training.stages[0].hyperparameters.learning_rate: Input should be greater than 0"),
        (_spec(training={"stages": [{"name": "SFT", "hyperparameters": {"warmup_ratio": 0.1, "warmup_steps": 5}}]}),
         "give warmup_ratio or warmup_steps, not both"),
        (_spec(training={"stages": [{"name": "SFT", "hyperparameters": {"epochs": 1, "steps": 100}}]}),
         "give epochs or steps, not both"),
        (_spec(training={"stages": [{"name": "SFT", "hyperparameters": {
            "effective_batch_size": 64, "per_device_batch_size": 4, "gradient_accumulation_steps": 4, "devices": 2}}]}),
         "effective_batch_size 64 != per_device_batch_size × gradient_accumulation_steps × devices = 32"),
        (_spec(training={"stages": [{"name": "A"}, {"name": "A"}]}), "stage names must be unique"),
        (_spec(training={"stages": [{"name": "A", "description": "## Oops"}]}), "level-2 heading"),
        (_spec(training={"compute": {"count": 2, "duration_hours": 10, "gpu_hours": 50}}), "gpu_hours 50 != count"),
        (_spec(training={"stages": [{"name": "A", "hyperparameters": {"extra": {"a=b": 1}}}]}), "may not contain '='"),
        (_spec(training={}), "training is empty"),
        (_spec(metadata={"language": False}), "write the code in quotes, e.g. 'no'"),
        (_spec(metadata={"base_model_relation": "fork"}), "metadata.base_model_relation: Input should be"),
        (_spec(prompt_format={"id": "nope"}), "unknown format 'nope'; valid format ids: memphis"),
        (_spec(prompt_format={"id": "tokenizer"}), "has no fixed template"),
        (_spec(prompt_format={"id": "chatml", "examples": [{"caption": "a\n\nb", "messages": [
            {"role": "user", "content": "hi"}]}]}), "caption must be one paragraph"),
        (_spec(prompt_format={"id": "chatml", "examples": [{"messages": [{"role": "bot", "content": "x"}]}]}),
         "prompt_format.examples[0].messages[0].role"),
        (_spec(prompt_format={"id": "mistral", "examples": [{"messages": [
            {"role": "assistant", "content": "first"}]}]}), "examples[0] cannot be rendered in format 'mistral'"),
        (_spec(merge={"config": MERGE_CONFIG, "path_map": {"./local/zzz": "org/a"}}), "path_map keys ['./local/zzz']"),
        (_spec(merge={"config": MERGE_CONFIG, "path_map": {"./local/a": "not an id"}}), "must be 'org/name' Hub ids"),
        (_spec(merge={"config": "just: text"}), "not a mergekit config"),
        (_spec(merge={"config": "a: [1"}), "merge config (line 2): YAML does not parse"),
        (_spec(merge={}), "give config (the YAML text) or config_file, exactly one"),
        (_spec(leaderboard={"scores": {"arc": 50, "bogus": 1}}), "unknown v1 leaderboard benchmarks ['bogus']"),
        (_spec(leaderboard={"scores": {"arc": 50, "mmlu": 40}, "average": 60}), "differs from the mean of the scores"),
        (_spec(benchmarks={"columns": [{"id": "a", "label": "A"}], "rows": [{"model": "m", "values": {"b": 1}}]}),
         "unknown columns ['b']; column ids are ['a']"),
        (_spec(benchmarks={"values_in": "fraction", "columns": [{"id": "a", "label": "A"}],
                           "rows": [{"model": "m", "values": {"a": 45.0}}]}), "is not a fraction"),
        (_spec(benchmarks={"columns": [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}],
                           "rows": [{"model": "m"}]}), "column ids must be unique: a"),
        (_spec(sections=[{"foo": "x"}]), "each section needs 'title' (with 'body'), 'text', or 'part'"),
        (_spec(sections=[{"part": "training"}]), "sections place ['training'], which the spec does not fill"),
        (_spec(summary="Hi", sections=[{"part": "title"}]), "['summary'] are filled but not placed"),
        (_spec(summary="Hi", sections=[{"part": "summary"}, {"part": "summary"}]), "place ['summary'] more than once"),
        (_spec(repo_id="no-slash"), "repo_id: 'no-slash' is not an 'org/name' Hub id"),
        (_spec(metadata={"model-index": []}, leaderboard={"scores": {"arc": 50}}),
         "model-index is in metadata and would also be generated"),
        (_spec(merge={"config": MERGE_CONFIG}, lineage=[{"model": "org/b"}]), "lineage.relation must be 'merge'"),
        (_spec(links=[{"label": "x", "url": "javascript:alert(1)"}]), "links.items[0].url"),
        ({"model_name": "a\nb"}, "model_name: must be one line"),
        ({}, "model_name: required"),
        ([1, 2], "the spec must be a mapping"),
    ],
)
def test_invalid_specs_name_field_and_fix(data, expected_error):
    with pytest.raises(SpecError) as err:
        parse_spec(data)
    assert expected_error in str(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SpecError) as err:
        parse_spec(_spec(colour="red", metadata={"base_model_relation": "x"}, repo_id="bad"))
    assert len(err.value.problems) == 3


@pytest.mark.parametrize(
    "data",
    [
        _spec(),
        _spec(metadata={"license": "mit", "language": ["no", "en"], "thumbnail": None, "model-index": [{"x": 1}]}),
        _spec(limitations="Short form.", links=[{"label": "Code", "url": "https://example.org"}],
              citation="@misc{x, title={X}}", lineage=[{"model": "org/base"}]),
        _spec(training={"stages": [{"name": "SFT", "repeat": 2, "hyperparameters": {"learning_rate": 1e-5,
                        "optimizer_settings": {"beta2": 0.95}, "extra": {"seed": 1}}}],
                        "compute": {"hardware": "A100", "count": 8, "duration_days": 2}}),
        _spec(merge={"config": MERGE_CONFIG, "path_map": {"./local/a": "org/a"}},
              sections=[{"part": "title"}, {"text": "raw\n\n"}, {"part": "merge"}, {"title": "T", "body": "B"}]),
    ],
)
def test_dump_and_load_round_trip(data):
    spec = parse_spec(data)
    assert load_spec(dump_spec(spec)) == spec


def test_metadata_keeps_order_and_nulls():
    spec = parse_spec(_spec(metadata={"tags": ["a"], "license": "mit", "thumbnail": None, "language": "no"}))
    assert list(spec.metadata.as_dict()) == ["tags", "license", "thumbnail", "language"]
    dumped = dump_spec(spec)
    assert "thumbnail: null" in dumped and "language: 'no'" in dumped


def test_compute_days_become_hours():
    spec = parse_spec(_spec(training={"compute": {"count": 16, "duration_days": 14}}))
    assert spec.training.compute.duration_hours == 336
    assert spec.training.compute.total_gpu_hours() == 5376


def test_schema_is_json_and_documents_the_parts():
    schema = spec_schema()
    json.dumps(schema)
    assert schema["properties"]["spec_version"]["const"] == 1
    for part in ("metadata", "training", "prompt_format", "merge", "benchmarks", "leaderboard", "sections"):
        assert part in schema["properties"]
    assert schema["additionalProperties"] is False
    assert "learning_rate" in schema["$defs"]["Hyperparameters"]["properties"]
