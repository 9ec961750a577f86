"""Lineup's model-card library: build a Hugging Face README.md from a spec, check it offline, read it back.

Layers: data (``cards.spec`` and its parts, ``ModelCardData``/``EvalResult`` for metadata), rendering
(``cards.render`` with the ``*_md`` helpers and ``cards/templates``; never the network), I/O
(``cards.specio`` reads files, ``cards.hub`` pushes). The CLI is ``python -m cards``.

Public API (pure functions unless noted):

- ``build(spec, base_dir=None) -> str``: README text from a CardSpec, its data or YAML text.
- ``check(text) -> list[Finding]``: offline findings (severity, field, problem, fix, line).
- ``import_card(text) -> CardSpec``; ``import_card_report(text) -> ImportResult`` (spec and notes).
- ``update_card(existing, spec) -> (text, notes)``: regenerate managed sections in place.
- ``evals_table(results, names=None, headline_metrics=None, subtasks=False, show_stderr=False) -> EvalsTable``:
  comparison table (markdown, rows, chart data, findings) from lm-evaluation-harness JSON texts.
- ``merge_section(config_text, path_map=None) -> MergeSection``: merge markdown, implied metadata, findings.
- ``import_training(text, source) -> TrainingImport``: hyperparameters from TrainingArguments JSON or axolotl YAML.
- ``render_preview(readme_text) -> str``: sanitised HTML; ``diff_cards(old, new) -> str``: unified diff.
- ``chart_data(spec) -> list[dict]``: benchmark, model, value, stderr rows.
- ``load_spec(text)``, ``load_spec_file(path)`` (reads files), ``dump_spec(spec)``, ``spec_schema()``.
- ``push_card(readme_text, repo_id, token=None, create_pr=False, dry_run=False)`` (network; ``cards.hub``).

Errors are ``CardError`` subclasses (``cards.errors``); only the CLI turns them into messages.
"""

from __future__ import annotations

from cards.api import EvalsTable, MergeSection, build, chart_data, check, evals_table, merge_section
from cards.errors import CardError
from cards.findings import Finding
from cards.hub import push_card
from cards.importer import ImportResult, import_card, import_card_report
from cards.preview import diff_cards, render_preview
from cards.render import update_card
from cards.spec import CardSpec
from cards.specio import dump_spec, load_spec, load_spec_file, spec_schema
from cards.training_import import TrainingImport, import_training

__all__ = [
    "CardError",
    "CardSpec",
    "EvalsTable",
    "Finding",
    "ImportResult",
    "MergeSection",
    "TrainingImport",
    "build",
    "chart_data",
    "check",
    "diff_cards",
    "dump_spec",
    "evals_table",
    "import_card",
    "import_card_report",
    "import_training",
    "load_spec",
    "load_spec_file",
    "merge_section",
    "push_card",
    "render_preview",
    "spec_schema",
    "update_card",
]
