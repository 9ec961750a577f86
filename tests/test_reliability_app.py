"""The real app under bad input, load and faults: `python app.py` on loopback, driven by gradio_client.

One app for the module, with the packaged catalog plus models that cannot load (missing weights,
corrupt weights, a 70B-shaped config that does not fit the memory budget). The load test runs a
reduced size here (LINEUP_LOAD_SESSIONS, default 12); `python -m bench.load --sessions 50` runs the
full size. The last test restarts the app and replays a record exported before the restart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from gradio_client import Client

from bench.load import run_load, start_app, stop_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parent.parent
FINISHED = {"eos", "stop_string", "max_tokens"}
LOAD_SESSIONS = int(os.environ.get("LINEUP_LOAD_SESSIONS", "12"))
RSS_TOLERANCE = 64 * 1024 * 1024  # flat: within 64 MiB of the warm-up level
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
)


def _broken_models(demo_dir: Path, root: Path) -> list[dict]:
    """Catalog entries for copies of the tiny Llama that cannot load, each in its own way."""
    entries = []
    for kind in ("missing-weights", "corrupt-weights", "huge-config"):
        dst = root / kind
        shutil.copytree(demo_dir / "llama", dst)
        weights = sorted(dst.glob("*.safetensors"))
        if kind == "missing-weights":
            for w in weights:
                w.unlink()
        elif kind == "corrupt-weights":
            weights[0].write_bytes(b"\x07\x00\x00\x00\x00\x00\x00\x00garbage")
        else:
            cfg = json.loads((dst / "config.json").read_text(encoding="utf-8"))
            cfg.update(hidden_size=8192, intermediate_size=28672, num_hidden_layers=80, num_attention_heads=64,
                       num_key_value_heads=8, vocab_size=128256)
            (dst / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
        entries.append({"id": f"broken-{kind}", "label": f"broken ({kind})", "path": str(dst), "architecture": "llama",
                        "context_length": 512, "format": "metharme", "demo": True})
    return entries


class App:
    """The app process under test; restart() stops it and starts a new one with the same settings."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir, self.starts = env, log_dir, 0
        self.proc, self.url = self._start()

    def _start(self):
        self.starts += 1
        return start_app(self.env, self.log_dir / f"app-{self.starts}.log")

    def restart(self) -> None:
        stop_app(self.proc)
        self.proc, self.url = self._start()

    def log(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("app-*.log")))


