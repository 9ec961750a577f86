"""Comparison and leaderboard tables: headers, units, stderr, footnotes, parse-back, model-index."""

from __future__ import annotations

import pytest

from cards import chart_data
from cards.benchmarks import Cell, Column, ComparisonSpec, LeaderboardSpec, Row
from cards.benchmarks_md import comparison_md, leaderboard_md, parse_comparison_md, parse_leaderboard_md
from cards.modelindex import comparison_results, leaderboard_results


@pytest.mark.parametrize(
    ("column", "marker", "header"),
    [
        ({"id": "g", "label": "GSM8K", "shots": 5}, "", "GSM8K (5-shot)"),
        ({"id": "a", "label": "AGIEval", "note": "English/Nous subset", "metric": "acc_norm"}, "",
         "AGIEval (English/Nous subset, acc_norm)"),
        ({"id": "b", "label": "BIG Bench Hard", "note": "CoT", "shots": "few-shot"}, "*",
         "BIG Bench Hard (CoT, few-shot*)"),
        ({"id": "m", "label": "MMLU"}, "**", "MMLU**"),
        ({"id": "z", "label": "ARC", "shots": 0, "metric": "acc"}, "", "ARC (0-shot, acc)"),
    ],
)
def test_headers(column, marker, header):
    assert Column(**column).header(marker) == header


@pytest.mark.parametrize(
    ("table", "cell", "expected"),
    [
        ({}, Cell(value=18.8), "18.8"),
        ({"percent_sign": True}, Cell(value=2.05), "2.05%"),
        ({"values_in": "fraction"}, Cell(value=0.734017), "73.4"),
        ({"values_in": "fraction", "fixed_decimals": True}, Cell(value=0.734017), "73.40"),
        ({"values_in": "fraction", "display": "fraction", "decimals": 3}, Cell(value=0.734017), "0.734"),
        ({"display": "fraction", "decimals": 3}, Cell(value=73.4), "0.734"),
        ({"show_stderr": True}, Cell(value=50.0, stderr=1.234), "50 ± 1.23"),
        ({"show_stderr": False}, Cell(value=50.0, stderr=1.234), "50"),
        ({}, None, ""),
    ],
)
def test_cell_formatting(table, cell, expected):
    spec = ComparisonSpec(columns=[Column(id="c", label="C")], rows=[Row(model="m")], **table)
    assert spec.fmt(spec.columns[0], cell) == expected


def test_unscaled_metrics_never_become_percent():
    spec = ComparisonSpec(values_in="fraction", percent_sign=True, columns=[Column(id="p", label="PPL", metric="perplexity")],
                          rows=[Row(model="m", values={"p": 3.13})])
    assert spec.fmt(spec.columns[0], spec.rows[0].cell("p")) == "3.13"


def _memphis() -> ComparisonSpec:
    """The Memphis comparison table."""
    return ComparisonSpec(
        intro="Intro.", percent_sign=True, footnotes=["General note."], outro="After.",
        columns=[Column(id="gsm8k", label="GSM8K", shots=5),
                 Column(id="bbh", label="BIG Bench Hard", note="CoT", shots="few-shot", footnote="5-shot really.")],
        rows=[Row(model="StableLM 3B Base", link="stabilityai/stablelm-3b-4e1t", values={"gsm8k": 2.05, "bbh": 36.75}),
              Row(model="Memphis-scribe 3B", this_model=True, values={"gsm8k": 9.55})],
    )


def test_comparison_markdown():
    md = comparison_md(_memphis())
    assert "| Model | GSM8K (5-shot) | BIG Bench Hard (CoT, few-shot\\*) |" in md
    assert "| [StableLM 3B Base](https://huggingface.co/stabilityai/stablelm-3b-4e1t) | 2.05% | 36.75% |" in md
    assert "| Memphis-scribe 3B | 9.55% |  |" in md  # missing value left blank
    assert md.index("\\*5-shot really.") < md.index("Note: General note.") < md.index("After.")


@pytest.mark.parametrize(
    "spec",
    [
        _memphis(),
        ComparisonSpec(values_in="fraction", fixed_decimals=True, show_stderr=True,
                       columns=[Column(id="a", label="arc", shots=25, metric="acc_norm")],
                       rows=[Row(model="x", values={"a": Cell(value=0.5349, stderr=0.0145)}), Row(model="y")]),
        ComparisonSpec(values_in="fraction", display="fraction", decimals=3,
                       columns=[Column(id="a", label="A")], rows=[Row(model="x", values={"a": 0.25})]),
    ],
)
def test_comparison_parses_back_to_the_same_text(spec):
    md = comparison_md(spec)
    assert comparison_md(parse_comparison_md(md)) == md


@pytest.mark.parametrize(
    "content",
    ["## T\n\nNo table here.\n", "## T\n\n| A | B |\n|---|---|\n| x | 1 |\n", "## T\n\n| Model | A |\n|---|---|\n| x | n/a |\n"],
)
def test_comparison_parse_refuses_other_shapes(content):
    with pytest.raises(ValueError):
        parse_comparison_md(content)


def test_chart_data():
    rows = chart_data(_memphis())
    assert rows == [
        {"benchmark": "GSM8K (5-shot)", "model": "StableLM 3B Base", "value": 2.05, "stderr": None},
        {"benchmark": "BIG Bench Hard (CoT, few-shot)", "model": "StableLM 3B Base", "value": 36.75, "stderr": None},
        {"benchmark": "GSM8K (5-shot)", "model": "Memphis-scribe 3B", "value": 9.55, "stderr": None},
    ]


def test_leaderboard_markdown_and_average():
    spec = LeaderboardSpec(scores={"arc": 53.67, "gsm8k": 5.0}, details_url="https://d.example")
    md = leaderboard_md(spec)
    assert "| Avg. | 29.34 |" in md  # computed: (53.67 + 5.0) / 2 rounded
    assert "| GSM8K (5-shot) | 5.0 |" in md
    assert "Detailed results can be found [here](https://d.example)" in md
    back = parse_leaderboard_md(md)
    assert (back.scores, back.average, back.version) == (spec.scores, 29.34, "v1")
    assert leaderboard_md(back.model_copy(update={"model_index": True})) == md


def test_leaderboard_v2_labels():
    spec = LeaderboardSpec(version="v2", scores={"ifeval": 40.1, "mmlu_pro": 20.2})
    md = leaderboard_md(spec)
    assert "| IFEval (0-Shot) | 40.1 |" in md and "| MMLU-PRO (5-shot) | 20.2 |" in md
    assert parse_leaderboard_md(md).version == "v2"


def test_model_index_results():
    results = leaderboard_results(LeaderboardSpec(scores={"truthfulqa": 39.16}), "org/m")
    r = results[0]
    assert (r.dataset_type, r.dataset_config, r.metric_type, r.metric_value) == ("truthful_qa", "multiple_choice", "mc2", 39.16)
    assert r.dataset_args == {"num_few_shot": 0} and r.source_url.endswith("query=org/m")
    table = _memphis().model_copy(update={"columns": [
        Column(id="gsm8k", label="GSM8K", shots=5, dataset="openai/gsm8k", metric="exact_match"),
        Column(id="bbh", label="BBH")]})
    own = comparison_results(table)
    assert [(x.dataset_type, x.metric_type, x.metric_value) for x in own] == [("openai/gsm8k", "exact_match", 9.55)]
