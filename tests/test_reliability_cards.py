"""Bad input for the card side: specs, READMEs, lm-eval results, mergekit and trainer configs.

Every case goes through the library and the studio adapter the way a user's input would (the
spec editor, the README import, the API functions), and must come back as a clear message that
names the problem: never an exception the page or the API cannot show, never a traceback.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import cards
from cards.errors import CardError
from cards.specbase import fmt_num
from ui.studio_api import build_card, check_card
from ui.studio_sources import StudioInputError, import_readme, import_spec, read_upload, set_merge_config
from ui.studio_view import dump_data, render_view

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "cards"
LM_EVAL = json.loads((FIXTURES / "lm-eval-0.4.json").read_text(encoding="utf-8"))
SPEC = "spec_version: 1\nmodel_name: Test-7B\n"
BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
)
MANY_ALIASES = "a: &a x\nb: [" + ", ".join(["*a"] * 60) + "]\n"
DEEP_FLOW = "a: " + "[" * 100 + "]" * 100 + "\n"
DEEP_BLOCK = "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n"


def _good_readme() -> str:
    return cards.build(cards.load_spec_file(ROOT / "examples" / "cards" / "memphis-scribe-3b.yaml"))


def _results(**changes) -> str:
    data = json.loads(json.dumps(LM_EVAL))
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for key in parents:
            target = target[key]
        target[last] = value
    return json.dumps(data)


def _all_acc(value) -> str:
    data = json.loads(json.dumps(LM_EVAL))
    for entry in data["results"].values():
        for key in list(entry):
            if key.startswith("acc") and "_stderr" not in key:
                entry[key] = value
    return json.dumps(data, allow_nan=True)


def _messages(kind: str, text: str) -> str:
    """Run one input through its entry points; every message and finding it produced, as one text."""
    out: list[str] = []
    if kind == "spec":  # the studio's spec editor and the /build_card endpoint
        view = render_view(text)
        out += [f"{f.field}: {f.problem} (line {f.line})" for f in view.findings]
        readme, findings = build_card(text)
        out += [f"{f['field']}: {f['problem']}" for f in json.loads(findings)]
        assert view.readme is None and readme == "", "a broken spec must not build a README"
    elif kind == "spec-ok":  # builds, with findings
        view = render_view(text)
        assert view.readme is not None, [f.problem for f in view.findings]
        out += [f"{f.field}: {f.problem}" for f in view.findings] + [view.readme]
    elif kind == "check":  # cards.check and the /check_card endpoint
        out += [f"{f.field}: {f.problem} (line {f.line})" for f in cards.check(text)]
        out += [f"{f['field']}: {f['problem']}" for f in json.loads(check_card(text))]
    elif kind == "import":  # the studio's README import
        try:
            out.append(import_readme(text).message)
        except StudioInputError as exc:
            out.append(str(exc))
    elif kind == "upload-spec":
        try:
            out.append(import_spec(text).message)
        except StudioInputError as exc:
            out.append(str(exc))
    elif kind == "evals":
        try:
            table = cards.evals_table({"results.json": text})
            out += [f"{f.field}: {f.problem}" for f in table.findings] + [table.markdown]
        except CardError as exc:
            out.append(str(exc))
    elif kind == "merge":
        try:
            section = cards.merge_section(text)
            out += [f"{f.severity} {f.field}: {f.problem}" for f in section.findings]
        except CardError as exc:
            out.append(str(exc))
    elif kind == "studio-merge":  # the merge upload, then the render
        try:
            data = set_merge_config(json.loads(json.dumps({"spec_version": 1, "model_name": "X"})), text)
            view = render_view(dump_data(data))
            out += [f"{f.field}: {f.problem}" for f in view.findings]
        except StudioInputError as exc:
            out.append(str(exc))
    elif kind == "training":
        try:
            result = cards.import_training(text, "training_args.json")
            out += result.notes
        except CardError as exc:
            out.append(str(exc))
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(kind)
    return "\n".join(out)


CASES = [
    # ---- YAML that does not parse (spec editor, spec upload, README front matter)
    ("spec-unclosed-flow", "spec", SPEC + "summary: [oops\n", "YAML does not parse"),
    ("spec-tab-indent", "spec", SPEC + "metadata:\n\tlicense: mit\n", "YAML does not parse"),
    ("spec-bad-indent", "spec", "model_name: X\n  summary: y\n", "YAML does not parse"),
    ("spec-not-a-mapping", "spec", "- a\n- b\n", "the spec must be a mapping"),
    ("spec-empty", "spec", "", "the spec must be a mapping"),
    ("spec-upload-scalar", "upload-spec", "just text", "not a mapping"),
    ("readme-fm-does-not-parse", "check", "---\nlicense: [mit\n---\n# T\n\nText.\n", "YAML does not parse"),
    ("readme-fm-does-not-parse-import", "import", "---\nlicense: [mit\n---\n# T\n", "cannot be imported"),
    # ---- YAML bombs
    ("spec-billion-laughs", "spec", SPEC + BOMB, "aliases expand to 672,614 nodes (limit 200,000)"),
    ("spec-recursive-alias", "spec", SPEC + "x: &a [*a]\n", "refers to a collection that contains it"),
    ("spec-too-many-aliases", "spec", SPEC + MANY_ALIASES, "more than 50 aliases"),
    ("spec-deep-flow", "spec", SPEC + DEEP_FLOW, "nesting deeper than 40 levels"),
    ("spec-deep-block", "spec", SPEC + DEEP_BLOCK, "nesting deeper than 40 levels"),
    ("readme-fm-bomb", "check", "---\n" + BOMB + "---\n# T\n\nText.\n", "aliases expand"),
    ("readme-fm-bomb-import", "import", "---\n" + BOMB + "---\n# T\n", "aliases expand"),
    ("readme-fm-deep-import", "import", "---\n" + DEEP_BLOCK + "---\n# T\n", "nesting deeper than 40"),
    ("merge-bomb", "merge", "merge_method: linear\n" + BOMB, "aliases expand"),
    ("training-bomb", "training", "micro_batch_size: 1\n" + BOMB, "aliases expand"),
    # ---- oversized and binary text
    ("spec-6mb", "spec", SPEC + "summary: " + "a" * 6_000_000 + "\n", "the limit is 5 MB"),
    ("readme-6mb", "check", "---\nlicense: mit\n---\n" + "a" * 6_000_000, "the limit is 5 MB"),
    ("results-6mb", "evals", '{"results": {}, "pad": "' + "a" * 6_000_000 + '"}', "the limit is 5 MB"),
    ("spec-nul-byte", "spec", SPEC + "summary: a\x00b\n", "character 0x0000 is not allowed"),
    ("readme-nul-byte", "check", "---\nlicense: mi\x00t\n---\n# T\n\nText.\n", "character 0x0000 is not allowed"),
    ("readme-binary-import", "import", "---\n\x00\x01\x02\x03\n---\n", "character 0x0000 is not allowed"),
    ("spec-lone-surrogate", "spec", SPEC + "summary: a\ud800b\n", "lone surrogate"),
    ("readme-lone-surrogate", "check", "---\nlicense: mit\n---\n# T \ud800\n", "lone surrogate"),
    ("spec-huge-integer", "spec", "model_name: X\nspec_version: " + "9" * 5000 + "\n", "a value cannot be read"),
    ("readme-huge-integer", "check", "---\nlicense: mit\nx: " + "9" * 5000 + "\n---\n# T\n", "a value cannot be read"),
    # ---- lm-evaluation-harness results
    ("results-not-json", "evals", "{not json", "not valid JSON at line 1"),
    ("results-jsonl-log", "evals", '{"doc_id": 0}\n{"doc_id": 1}\n', "per-sample .jsonl log"),
    ("results-missing-key", "evals", json.dumps({k: v for k, v in LM_EVAL.items() if k != "results"}), "no 'results' object"),
    ("results-empty-object", "evals", "{}", "no 'results' object"),
    ("results-is-a-list", "evals", "[1, 2]", "no 'results' object"),
    ("results-null", "evals", "null", "no 'results' object"),
    ("results-task-wrong-type", "evals", _results(results={"gsm8k": "high"}), "no numeric metrics to tabulate"),
    ("results-nan", "evals", _all_acc(float("nan")), "arc_challenge: no numeric metric"),
    ("results-nan-only", "evals", '{"results": {"x": {"acc,none": NaN}}}', "no numeric metrics to tabulate"),
    ("results-infinity", "evals", _all_acc(float("inf")), "arc_challenge: no numeric metric"),
    ("results-n-a", "evals", _all_acc("N/A"), "arc_challenge: no numeric metric"),
    ("results-string-number", "evals", _all_acc("0.5"), "arc_challenge: no numeric metric"),
    ("results-null-value", "evals", _all_acc(None), "arc_challenge: no numeric metric"),
    ("results-not-a-fraction", "evals", _all_acc(150), "acc_norm = 150 is not a fraction"),
    ("results-stderr-n-a", "evals", json.dumps(LM_EVAL), "has no stderr (written as N/A)"),
    ("results-config-is-text", "evals", _results(config="oops", model_name=None), "| results |"),
    ("results-negative-shots", "evals", _results(**{"n-shot": {"arc_challenge": -3}}), "arc_challenge (acc_norm)"),
    ("results-subtasks-wrong-type", "evals", _results(group_subtasks={"tinyglue": [{"x": 1}, ["y"]]}), "tinyglue"),
    ("results-deep-json", "evals", "[" * 100_000 + "]" * 100_000, "JSON nested too deeply"),
    # ---- mergekit configs
    ("merge-windows-path", "merge", "models:\n  - model: C:\\Users\\me\\models\\llama\n  - model: org/b\nmerge_method: linear\n",
     "'C:\\Users\\me\\models\\llama' is a local path"),
    ("merge-windows-forward-slash", "merge", "models:\n  - model: 'D:/models/llama'\n  - model: org/b\nmerge_method: linear\n",
     "'D:/models/llama' is a local path"),
    ("merge-unc-path", "merge", "models:\n  - model: \\\\server\\share\\llama\n  - model: org/b\nmerge_method: linear\n",
     "is a local path"),
    ("merge-absolute-path", "merge", "models:\n  - model: /home/me/merged\n  - model: org/b\nmerge_method: linear\n",
     "'/home/me/merged' is a local path"),
    ("merge-relative-path", "merge", "merge_method: slerp\nbase_model: ../secret/model\nslices:\n  - sources:\n"
     "      - {model: ../secret/model, layer_range: [0, 4]}\n      - {model: org/b, layer_range: [0, 4]}\n",
     "'../secret/model' is a local path"),
    ("merge-models-not-a-list", "merge", "merge_method: linear\nmodels: 5\n", "models: must be a list, got int"),
    ("merge-models-a-string", "merge", "merge_method: linear\nmodels: org/x\n", "models: must be a list, got str"),
    ("merge-slices-not-a-list", "merge", "merge_method: passthrough\nslices: abc\n", "slices: must be a list"),
    ("merge-experts-a-mapping", "merge", "experts: {a: 1}\n", "experts: must be a list"),
    ("merge-not-a-config", "merge", "hello: world\n", "not a mergekit config"),
    ("merge-empty", "merge", "", "not a mergekit config"),
    ("merge-does-not-parse", "merge", "models: [\n", "YAML does not parse"),
    ("studio-merge-windows-path", "studio-merge", "models:\n  - model: C:\\m\\llama\n  - model: org/b\nmerge_method: linear\n",
     "cannot go into base_model"),
    ("studio-merge-not-a-list", "studio-merge", "merge_method: linear\nmodels: 5\n", "models: must be a list"),
    # ---- READMEs
    ("readme-unclosed-front-matter", "check", "---\nlicense: mit\n# Title\n\nText.\n", "never closed"),
    ("readme-duplicate-keys", "check", "---\nlicense: mit\nlanguage: en\nlicense: apache-2.0\n---\n# T\n\nText.\n",
     "duplicate key 'license' (first on line 2) (line 4)"),
    ("readme-duplicate-nested-keys", "check", "---\nlicense: mit\nwidget:\n  - text: a\n    text: b\n---\n# T\n\nx\n",
     "duplicate key 'text'"),
    ("readme-duplicate-keys-import", "import", "---\nlicense: mit\nlicense: mit\n---\n# T\n", "duplicate key 'license'"),
    ("readme-empty", "check", "", "the card has no YAML front matter"),
    ("readme-json-instead", "check", json.dumps(LM_EVAL), "this is JSON, not a model card"),
    ("readme-front-matter-a-list", "check", "---\n- a\n---\n# T\n\nx\n", "the front matter is not a mapping"),
    ("readme-model-index-wrong-shape", "check", "---\nlicense: mit\nmodel-index:\n  - name: x\n    results: 5\n---\n# T\n\nx\n",
     "model-index"),
    ("readme-model-index-wrong-shape-import", "import", "---\nlicense: mit\nmodel-index:\n  - name: x\n    results: 5\n---\n# T\n",
     "Imported the README"),
    ("readme-pipeline-tag-a-list", "check", "---\nlicense: mit\npipeline_tag: [text-generation]\n---\n# T\n\nx\n",
     "must be one task id"),
    ("readme-base-model-of-mappings", "check", "---\nlicense: mit\nbase_model: [{a: 1}]\ntags: [org/x]\n---\n# T\n\nx\n",
     "base_model"),
    ("readme-tab-in-front-matter", "check", "---\nlicense: mit\n\tlanguage: en\n---\n# T\n\nx\n", "YAML does not parse"),
    # ---- numbers that are not numbers, in specs
    ("spec-benchmark-nan", "spec", SPEC + "benchmarks:\n  columns: [{id: a, label: A}]\n  rows: [{model: m, values: {a: .nan}}]\n",
     "finite number"),
    ("spec-benchmark-infinity", "spec", SPEC + "benchmarks:\n  columns: [{id: a, label: A}]\n  rows: [{model: m, values: {a: .inf}}]\n",
     "finite number"),
    ("spec-benchmark-stderr-nan", "spec", SPEC + "benchmarks:\n  columns: [{id: a, label: A}]\n"
     "  rows: [{model: m, values: {a: {value: 50, stderr: .nan}}}]\n", "finite number"),
    ("spec-benchmark-n-a", "spec", SPEC + "benchmarks:\n  columns: [{id: a, label: A}]\n  rows: [{model: m, values: {a: N/A}}]\n",
     "benchmarks.rows[0].values.a"),
    ("spec-hyperparameter-extra-infinity", "spec", SPEC + "training:\n  stages:\n    - name: s\n"
     "      hyperparameters: {extra: {a: .inf}}\n", "finite number"),
    ("spec-leaderboard-nan", "spec", SPEC + "leaderboard:\n  scores: {arc: .nan}\n", "leaderboard.scores.arc"),
    ("spec-unknown-nested-key", "spec", SPEC + "prompt_format: {id: metharme, format: x}\n",
     "prompt_format.format: unknown key 'format' in prompt_format"),
    ("spec-names-a-file", "spec", SPEC + "merge:\n  config_file: ../../../../etc/passwd\n", "names files that were not read"),
    ("training-deep-json", "training", "{" + '"a":{' * 100_000 + "}" * 100_001, "JSON nested too deeply"),
    ("training-nan", "training", '{"learning_rate": NaN, "num_train_epochs": Infinity}', "finite number"),
    ("training-not-a-mapping", "training", "[1, 2]", "expected a mapping"),
]


@pytest.mark.parametrize(("kind", "text", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_card_input_gets_a_clear_message(kind, text, fragment):
    messages = _messages(kind, text)
    assert fragment in messages, messages[:2000]
    assert "Traceback" not in messages and "internal error" not in messages


# ---- line endings, BOM and trailing newlines read like the plain file -------------------------------
VARIANTS = [
    ("crlf", lambda t: t.replace("\n", "\r\n")),
    ("bom", lambda t: "\ufeff" + t),
    ("bom-and-crlf", lambda t: "\ufeff" + t.replace("\n", "\r\n")),
    ("no-trailing-newline", lambda t: t.rstrip("\n")),
    ("lone-cr", lambda t: t.replace("\n", "\r")),
]


@pytest.mark.parametrize("change", [v[1] for v in VARIANTS], ids=[v[0] for v in VARIANTS])
def test_readme_encodings_read_like_the_plain_file(tmp_path, change):
    """Through the upload path (bytes -> text), a CRLF/BOM/no-newline README imports and checks like the original."""
    readme = _good_readme()
    path = tmp_path / "README.md"
    path.write_bytes(change(readme).encode("utf-8"))
    text = read_upload(str(path), "the README", 5 * 1024 * 1024)
    plain = [(f.severity, f.field, f.problem) for f in cards.check(readme)]
    assert [(f.severity, f.field, f.problem) for f in cards.check(text)] == plain
    assert cards.dump_spec(cards.import_card(text)) == cards.dump_spec(cards.import_card(readme))


UPLOADS = [
    ("png-bytes", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "is not UTF-8 text (byte 0x89 at offset 0)"),
    ("utf16-text", "---\nlicense: mit\n---\n".encode("utf-16"), "is not UTF-8 text"),
    ("nul-bytes", b"---\nlicense: mit\n---\n\x00\x00\x00", "looks like a binary file"),
    ("latin1-text", "caf\xe9".encode("latin-1"), "is not UTF-8 text (byte 0xe9 at offset 3)"),
]


@pytest.mark.parametrize(("data", "fragment"), [u[1:] for u in UPLOADS], ids=[u[0] for u in UPLOADS])
def test_binary_uploads_are_refused_by_name(tmp_path, data, fragment):
    path = tmp_path / "upload.md"
    path.write_bytes(data)
    with pytest.raises(StudioInputError, match="the README") as info:
        read_upload(str(path), "the README", 5 * 1024 * 1024)
    assert fragment in str(info.value)


def test_a_50_mb_upload_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.md"
    with open(path, "wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50 * 1024 * 1024)
    with pytest.raises(StudioInputError, match=r"the README is 52\.4 MB; the limit is 5 MB"):
        read_upload(str(path), "the README", 5 * 1024 * 1024)


def test_a_bad_studio_upload_changes_nothing(tmp_path):
    """The upload handlers answer with the status line only: the spec, form and previews keep what was typed."""
    from ui.settings import AppSettings
    from ui.studio_tab import StudioTab

    tab = StudioTab(AppSettings())
    for name in ("status", "spec", "original", "previous", "undo_btn"):
        setattr(tab, name, name)
    path = tmp_path / "bomb.md"
    path.write_text("---\n" + BOMB + "---\n# T\n", encoding="utf-8")
    out = tab.on_readme_upload(str(path), False, "spec_version: 1\nmodel_name: Mine\n", None)
    assert set(out) == {"status"} and "Nothing else changed" in out["status"] and "aliases expand" in out["status"]
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    out = tab.on_spec_upload(str(big), False, "spec_version: 1\nmodel_name: Mine\n", None)
    assert set(out) == {"status"} and "the limit is 5 MB" in out["status"]


@pytest.mark.parametrize(("value", "text"), [(float("nan"), "nan"), (float("inf"), "inf"), (-float("inf"), "-inf"), (2.0, "2")])
def test_number_formatting_never_raises(value, text):
    assert fmt_num(value) == text
    assert math.isnan(value) or fmt_num(value) != ""


# ---- last-resort guards: a bug in one check or render becomes a finding, never a broken page or API ----------
def test_a_crashing_metadata_check_becomes_a_finding(monkeypatch):
    import importlib

    check_mod = importlib.import_module("cards.check")  # the module (cards.check is also the function)

    def broken(ctx):
        raise TypeError("unhashable type: 'dict'")

    monkeypatch.setattr(check_mod, "METADATA_CHECKS", (broken, *check_mod.METADATA_CHECKS[1:]))
    findings = cards.check("---\nlicense: mit\n---\n# T\n\nText.\n")
    assert any("has a shape the Hub does not read (TypeError" in f.problem for f in findings)


def test_a_crashing_render_or_check_keeps_the_studio_and_api_answering(monkeypatch):
    monkeypatch.setattr(cards, "build", lambda *a, **k: 1 / 0)
    view = render_view(SPEC)
    assert view.readme is None and "could not render this spec (an internal error" in view.findings[0].problem
    assert "could not render" in build_card(SPEC)[1]
    monkeypatch.setattr(cards, "check", lambda text: [][1])
    assert "could not be checked (an internal error" in check_card("# T\n")


def test_the_preview_survives_invalid_unicode():
    out = cards.render_preview("---\nlicense: mit\n---\n# Title \ud800 end\n")
    assert "Title ? end" in out
