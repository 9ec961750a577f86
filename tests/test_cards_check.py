"""Offline checks: a table of cards and the findings a careful reviewer would make."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards import check
from cards.findings import has_errors

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
BODY = "\n# Model\n\nA model.\n"


def _card(front: str, body: str = BODY) -> str:
    """A README from front-matter lines and a body."""
    return f"---\n{front}\n---\n{body}"


def _has(findings, severity, field, text, line=None):
    """True when one finding matches severity, field prefix and problem/fix text (and line, if given)."""
    return any(
        f.severity == severity and f.field.startswith(field) and (text in f.problem or text in f.fix)
        and (line is None or f.line == line)
        for f in findings
    )


@pytest.mark.parametrize(
    ("readme", "severity", "field", "text", "line"),
    [
        (_card("license: mit\nlanguage: [en\n"), "error", "metadata", "YAML does not parse", 4),
        (_card("- just\n- a list"), "error", "metadata", "not a mapping", 2),
        ("# No metadata\n", "warning", "metadata", "no YAML front matter", 1),
        (_card("language: en"), "warning", "license", "no license", None),
        (_card("license: apache2"), "error", "license", "did you mean 'apache-2.0'?", 2),
        (_card("license: other"), "error", "license_name", "license is 'other' but no license_name", 2),
        (_card("license: other\nlicense_name: My License\nlicense_link: https://x"), "warning", "license_name",
         "not a lower-case id", 3),
        (_card("license: mit\nlicense_name: x"), "warning", "license_name", "only read with license: other", 3),
        (_card("license: mit\nlanguage:\n- en\n- English"), "error", "language", "use 'en'", 5),
        (_card("license: mit\nlanguage: xx"), "error", "language", "'xx' is not a language code", 3),
        (_card("license: mit\nlanguage: en-US"), "info", "language", "the Hub indexes 'en'", 3),
        (_card("license: mit\nlanguage:\n- no"), "warning", "metadata", "quote it: 'no'", 4),
        (_card("license: mit\npipeline_tag: text generation"), "error", "pipeline_tag", "use 'text-generation'", 3),
        (_card("license: mit\nbase_model: []"), "error", "base_model", "is empty", 3),
        (_card("license: mit\nbase_model: ''"), "error", "base_model", "is empty", 3),
        (_card("license: mit\nbase_model:\n- org/a\n- /home/me/models/org/b"), "error", "base_model[1]",
         "replace it with 'org/b'", 5),
        (_card("license: mit\nbase_model: gpt2"), "error", "base_model", "has no organisation", 3),
        (_card("license: mit\nbase_model: https://huggingface.co/org/m"), "error", "base_model", "use 'org/m'", 3),
        (_card("license: mit\nbase_model: org/m\nbase_model_relation: fork"), "error", "base_model_relation",
         "use one of adapter, merge, quantized, finetune", 4),
        (_card("license: mit\nbase_model_relation: finetune"), "error", "base_model_relation",
         "base_model is missing", 3),
        (_card("license: mit\nbase_model: [org/a, org/b]\nbase_model_relation: finetune\ntags: [merge]"), "error",
         "base_model_relation", "the tags say merge", 4),
        (_card("license: mit\nbase_model: [org/a, org/b]\nbase_model_relation: finetune"), "warning", "base_model",
         "a finetune lists 2 base models", 3),
        (_card("license: mit\ndatasets:\n- org/ok\n- squad"), "warning", "datasets[1]", "use 'rajpurkar/squad'", 5),
        (_card("license: mit\ndatasets:\n- ./data/train.jsonl"), "error", "datasets[0]", "is a local path", 4),
        (_card("license: mit\ndatasets: [https://x.org/d]"), "error", "datasets[0]", "is a URL", 3),
        (_card("license: mit\ndatasets: [my data]"), "error", "datasets[0]", "not a dataset id", 3),
        (_card("license: mit\ntags: [chat, Chat]"), "warning", "tags", "'Chat' appears twice", 3),
        (_card("license: mit\ntags: [org/parent]"), "warning", "tags", "put parent models in base_model", 3),
        (_card("license: mit\nlicence: mit"), "warning", "licence", "rename it to 'license'", 3),
        (_card("license: mit\nmodel-index:\n- results: []"), "error", "model-index[0].name", "is missing", 3),
        (_card("license: mit\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
               "    dataset: {type: gsm8k}\n    metrics: [{type: acc, value: N/A}]"), "error", "model-index[0]",
         "'N/A' is not a number", 3),
        (_card("license: mit\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
               "    dataset: {type: gsm8k, name: GSM8K}\n    metrics: [{type: acc, value: 1}]\n"
               "    source: {name: x}"), "error", "model-index[0].results[0].source", "has no url", 3),
        (_card("license: mit\nmodel-index:\n- name: m\n  results:\n  - task: {type: chat}\n"
               "    dataset: {type: gsm8k, name: GSM8K}\n    metrics: [{type: acc, value: 1}]"), "error",
         "model-index[0].results[0].task.type", "not a Hub task", 3),
        (_card("license: mit", "\n<!-- lineup:begin training -->\n## T\n<!-- lineup:end training -->\n"
               "<!-- lineup:begin training -->\n## T\n<!-- lineup:end training -->\n"), "error", "section training",
         "duplicate managed section", 8),
        (_card("license: mit", "\n<!-- lineup:begin merge -->\n## M\n"), "error", "section merge", "never closed", 5),
        (_card("license: mit", "\n<!-- lineup:end merge -->\n"), "error", "section merge", "without a matching begin", 5),
        (_card("license: mit", "\n# [Open LLM Leaderboard Evaluation Results](u)\n\n| Metric | Value |\n|---|---|\n"
               "| Avg. | 40.0 |\n| ARC (25-shot) | 50.0 |\n| MMLU (5-shot) | 40.0 |\n"), "warning", "body",
         "Avg. 40.0 differs from the mean of its rows (45.00)", 7),
        (_card("license: mit", "\n# Results\n\n# Results\n"), "warning", "body", "appears twice", 7),
        (_card("license: mit", "\nA fine-tune of [the base](org/base-model).\n"), "warning", "body",
         "link https://huggingface.co/org/base-model", 5),
        (_card("license: mit", "\n![x](http://example.org/x.png)\n"), "warning", "body", "uses http", 5),
        (_card("license: mit", "\n```python\nprint(1)\n"), "warning", "body", "never closed", 5),
        (_card("license: mit", "\nWe fine-tuned a base model on chat data.\n"), "warning", "base_model",
         "names no base_model", 2),
        (_card("license: mit", "\n```yaml\nmodels:\n  - model: org/a\n  - model: org/b\nmerge_method: ties\n```\n"),
         "error", "merge config base_model", "ties needs a base_model", 5),
        (_card("license: mit", "\n```yaml\nslices:\n  - sources:\n    - model: org/a\n      layer_range: [8, 2]\n"
               "merge_method: passthrough\n```\n"), "error", "merge config slices[0].sources[0]", "start < end", 5),
        (_card("license: mit\nbase_model: []", "\n```yaml\nmodels:\n  - model: ./x/Mistral-7B-v0.1\n"
               "  - model: org/b\nmerge_method: linear\n```\n"), "error", "base_model",
         "set base_model: [org/b, mistralai/Mistral-7B-v0.1]", 3),
        ('{"results": {}}', "error", "file", "this is JSON, not a model card", 1),
        ("slices:\n  - sources:\n    - model: org/a\n      layer_range: [0, 4]\nmerge_method: passthrough\n",
         "error", "file", "this is a mergekit config", 1),
        (_card("license: mit"), "", "", "", None),
    ],
)
def test_findings(readme, severity, field, text, line):
    findings = check(readme)
    if not severity:
        assert findings == []
    else:
        assert _has(findings, severity, field, text, line), [f.as_text() for f in findings]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("stock-mergekit.README.md", [
            ("error", "base_model", "set base_model: [mistralai/Mistral-7B-v0.1, mistralai/Mistral-7B-Instruct-v0.2] "
                                    "plus the Hub ids of ./checkpoints/quill-sft-run3"),
            ("warning", "license", "no license"),
            ("warning", "merge config models", "'./checkpoints/quill-sft-run3' is a local path with no known Hub id"),
            ("warning", "merge config parameters", "only comments"),
        ]),
        ("moe-other-license.README.md", [
            ("warning", "base_model", "add base_model: [example-org/Base-7B, example-org/Coder-7B, example-org/Writer-7B]"),
            ("warning", "tags", "tags name models (example-org/Coder-7B, example-org/Writer-7B)"),
        ]),
        ("slerp-leaderboard.README.md", [("info", "model-index", "2 of 2 results have no source")]),
        ("norwegian.README.md", [("warning", "metadata", "quote it: 'no'")]),
    ],
)
def test_corpus_layouts(fixture, expected):
    findings = check((FIXTURES / fixture).read_text())
    for severity, field, text in expected:
        assert _has(findings, severity, field, text), (text, [f.as_text() for f in findings])
    assert has_errors(findings) == any(s == "error" for s, _, _ in expected)


def test_leaderboard_table_is_compared_with_model_index():
    text = (FIXTURES / "slerp-leaderboard.README.md").read_text().replace("| 61.5          |", "| 62.5 |")
    assert _has(check(text), "warning", "model-index", "ARC (25-shot) is 62.5 in the table but 61.5 in model-index")


def test_findings_are_sorted_errors_first():
    findings = check(_card("license: bogus\nlanguage: zz-top", "\nA finetune.\n"))
    order = [f.severity for f in findings]
    assert order == sorted(order, key=["error", "warning", "info"].index)
