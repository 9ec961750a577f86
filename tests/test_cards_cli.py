"""python -m cards: every command, exit codes (0 fine, 1 findings, 2 bad input) and no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cards.cli import main
from cards.safeyaml import MAX_INPUT_BYTES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "cards"
EXAMPLE = ROOT / "examples" / "cards" / "memphis-scribe-3b.yaml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


def test_build_check_import_build(capsys, tmp_path):
    readme, spec = tmp_path / "README.md", tmp_path / "spec.yaml"
    code, _, err = run(capsys, "build", str(EXAMPLE), "-o", str(readme))
    assert code == 0 and f"wrote {readme}" in err
    code, _, err = run(capsys, "check", str(readme))
    assert code == 0 and "0 error(s)" in err
    code, _, _ = run(capsys, "import", str(readme), "-o", str(spec))
    assert code == 0
    again = tmp_path / "again.md"
    assert run(capsys, "build", str(spec), "-o", str(again))[0] == 0
    assert again.read_text() == readme.read_text()
    assert run(capsys, "diff", str(readme), str(again)) == (0, "", "")


def test_build_update_keeps_hand_edits(capsys, tmp_path):
    readme = tmp_path / "README.md"
    run(capsys, "build", str(EXAMPLE), "-o", str(readme))
    readme.write_text(readme.read_text() + "\n## Added on the Hub\n\nKeep me.\n")
    code, _, err = run(capsys, "build", str(EXAMPLE), "-o", str(readme), "--update")
    assert code == 0 and "replaced training in place" in err
    text = readme.read_text()
    assert text.endswith("Keep me.\n") and text.count("<!-- lineup:begin training -->") == 1


def test_check_exit_codes_and_json(capsys):
    code, out, _ = run(capsys, "check", str(FIXTURES / "stock-mergekit.README.md"), "--json")
    payload = json.loads(out)
    assert code == 1 and payload["errors"] == 1
    assert {"severity", "field", "problem", "fix", "line"} <= set(payload["findings"][0])
    assert run(capsys, "check", str(FIXTURES / "slerp-leaderboard.README.md"))[0] == 0


def test_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["title"] == "CardSpec"


def test_evals(capsys):
    files = [str(FIXTURES / "lm-eval-0.4.json"), str(FIXTURES / "lm-eval-0.3.json")]
    code, out, err = run(capsys, "evals", *files, "--names", "Lamp,Wick", "--metric", "gsm8k=exact_match,flexible-extract")
    assert code == 0 and "| Lamp | 53.49 | 50.11 |" in out and "limit=100" in err
    code, out, _ = run(capsys, "evals", *files, "--format", "json")
    assert code == 0 and json.loads(out)["rows"][0]["model"] == "example-org/Lamp-7B"


def test_merge_and_training(capsys):
    code, out, _ = run(capsys, "merge", str(FIXTURES / "passthrough-overlap.yml"))
    assert code == 0 and "45 output layers from 2 slices" in out and "base_model_relation: merge" in out
    config = FIXTURES / "stock-mergekit.README.md"
    code, out, err = run(capsys, "training", str(FIXTURES / "axolotl.yml"))
    assert code == 0 and "sequence_length: 4096" in out and "wandb_api_key" in err
    assert "0123456789abcdef" not in out + err
    code, out, err = run(capsys, "merge", str(config))  # a README: its mergekit block is used
    assert code == 0 and "'./checkpoints/quill-sft-run3' is a local path" in err
    assert run(capsys, "merge", str(FIXTURES / "norwegian.README.md"))[0] == 2  # no config in it
    assert run(capsys, "training", str(FIXTURES / "lm-eval-0.4.json"))[0] == 2  # not trainer settings


def test_merge_map_option(capsys, tmp_path):
    cfg = tmp_path / "m.yml"
    cfg.write_text("models:\n  - model: ./ckpt/a\n  - model: org/b\nmerge_method: linear\n")
    code, out, _ = run(capsys, "merge", str(cfg), "--map", "./ckpt/a=me/a", "--format", "json")
    assert code == 0 and json.loads(out)["metadata"]["base_model"] == ["me/a", "org/b"]
    assert run(capsys, "merge", str(cfg), "--map", "nonsense")[0] == 2


def test_preview(capsys, tmp_path):
    out_file = tmp_path / "p.html"
    assert run(capsys, "preview", str(FIXTURES / "norwegian.README.md"), "-o", str(out_file))[0] == 0
    assert "<h1>Fjord-1B</h1>" in out_file.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.md"], "missing.md: no such file"),
        (["build", "missing.yaml"], "no such file"),
        (["evals", "missing.json"], "no such file"),
        (["build", "{bomb}"], "refused"),
        (["build", "{bad_spec}"], "unknown key 'licence'"),
        (["build", "{bad_yaml}"], "s.yaml (line 3): YAML does not parse"),
        (["build", "{local_merge}"], "merge.path_map"),
        (["check", "{huge}"], "the limit is 5 MB"),
        (["check", "{binary}"], "not UTF-8"),
        (["evals", "{bad_json}"], "not valid JSON"),
        (["evals", "{huge}"], "the limit is 5 MB"),
        (["import", "{bad_front}"], "front matter (line 3)"),
        (["training", "{bad_json}"], "not valid JSON"),
        (["build", "{example}", "--update"], "--update needs -o"),
        (["push", "{readme}", "--repo", "nope"], "is not an 'org/name' repo id"),
    ],
)
def test_bad_input_is_a_message_not_a_traceback(capsys, tmp_path, args, message):
    files = {
        "bomb": ("bomb.yaml", "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
            f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))),
        "bad_spec": ("s.yaml", "model_name: M\nlicence: mit\n"),
        "bad_yaml": ("s.yaml", "model_name: M\nmetadata: [\n"),
        "local_merge": ("s.yaml", "model_name: M\nmerge:\n  config: |\n    models:\n      - model: ./a/b\n"
                                  "    merge_method: linear\n"),
        "huge": ("big.md", "x" * (MAX_INPUT_BYTES + 10)),
        "binary": ("bin.md", None),
        "bad_json": ("r.json", "{nope"),
        "bad_front": ("README.md", "---\nlicense: mit\nlanguage: [en\n---\n# x\n"),
        "example": ("example.yaml", EXAMPLE.read_text()),
        "readme": ("README.md", "---\nlicense: mit\n---\n# M\n"),
    }
    resolved = []
    for arg in args:
        key = arg.strip("{}")
        if arg.startswith("{") and key in files:
            name, content = files[key]
            path = tmp_path / name
            path.write_bytes(b"\xff\xfe\x00bad" if content is None else content.encode())
            arg = str(path)
        elif arg.endswith((".md", ".yaml", ".json")):
            arg = str(tmp_path / arg)
        resolved.append(arg)
    code, _, err = run(capsys, *resolved)
    assert code == 2
    assert err.startswith("error: ") and message in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evals"])
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_module_entry_point():
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    proc = subprocess.run([sys.executable, "-m", "cards", "check", str(FIXTURES / "stock-mergekit.README.md")],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "base_model (line 2): is empty" in proc.stderr