@pytest.fixture(scope="module")
def app(demo_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("reliability-app")
    catalog = yaml.safe_load((ROOT / "playground" / "models.yaml").read_text(encoding="utf-8"))
    catalog["models"] += _broken_models(demo_dir, root)
    (root / "catalog.yaml").write_text(yaml.safe_dump(catalog), encoding="utf-8")
    env = {"LINEUP_DEMO_DIR": str(demo_dir), "LINEUP_CATALOG": str(root / "catalog.yaml"), "LINEUP_MEMORY_BUDGET_GB": "6",
           "HF_TOKEN": "hf_FAKE_SECRET_123"}
    running = App(env, root)
    yield running
    stop_app(running.proc)


@pytest.fixture
def client(app):
    return Client(app.url, verbose=False)


def _raw_call(url: str, endpoint: str, args: tuple) -> str:
    """Call an endpoint over plain HTTP with ASCII-escaped JSON (gradio_client cannot send a lone surrogate)."""
    defaults = {"/generate": ("", "", None, True, None, None, False), "/render": ("", True)}.get(endpoint, ())
    need = {"/generate": 8, "/render": 4}.get(endpoint, len(args))
    data = [*args, *defaults[len(defaults) - (need - len(args)):]] if need > len(args) else list(args)
    body = json.dumps({"data": data}).encode("ascii")  # '\\ud800' stays an escape in the JSON text
    req = urllib.request.Request(f"{url}gradio_api/call{endpoint}", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        event_id = json.loads(resp.read())["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call{endpoint}/{event_id}", timeout=60) as resp:
        return resp.read().decode("utf-8", "replace")


def _call(client: Client, endpoint: str, args: tuple) -> str:
    """The endpoint's answer or error, as text."""
    try:
        json.dumps(args, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only plain HTTP with escaped JSON can carry it
        return _raw_call(client.src.rstrip("/") + "/", endpoint, args)
    try:
        return json.dumps(client.predict(*args, api_name=endpoint), ensure_ascii=False)
    except Exception as exc:  # gradio_client raises AppError with the server's message
        return f"{type(exc).__name__}: {exc}"


G = {"temperature": 0.0, "max_new_tokens": 8}
API = [
    ("generate-empty-message", "/generate", (["demo-llama"], "", "", G), "type a message first"),
    ("generate-whitespace-message", "/generate", (["demo-llama"], " \n\t ", "", G), "type a message first"),
    ("generate-one-megabyte", "/generate", (["demo-llama"], "a" * 1_000_000, "", G), "the message is 1,000,000 characters"),
    ("generate-lone-surrogate", "/generate", (["demo-llama"], "hi \ud800", "", G), "a lone surrogate"),
    ("generate-system-too-long", "/generate", (["demo-llama"], "hi", "s" * 300_000, G), "the system prompt is 300,000 characters"),
    ("generate-options-not-a-mapping", "/generate", (["demo-llama"], "hi", "", "hot"), "must be an object of option names"),
    ("generate-temperature-text", "/generate", (["demo-llama"], "hi", "", {"temperature": "hot"}), "temperature: must be a number"),
    ("generate-top-k-negative", "/generate", (["demo-llama"], "hi", "", {"top_k": -1}), "top_k: must be an integer from 0 to 1000"),
    ("generate-seed-too-big", "/generate", (["demo-llama"], "hi", "", {"seed": 2**40}), "seed: must be an integer from 0 to 4294967295"),
    ("generate-stop-numbers", "/generate", (["demo-llama"], "hi", "", {"stop": [5]}), "stop.0: must be a list of at most 16"),
    ("generate-nan", "/generate", (["demo-llama"], "hi", "", {"min_p": "NaN"}), "min_p: must be a number from 0.0 to 1.0"),
    ("generate-unknown-model", "/generate", (["gpt-5"], "hi", "", G), "unknown model 'gpt-5'; valid model ids"),
    ("generate-path-as-model", "/generate", (["/etc"], "hi", "", G), "unknown model '/etc'"),
    ("generate-nested-models", "/generate", ([["demo-llama"]], "hi", "", G), "models must be a list of model ids (strings)"),
    ("generate-no-models", "/generate", ([], "hi", "", G), "pick at least one model"),
    ("generate-unknown-format", "/generate", (["demo-llama"], "hi", "", G, True, ["nope"]), "unknown format 'nope'"),
    ("generate-too-many-formats", "/generate", (["demo-llama"], "hi", "", G, True, ["chatml", "chatml"]), "formats has 2 entries for 1 models"),
    ("generate-history-bad-role", "/generate", (["demo-llama"], "hi", "", G, True, None, [{"role": "wizard", "content": "x"}]),
     "unknown role 'wizard'"),
    ("generate-history-system", "/generate", (["demo-llama"], "hi", "", G, True, None, [{"role": "system", "content": "x"}]),
     "history holds user/assistant turns only"),
    ("generate-history-no-content", "/generate", (["demo-llama"], "hi", "", G, True, None, [{"role": "user"}]), "has no content"),
    ("render-unknown-format", "/render", ("nope", [{"role": "user", "content": "hi"}]), "unknown format 'nope'"),
    ("render-messages-not-a-list", "/render", ("chatml", "hi"), "messages must be a list"),
    ("render-lone-surrogate", "/render", ("chatml", [{"role": "user", "content": "\udc00"}]), "a lone surrogate"),
    ("render-unknown-model", "/render", ("chatml", [{"role": "user", "content": "hi"}], "nope"), "unknown model 'nope'"),
    ("build-card-bomb", "/build_card", ("spec_version: 1\nmodel_name: X\n" + BOMB,), "aliases expand to"),
    ("build-card-nul", "/build_card", ("model_name: a\x00b\n",), "character 0x0000 is not allowed"),
    ("build-card-six-megabytes", "/build_card", ("model_name: X\nsummary: " + "a" * 6_000_000,), "the limit is 5 MB"),
    ("build-card-lone-surrogate", "/build_card", ("model_name: \ud800\n",), "a lone surrogate"),
    ("check-card-duplicate-keys", "/check_card", ("---\nlicense: mit\nlicense: mit\n---\n# T\n",), "duplicate key 'license'"),
    ("check-card-lone-surrogate", "/check_card", ("---\nlicense: mit\n---\n\ud800",), "a lone surrogate"),
    ("check-card-bomb", "/check_card", ("---\n" + BOMB + "---\n# T\n",), "aliases expand to"),
    ("check-card-model-index-shape", "/check_card", ("---\nlicense: mit\nmodel-index:\n  - name: x\n    results: 5\n---\n# T\n",),
     "model-index"),
]


@pytest.mark.parametrize(("endpoint", "args", "fragment"), [c[1:] for c in API], ids=[c[0] for c in API])
def test_bad_api_input_gets_a_clear_message(client, endpoint, args, fragment):
    answer = _call(client, endpoint, args)
    assert fragment in answer, answer[:1500]
    assert "Traceback" not in answer and "internal error" not in answer


def test_bad_input_left_no_traceback_or_token_in_the_log_and_the_app_serves(app, client):
    result = client.predict(["demo-llama"], "Hello!", "", G, api_name="/generate")
    assert result["columns"][0]["stop_reason"] in FINISHED
    answers = json.dumps([result, client.predict(api_name="/models"), client.predict(api_name="/formats")])
    assert "hf_FAKE_SECRET_123" not in answers + app.log()  # HF_TOKEN is set in the app's environment
    assert "Traceback" not in app.log()


# ---- models that fail to load: their column only; the app keeps serving -------------------------------------
FAILING = [
    ("broken-missing-weights", "has no weights"),
    ("broken-corrupt-weights", "are corrupt or incomplete"),
    ("broken-huge-config", "more than the whole memory budget"),
]


@pytest.mark.parametrize(("model", "fragment"), FAILING, ids=[f[0] for f in FAILING])
def test_a_model_that_fails_to_load_fails_in_its_column_only(client, model, fragment):
    result = client.predict([model, "demo-llama"], "Hello!", "", G, api_name="/generate")
    broken, good = result["columns"]
    assert broken["stop_reason"] == "error" and fragment in broken["error"], broken["error"]
    assert good["error"] is None and good["stop_reason"] in FINISHED and good["text"]
    again = client.predict(["demo-llama"], "Hello again!", "", G, api_name="/generate")
    assert again["columns"][0]["stop_reason"] in FINISHED


# ---- load ----------------------------------------------------------------------------------------------------------
def test_concurrent_sessions_complete_without_mixing_and_memory_stays_flat(app):
    report = run_load(app.url, LOAD_SESSIONS, app.proc.pid, max_new_tokens=16, warmup=LOAD_SESSIONS, solo_check=4)
    assert report.failures == [], report.lines()
    assert report.completed == LOAD_SESSIONS and report.mixed == 0
    assert report.rss_after - report.rss_before < RSS_TOLERANCE, report.lines()


# ---- cancel mid-stream through the API -------------------------------------------------------------------------------
def test_stop_ends_a_stream_within_a_second_and_the_models_are_free(client):
    job = client.submit(["demo-llama", "demo-mistral"], "Tell me a long story.", "", {"temperature": 1.0, "max_new_tokens": 4000, "seed": 2},
                        True, None, None, True, api_name="/generate")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(c["text"] for u in job.outputs() for c in u["columns"]):
        time.sleep(0.02)
    start = time.perf_counter()
    assert client.predict(api_name="/stop")["stopped"] == 1
    result = job.result(timeout=30)
    took = time.perf_counter() - start
    assert took < 1.5, took  # /stop round trip + the final update; the engine itself ends within one step
    assert [c["stop_reason"] for c in result["columns"]] == ["cancelled", "cancelled"]
    nxt = client.predict(["demo-llama", "demo-mistral"], "Hello!", "", G, api_name="/generate")
    assert [c["stop_reason"] in FINISHED for c in nxt["columns"]] == [True, True]


# ---- restart: a record exported before reproduces the same outputs after -------------------------------------------------
def test_a_replay_record_from_before_a_restart_reproduces_after_it(app, browser_page, tmp_path):
    client = Client(app.url, verbose=False)
    result = client.predict(["demo-llama", "demo-stablelm"], "What colour is grass?", "Be brief.",
                            {"temperature": 0.9, "seed": 77, "max_new_tokens": 24}, api_name="/generate")
    saved = tmp_path / "before-restart.json"
    saved.write_text(result["replay_json"], encoding="utf-8")
    assert "hf_FAKE_SECRET_123" not in saved.read_text(encoding="utf-8")
    old_pid = app.proc.pid
    app.restart()
    assert app.proc.pid != old_pid

    page = browser_page  # the page's own import: Import replay & run
    page.goto(app.url)
    page.wait_for_selector("#lu-send", timeout=60_000)
    with page.expect_file_chooser(timeout=30_000) as chooser:
        page.click("#lu-import")
    chooser.value.set_files(str(saved))
    page.wait_for_selector("#lu-status :text('reproduced the recorded output exactly')", timeout=60_000)

    env = {**os.environ, **app.env, "HF_HUB_OFFLINE": "1"}  # and from the command line, in yet another process
    proc = subprocess.run([sys.executable, "-m", "playground", "generate", "--replay", str(saved), "--json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["same"] is True and report["differences"] == []
    assert [c["output"] for c in report["record"]["columns"]] == [c["text"] for c in result["columns"]]
