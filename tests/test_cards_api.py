"""The public API the studio uses: pure functions, text in and text or data out; no gradio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import cards
from cards.errors import CardError, SpecError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "cards"
SPEC_YAML = "model_name: Demo\nmetadata: {license: mit}\nsummary: Hi.\n"


def test_cards_never_imports_gradio_or_torch():
    code = "import sys, cards, cards.cli, cards.hub; print(json.dumps([m for m in ('gradio', 'torch') if m in sys.modules]))"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", "import json; " + code], cwd=ROOT, capture_output=True, text=True,
                         env=env, timeout=60, check=True).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize("spec", [SPEC_YAML, {"model_name": "Demo", "metadata": {"license": "mit"}, "summary": "Hi."},
                                  cards.load_spec(SPEC_YAML)])
def test_build_accepts_yaml_data_or_spec(spec):
    assert cards.build(spec) == "---\nlicense: mit\n---\n\n# Demo\n\nHi.\n"


def test_build_refuses_unread_files_without_a_folder():
    with pytest.raises(CardError, match=r"merge\.config_file"):
        cards.build({"model_name": "M", "merge": {"config_file": "m.yml"}})
    with pytest.raises(SpecError):
        cards.build("model_name: M\nbogus: 1\n")


def test_results_files_fill_a_comparison(tmp_path):
    shutil.copy(FIXTURES / "lm-eval-0.4.json", tmp_path / "lamp.json")
    shutil.copy(FIXTURES / "passthrough-overlap.yml", tmp_path / "merge.yml")
    spec = {
        "model_name": "Lamp", "metadata": {"license": "mit", "base_model": ["example-org/Alpha-13B"]},
        "merge": {"config_file": "merge.yml"},
        "benchmarks": {
            "columns": [{"id": "arc", "label": "ARC", "shots": 25, "task": "arc_challenge"},
                        {"id": "gsm", "label": "GSM8K", "shots": 5, "task": "gsm8k", "metric": "exact_match"}],
            "headline_metrics": {"gsm8k": "exact_match,flexible-extract"},
            "rows": [{"model": "Lamp", "this_model": True, "results_file": "lamp.json", "values": {"arc": 60.0}},
                     {"model": "Typed", "values": {"gsm": 12.5}}],
        },
    }
    card = cards.build(spec, base_dir=tmp_path)
    assert "| Lamp | 60 | 50.11 |" in card  # the typed value wins; gsm8k follows the override
    assert "| Typed |  | 12.5 |" in card and "merge_method: passthrough" in card
    assert cards.chart_data(cards.import_card(card))[0] == {"benchmark": "ARC (25-shot)", "model": "Lamp",
                                                            "value": 60.0, "stderr": None}


def test_merge_section_from_a_readme():
    section = cards.merge_section((FIXTURES / "slerp-leaderboard.README.md").read_text())
    assert section.metadata["base_model"] == ["example-org/Lamp-7B", "other-org/Wick-7B-chat"]
    assert "### Layer map" in section.markdown


def test_evals_table_from_texts():
    table = cards.evals_table([(FIXTURES / "lm-eval-0.3.json").read_text()])
    assert table.rows == [{"model": "example-org/Wick-7B-chat", "arc_challenge (0-shot, acc_norm)": 48.12,
                           "hellaswag (0-shot, acc_norm)": 75.21}]
    assert table.markdown.startswith("| Model | arc_challenge (0-shot, acc_norm) | hellaswag (0-shot, acc_norm) |")


def test_public_names_exist():
    for name in cards.__all__:
        assert getattr(cards, name) is not None
