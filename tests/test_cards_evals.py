"""lm-evaluation-harness results: both layouts, the headline rule, reviewer findings, tables from files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cards import evals_table
from cards.errors import ResultsError
from cards.evals import parse_results

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
V04 = (FIXTURES / "lm-eval-0.4.json").read_text()
V03 = (FIXTURES / "lm-eval-0.3.json").read_text()


def _v04(results: dict, **extra) -> str:
    """A minimal 0.4 results file."""
    return json.dumps({"results": results, **extra})


@pytest.mark.parametrize(
    ("text", "task", "override", "expected"),
    [
        (V04, "arc_challenge", None, ("acc_norm", "none", 0.5349)),
        (V04, "arc_challenge", "acc", ("acc", "none", 0.5)),
        (V04, "gsm8k", None, ("exact_match", "strict-match", 0.4913)),
        (V04, "gsm8k", "exact_match,flexible-extract", ("exact_match", "flexible-extract", 0.5011)),
        (V04, "lambada_openai", None, ("acc", "none", 0.7545)),  # accuracy before perplexity
        (V04, "lambada_openai", "perplexity", ("perplexity", "none", 3.13)),
        (V04, "cola", None, ("mcc", "none", 0.01)),
        (V03, "hellaswag", None, ("acc_norm", "", 0.7521)),
        (V03, "arc_challenge", "acc", ("acc", "", 0.45)),
        (_v04({"t": {"alias": "t", "bleu,none": 20.0, "chrf,none": 40.0}}), "t", None, ("bleu", "none", 20.0)),
        (_v04({"t": {"alias": "t", "zeta,none": 0.3, "alpha,none": 0.1}}), "t", None, ("zeta", "none", 0.3)),
    ],
)
def test_headline_rule(text, task, override, expected):
    head = parse_results(text).tasks[task].headline(override)
    assert (head.metric, head.filter, head.value) == expected


def test_missing_override_gives_none():
    assert parse_results(V04).tasks["gsm8k"].headline("acc") is None


def test_layouts_models_and_shots():
    new, old = parse_results(V04, "a.json"), parse_results(V03, "b.json")
    assert (new.layout, new.model, new.tasks["gsm8k"].n_shot) == ("0.4", "example-org/Lamp-7B", 5)
    assert (old.layout, old.model, old.tasks["hellaswag"].n_shot) == ("0.3", "example-org/Wick-7B-chat", 0)
    assert new.tasks["cola"].alias == "cola" and new.tasks["cola"].parent == "tinyglue"
    assert new.tasks["tinyglue"].is_group
    assert new.tasks["gsm8k"].find("exact_match,strict-match").stderr is None  # "N/A"
    assert old.tasks["arc_challenge"].find("acc_norm").stderr == 0.0146


@pytest.mark.parametrize(
    ("text", "severity", "field", "problem"),
    [
        (V03, "warning", "b.json: config.limit", "evaluated on a subset (limit=100)"),
        (V04, "warning", "b.json: cola", "within 2 stderr of chance"),
        (V04, "warning", "b.json: tinyglue", "group acc averages only 1 of 2 subtasks (sst2)"),
        (V04, "info", "b.json: gsm8k", "has no stderr"),
        (V03, "info", "b.json: arc_challenge", "the Open LLM Leaderboard uses 25-shot"),
        (_v04({"t": {"alias": "t", "acc,none": 0.5}}, **{"n-samples": {"t": {"original": 100, "effective": 40}}}),
         "warning", "b.json: t", "scored 40 of 100 documents"),
        (_v04({"t": {"alias": "t", "acc,none": "N/A"}}), "warning", "b.json: t", "no numeric metric"),
    ],
)
def test_reviewer_findings(text, severity, field, problem):
    findings = parse_results(text, "b.json").findings
    assert any(f.severity == severity and f.field == field and problem in f.problem for f in findings), findings


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON at line 1"),
        ('{"a": 1}\n{"b": 2}\n', "per-sample .jsonl log"),
        ("[1, 2]", "no 'results' object"),
        ('{"results": {}}', "no 'results' object"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ],
)
def test_unreadable_results(text, message):
    with pytest.raises(ResultsError, match=message):
        parse_results(text, "x.json")


def test_table_from_two_files():
    table = evals_table({"a.json": V04, "b.json": V03}, names=["Lamp", "Wick"], show_stderr=True)
    lines = table.markdown.splitlines()
    assert lines[0] == ("| Model | arc_challenge (25-shot, acc_norm) | gsm8k (5-shot, exact_match [strict-match]) | "
                        "lambada_openai (0-shot, acc) | tinyglue (0-shot, acc) | arc_challenge (0-shot, acc_norm) | "
                        "hellaswag (0-shot, acc_norm) |")
    assert lines[2] == "| Lamp | 53.49 ± 1.45 | 49.13 | 75.45 ± 0.60 | 60.00 ± 1.00 |  |  |"
    assert lines[3] == "| Wick |  |  |  |  | 48.12 ± 1.46 | 75.21 ± 0.43 |"
    assert table.rows[1] == {"model": "Wick", "arc_challenge (25-shot, acc_norm)": None,
                             "gsm8k (5-shot, exact_match [strict-match])": None, "lambada_openai (0-shot, acc)": None,
                             "tinyglue (0-shot, acc)": None, "arc_challenge (0-shot, acc_norm)": 48.12,
                             "hellaswag (0-shot, acc_norm)": 75.21}
    assert {"benchmark": "hellaswag (0-shot, acc_norm)", "model": "Wick", "value": 75.21, "stderr": 0.43} in table.chart
    assert any("arc_challenge" in f.field and "run differently" in f.problem for f in table.findings)


def test_subtasks_and_overrides():
    table = evals_table([V04], subtasks=True, headline_metrics={"lambada_openai": "perplexity"})
    header = table.markdown.splitlines()[0]
    assert "cola (0-shot, mcc)" in header and "sst2 (0-shot, acc)" in header
    assert "lambada_openai (0-shot, perplexity)" in header
    assert "| 3.13 |" in table.markdown  # perplexity is never scaled to percent


def test_names_must_match_files():
    from cards.errors import CardError

    with pytest.raises(CardError, match="2 names for 1 results files"):
        evals_table([V04], names=["a", "b"])
