"""Studio rendering: spec YAML -> README, findings (with lines), sanitised preview, diff, chart rows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import cards
from ui.studio_api import build_card, check_card
from ui.studio_view import chart_rows, field_line, finding_rows, findings_label, render_view, summary_md

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples" / "cards").glob("*.yaml"))
SCRIBE = next(p for p in EXAMPLES if p.stem == "memphis-scribe-3b")


def scribe_yaml() -> str:
    return cards.dump_spec(cards.load_spec_file(SCRIBE))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_renders_without_errors(path):
    view = render_view(cards.dump_spec(cards.load_spec_file(path)))
    assert view.readme and view.preview_html
    assert view.errors == 0 and view.can_download(override=False)
    assert view.diff == ""  # no original given


def test_yaml_syntax_error_is_one_finding_with_its_line():
    text = "spec_version: 1\nmodel_name: X\nmetadata:\n  license: [mit\n"
    view = render_view(text)
    assert view.readme is None and not view.yaml_ok and view.data is None
    (finding,) = view.findings
    assert finding.severity == "error" and finding.field == "spec YAML" and finding.line in (4, 5)
    assert "does not parse" in summary_md(view, False)


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        ("spec_version: 1\nmodel_name: X\nrepo_id: not an id\n", "repo_id", 3),
        ("spec_version: 1\nmodel_name: X\nlicence: mit\n", "licence", 3),
        ("spec_version: 1\nmodel_name: X\ntraining:\n  stages:\n    - name: SFT\n      hyperparameters:\n"
         "        learning_rate: -1\n", "training.stages[0].hyperparameters.learning_rate", 7),
    ],
)
def test_spec_errors_name_the_field_and_line(text, field, line):
    view = render_view(text)
    assert view.readme is None and view.yaml_ok
    match = [f for f in view.findings if f.field == field]
    assert match and match[0].line == line and match[0].severity == "error"


def test_union_branches_collapse_into_one_finding():
    text = scribe_yaml().replace("gsm8k: 9.55", "gsm8k: lots")
    fields = [f.field for f in render_view(text).findings]
    assert fields == ["benchmarks.rows[2].values.gsm8k"]


def test_file_references_explain_how_to_inline_them():
    view = render_view("spec_version: 1\nmodel_name: X\nmerge:\n  config_file: merge.yml\n")
    assert view.readme is None and "paste the file contents" in view.findings[0].fix


def test_card_errors_block_download_unless_overridden():
    view = render_view(scribe_yaml().replace("license: cc-by-4.0", "license: Apache 2.0"))
    assert view.readme is not None and view.errors == 1
    assert not view.can_download(False) and view.can_download(True)
    assert "blocked" in summary_md(view, False) and "override" in summary_md(view, True)
    assert finding_rows(view.findings)[0][:3] == ["✖ error", "license", "2"]
    assert findings_label(view.line_source).endswith("README.md lines")
    spec_view = render_view("spec_version: 1\nmodel_name: X\nrepo_id: bad\n")
    assert finding_rows(spec_view.findings)[0][2] == "3" and findings_label(spec_view.line_source).endswith("spec YAML lines")


def test_diff_against_the_original():
    original = render_view(scribe_yaml()).readme
    view = render_view(scribe_yaml().replace("license: cc-by-4.0", "license: mit"), original)
    assert "-license: cc-by-4.0" in view.diff and "+license: mit" in view.diff


def test_field_line_walks_mappings_and_lists():
    text = "a:\n  b:\n    - x: 1\n    - x: 2\n"
    assert field_line(text, "a.b[1].x") == 4
    assert field_line(text, "a.missing") == 1
    assert field_line("[", "a") is None


def test_chart_rows_group_bars_by_benchmark_in_table_order():
    view = render_view(scribe_yaml())
    rows = chart_rows(view.chart)
    assert [r["bar"] for r in rows[:3]] == ["GSM8K · StableLM 3B Base", "GSM8K · Memphis-CoT 3B",
                                            "GSM8K · Memphis-scribe 3B"]
    assert len({r["bar"] for r in rows}) == len(rows) == 8  # the scribe has no BBH value


def test_chart_rows_keep_full_headers_only_where_short_names_clash():
    chart = [{"benchmark": "GSM8K (5-shot)", "model": "a", "value": 1, "stderr": None},
             {"benchmark": "GSM8K (8-shot)", "model": "a", "value": 2, "stderr": None},
             {"benchmark": "ARC (25-shot)", "model": "a", "value": 3, "stderr": None}]
    assert [r["bar"] for r in chart_rows(chart)] == ["GSM8K (5-shot) · a", "GSM8K (8-shot) · a", "ARC · a"]


def test_api_functions_return_readme_and_findings_json():
    readme, findings = build_card(scribe_yaml())
    assert readme.startswith("---\n") and "# Memphis-scribe 3B" in readme
    assert all(f["severity"] != "error" for f in json.loads(findings))
    assert build_card("model_name: [")[0] == ""
    broken = json.loads(check_card("---\nlicense: nope\n---\n# X\n"))
    assert any(f["field"] == "license" and f["severity"] == "error" for f in broken)


PAYLOADS = [
    "<script>alert('x')</script>",
    '<img src="https://example.org/a.png" onerror="alert(1)">',
    '<img src=x onerror=alert(1)>',
    "[click me](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">raw link</a>',
    '<div onclick="alert(1)" onmouseover="alert(2)">raw html</div>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<style>body{display:none}</style>',
    '<form action="https://evil.example"><input name=q></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
]
FORBIDDEN = re.compile(r"<script|<iframe|<svg|<style|<form|<object|<embed|<input|javascript:|data:text|\son\w+\s*=",
                       re.IGNORECASE)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("where", ["summary", "section"])
def test_preview_strips_scripts_handlers_and_javascript_links(payload, where):
    spec = {"spec_version": 1, "model_name": "Evil-7B", "metadata": {"license": "mit"}}
    if where == "summary":
        spec["summary"] = f"Intro.\n\n{payload}\n\nOutro."
    else:
        spec["sections"] = [{"title": "Raw", "body": payload}]
    view = render_view(json.dumps(spec))
    assert view.preview_html is not None and "Evil-7B" in view.preview_html
    assert not FORBIDDEN.search(view.preview_html), view.preview_html
    assert "style=" not in view.preview_html


def test_preview_of_an_imported_readme_with_raw_html_is_sanitised():
    readme = ("---\nlicense: mit\n---\n# X\n\n<script>steal()</script>\n\n"
              '<a href="javascript:steal()" onclick="steal()">go</a> <b onmouseover="steal()">bold</b>\n')
    view = render_view(cards.dump_spec(cards.import_card(readme)), readme)
    assert view.preview_html and "<b>bold</b>" in view.preview_html
    assert "steal" not in view.preview_html.replace("go</a>", "")
