"""`python -m playground formats|render`: exact prompts on stdout, clear errors, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True, text=True, input=stdin, timeout=120)


def test_formats_lists_every_format():
    out = run("formats")
    assert out.returncode == 0
    assert out.stdout.split()[0] == "memphis" and "metharme" in out.stdout and "tokenizer" in out.stdout


def test_formats_json():
    rows = json.loads(run("formats", "--json").stdout)
    assert {r["id"] for r in rows} >= {"cerebrum", "cat-llama3"}


def test_render_prints_the_exact_prompt():
    out = run("render", "--format", "metharme", "--system", "SYS", "--user", "Start!")
    assert out.returncode == 0 and out.stdout == "<|system|>SYS<|user|>Start!<|model|>"


def test_render_from_a_messages_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps([{"role": "user", "content": "Are you conscious?"}]))
    out = run("render", "--format", "cerebrum", "--messages", str(path))
    assert out.stdout.endswith("\nUser: Are you conscious?\nAI:") and out.stdout.startswith("<s>A chat")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("render", "--format", "nope", "--user", "x"), "unknown format 'nope'"),
        (("render", "--format", "chatml", "--messages", "/no/such/file.json"), "cannot read"),
    ],
)
def test_errors_are_one_line_messages(args, message):
    out = run(*args)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_bad_messages_file_is_reported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"role": "wizard", "content": "x"}]')
    out = run("render", "--format", "chatml", "--messages", str(bad))
    assert out.returncode == 2 and "unknown role 'wizard'" in out.stderr and "Traceback" not in out.stderr
    bad.write_text("{not json")
    out = run("render", "--format", "chatml", "--messages", str(bad))
    assert out.returncode == 2 and "not valid JSON" in out.stderr
