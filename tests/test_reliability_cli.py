"""Bad input for both command lines (`python -m cards`, `python -m playground`): one clear line, a usage exit status.

Each case runs the CLI's main() in this process (fast) and checks the exit status and the message on
stderr; a few run as real subprocesses to prove no traceback reaches a terminal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cards import cli as cards_cli
from playground import cli as playground_cli

ROOT = Path(__file__).resolve().parent.parent
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
)
GOOD_CARD = "---\nlicense: mit\nlanguage: en\n---\n# Test\n\nA model card.\n"


def _files(tmp: Path) -> dict[str, Path]:
    """The inputs the cases name, written once per test."""
    texts = {
        "bomb.md": "---\n" + BOMB + "---\n# T\n\nText.\n",
        "dupes.md": "---\nlicense: mit\nlicense: mit\n---\n# T\n\nText.\n",
        "bad.yaml": "model_name: [oops\n",
        "bomb.yaml": "spec_version: 1\nmodel_name: X\n" + BOMB,
        "no-name.yaml": "spec_version: 1\nsummary: hi\n",
        "not.json": "{not json",
        "no-results.json": json.dumps({"config": {}}),
        "results.json": (ROOT / "tests/fixtures/cards/lm-eval-0.4.json").read_text(encoding="utf-8"),
        "windows.yml": "models:\n  - model: C:\\Users\\me\\llama\n  - model: org/b\nmerge_method: linear\n",
        "models-int.yml": "merge_method: linear\nmodels: 5\n",
        "deep.json": "{" + '"a":{' * 50_000 + "}" * 50_001,
        "good.md": GOOD_CARD,
        "errors.md": "---\nlicense: not-a-license\n---\n# T\n\nText.\n",
        "msgs-dict.json": json.dumps({"role": "user", "content": "hi"}),
        "msgs-role.json": json.dumps([{"role": "wizard", "content": "hi"}]),
        "msgs-surrogate.json": '[{"role": "user", "content": "hi \\ud800"}]',
        "msgs-deep.json": "[" * 100_000 + "]" * 100_000,
        "msgs-content.json": json.dumps([{"role": "user", "content": 5}]),
        "replay-bad.json": "{",
        "replay-empty.json": json.dumps({"columns": []}),
    }
    out = {}
    for name, text in texts.items():
        (tmp / name).write_text(text, encoding="utf-8")
        out[name] = tmp / name
    (tmp / "binary.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp / "nul.md").write_bytes(b"---\nlicense: mit\n---\n\x00\x00")
    with open(tmp / "huge.md", "wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse
    (tmp / "a-folder").mkdir()
    for name in ("binary.md", "nul.md", "huge.md", "a-folder"):
        out[name] = tmp / name
    out["missing.md"] = tmp / "missing.md"
    return out


CARDS = [
    ("check-missing-file", ["check", "{missing.md}"], 2, "missing.md: no such file"),
    ("check-a-folder", ["check", "{a-folder}"], 2, "is a directory; give a file"),
    ("check-50-mb", ["check", "{huge.md}"], 2, "is 52.4 MB; the limit is 5 MB"),
    ("check-binary", ["check", "{binary.md}"], 2, "is not UTF-8 text (byte 0x89 at offset 0)"),
    ("check-nul-bytes", ["check", "{nul.md}"], 2, "looks like a binary file"),
    ("check-yaml-bomb", ["check", "{bomb.md}"], 1, "aliases expand to"),
    ("check-duplicate-keys", ["check", "{dupes.md}"], 1, "duplicate key 'license'"),
    ("import-duplicate-keys", ["import", "{dupes.md}"], 2, "duplicate key 'license' (first on line 2)"),
    ("build-yaml-does-not-parse", ["build", "{bad.yaml}"], 2, "YAML does not parse"),
    ("build-yaml-bomb", ["build", "{bomb.yaml}"], 2, "aliases expand to"),
    ("build-missing-field", ["build", "{no-name.yaml}"], 2, "model_name: required"),
    ("build-update-without-output", ["build", "{no-name.yaml}", "--update"], 2, "model_name: required"),
    ("evals-not-json", ["evals", "{not.json}"], 2, "not valid JSON at line 1"),
    ("evals-no-results", ["evals", "{no-results.json}"], 2, "no 'results' object"),
    ("evals-bad-metric-flag", ["evals", "{results.json}", "--metric", "gsm8k"], 2, "--metric 'gsm8k' must look like KEY=VALUE"),
    ("evals-names-mismatch", ["evals", "{results.json}", "--names", "a,b"], 2, "--names gives 2 names for 1 results files"),
    ("evals-deep-json", ["evals", "{deep.json}"], 2, "JSON nested too deeply"),
    ("merge-windows-path", ["merge", "{windows.yml}"], 0, "is a local path"),
    ("merge-models-not-a-list", ["merge", "{models-int.yml}"], 1, "models: must be a list, got int"),
    ("merge-bad-map", ["merge", "{windows.yml}", "--map", "C:\\Users\\me\\llama=not an id"], 2, "path_map values must be 'org/name' Hub ids"),
    ("training-deep-json", ["training", "{deep.json}"], 2, "JSON nested too deeply"),
    ("preview-missing", ["preview", "{missing.md}"], 2, "no such file"),
    ("diff-missing", ["diff", "{good.md}", "{missing.md}"], 2, "no such file"),
    ("push-bad-repo-id", ["push", "{good.md}", "--repo", "not a repo"], 2, "--repo 'not a repo' is not an 'org/name' repo id"),
    ("push-card-with-errors", ["push", "{errors.md}", "--repo", "org/model"], 2, "the card has 1 error(s)"),
    ("push-offline", ["push", "{good.md}", "--repo", "org/model"], 2, "HF_HUB_OFFLINE is set, so nothing can be pushed"),
]


def _argv(template: list[str], files: dict[str, Path]) -> list[str]:
    return [str(files[a[1:-1]]) if a.startswith("{") and a.endswith("}") else a for a in template]


@pytest.mark.parametrize(("argv", "status", "fragment"), [c[1:] for c in CARDS], ids=[c[0] for c in CARDS])
def test_cards_cli_bad_input(tmp_path, capsys, monkeypatch, argv, status, fragment):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    files = _files(tmp_path)
    assert cards_cli.main(_argv(argv, files)) == status
    err = capsys.readouterr().err
    assert fragment in err, err[-2000:]
    assert "Traceback" not in err


PLAYGROUND = [
    ("render-unknown-format", ["render", "--format", "nope", "--user", "hi"], 2, "unknown format 'nope'; valid format ids: memphis"),
    ("render-messages-missing", ["render", "--format", "chatml", "--messages", "{missing.md}"], 2, "--messages: cannot read"),
    ("render-messages-not-json", ["render", "--format", "chatml", "--messages", "{not.json}"], 2, "is not valid JSON"),
    ("render-messages-too-deep", ["render", "--format", "chatml", "--messages", "{msgs-deep.json}"], 2, "nested too deeply"),
    ("render-messages-a-mapping", ["render", "--format", "chatml", "--messages", "{msgs-dict.json}"], 2, "must hold a JSON list"),
    ("render-messages-bad-role", ["render", "--format", "chatml", "--messages", "{msgs-role.json}"], 2, "unknown role 'wizard'"),
    ("render-messages-not-text", ["render", "--format", "chatml", "--messages", "{msgs-content.json}"], 2, "content must be a string, got int"),
    ("render-lone-surrogate", ["render", "--format", "chatml", "--messages", "{msgs-surrogate.json}"], 2, "a lone surrogate"),
    ("render-one-megabyte", ["render", "--format", "chatml", "--user", "a" * 1_000_000], 2, "the limit is 200,000"),
    ("render-tokenizer-format", ["render", "--format", "tokenizer", "--user", "hi"], 2, "uses the model tokenizer's own chat template"),
    ("generate-no-message", ["generate", "--model", "demo-llama"], 2, "give the conversation with --user TEXT or --messages FILE"),
    ("generate-temperature", ["generate", "--model", "demo-llama", "--user", "hi", "--temperature", "5"], 2,
     "temperature: must be a number from 0.0 to 2.0, got 5.0"),
    ("generate-negative-seed", ["generate", "--model", "demo-llama", "--user", "hi", "--seed", "-1"], 2, "seed: must be an integer"),
    ("generate-zero-tokens", ["generate", "--model", "demo-llama", "--user", "hi", "--max-new-tokens", "0"], 2,
     "max_new_tokens: must be an integer from 1 to 4096"),
    ("generate-empty-stop", ["generate", "--model", "demo-llama", "--user", "hi", "--stop", ""], 2, "stop strings must not be empty"),
    ("generate-unknown-preset", ["generate", "--model", "demo-llama", "--user", "hi", "--preset", "spicy"], 2, "unknown preset 'spicy'"),
    ("generate-five-models", ["generate", "--models", "a,b,c,d,e", "--user", "hi"], 2, "side-by-side takes 1 to 4 models, got 5"),
    ("generate-format-count", ["generate", "--models", "demo-llama,demo-mistral", "--format", "a,b,c", "--user", "hi"], 2,
     "--format lists 3 formats for 2 models"),
    ("generate-unknown-model", ["generate", "--model", "nope", "--user", "hi"], 1, "unknown model 'nope'"),
    ("generate-folder-without-model", ["generate", "--model", "{a-folder}", "--user", "hi"], 1, "is not a model folder: it has no config.json"),
    ("generate-unknown-format", ["generate", "--model", "demo-llama", "--format", "nope", "--user", "hi"], 1, "unknown format 'nope'"),
    ("generate-unknown-quantization", ["generate", "--model", "demo-llama", "--quantization", "q3", "--user", "hi"], 1,
     "unknown quantization 'q3'"),
    ("generate-replay-missing", ["generate", "--replay", "{missing.md}"], 2, "cannot read replay record"),
    ("generate-replay-not-json", ["generate", "--replay", "{replay-bad.json}"], 2, "the replay record is not valid JSON"),
    ("generate-replay-too-deep", ["generate", "--replay", "{msgs-deep.json}"], 2, "nested too deeply"),
    ("estimate-unknown-model", ["estimate", "--model", "nope"], 2, "unknown model 'nope'"),
]


@pytest.mark.parametrize(("argv", "status", "fragment"), [c[1:] for c in PLAYGROUND], ids=[c[0] for c in PLAYGROUND])
def test_playground_cli_bad_input(tmp_path, capsys, demo_dir, argv, status, fragment):
    files = _files(tmp_path)
    assert playground_cli.main(_argv(argv, files)) == status
    captured = capsys.readouterr()
    assert fragment in captured.err, captured.err[-2000:]
    assert "Traceback" not in captured.err + captured.out


SUBPROCESS = [
    ("cards-bomb", ["-m", "cards", "check", "{bomb.md}"], 1, "aliases expand"),
    ("cards-binary", ["-m", "cards", "import", "{nul.md}"], 2, "looks like a binary file"),
    ("playground-bad-option", ["-m", "playground", "generate", "--model", "demo-llama", "--user", "hi", "--top-p", "0"], 2,
     "top_p: must be a number greater than 0.0 and at most 1.0, got 0.0"),
]


@pytest.mark.parametrize(("argv", "status", "fragment"), [c[1:] for c in SUBPROCESS], ids=[c[0] for c in SUBPROCESS])
def test_a_real_process_shows_no_traceback(tmp_path, demo_dir, argv, status, fragment):
    files = _files(tmp_path)
    proc = subprocess.run([sys.executable, *_argv(argv, files)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == status, proc.stderr[-2000:]
    assert fragment in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_an_unexpected_error_in_a_playground_command_is_one_line(capsys, monkeypatch):
    def boom(args):
        raise RuntimeError("disk on fire")

    add_args, _ = playground_cli.COMMANDS["formats"]
    monkeypatch.setitem(playground_cli.COMMANDS, "formats", (add_args, boom))
    assert playground_cli.main(["formats"]) == 2
    err = capsys.readouterr().err
    assert "error: unexpected RuntimeError: disk on fire (please report this" in err and "Traceback" not in err
