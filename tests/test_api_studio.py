"""The studio's named API endpoints, through gradio_client against the real app (python app.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gradio_client import Client

import cards

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCRIBE = ROOT / "examples" / "cards" / "memphis-scribe-3b.yaml"


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_build_and_check_are_named_endpoints(client):
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/build_card", "/check_card"} <= set(named)
    assert not any(name.startswith("/on_") or name.startswith("/_") for name in named), "UI handlers stay private"


def test_build_card_from_an_example_spec(client):
    readme, findings = client.predict(SCRIBE.read_text(encoding="utf-8"), api_name="/build_card")
    assert readme.startswith("---\n") and "# Memphis-scribe 3B" in readme
    assert "| GSM8K (5-shot) |" in readme or "GSM8K" in readme
    assert not [f for f in json.loads(findings) if f["severity"] == "error"]
    assert not [f for f in cards.check(readme) if f.severity == "error"]


def test_build_card_reports_spec_errors_with_lines(client):
    readme, findings = client.predict("spec_version: 1\nmodel_name: X\nrepo_id: nope\n", api_name="/build_card")
    assert readme == ""
    assert json.loads(findings)[0] | {"problem": None, "fix": None} == {
        "severity": "error", "field": "repo_id", "line": 3, "problem": None, "fix": None}


def test_check_card_finds_the_problems_of_a_broken_readme(client):
    broken = "---\nlicence: Apache 2.0\nlanguage: english\n---\n# X\n"
    findings = json.loads(client.predict(broken, api_name="/check_card"))
    assert {(f["severity"], f["field"], f["line"]) for f in findings} == {
        ("error", "language", 3), ("warning", "licence", 2), ("warning", "license", None)}
    assert all({"severity", "field", "problem", "fix", "line"} <= set(f) for f in findings)
    assert json.loads(client.predict(cards.build(cards.load_spec_file(SCRIBE)), api_name="/check_card")) == [
        f.as_dict() for f in cards.check(cards.build(cards.load_spec_file(SCRIBE)))]
