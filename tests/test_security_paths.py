"""Local model paths stay inside the configured directories; nothing in the app reads a path a visitor names.

``resolve_model``/``spec_for_folder`` enforce ``allowed_dirs`` (``LINEUP_MODEL_DIRS``). The app's
entry points take catalog ids only (the API, the page, replay records), the studio never reads a
file a spec names, and gradio's file route refuses paths outside its cache.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from playground.catalog import resolve_model, spec_for_folder
from playground.errors import PathNotAllowedError
from playground.sampling import SamplingOptions
from ui.playground_controller import Playground
from ui.playground_runner import ColumnSetup
from ui.settings import AppSettings
from ui.studio_sources import StudioInputError, load_start
from ui.studio_view import render_view


@pytest.fixture
def dirs(demo_dir, tmp_path):
    """An allowed folder holding one model, a model outside it, and a symlink from inside to outside."""
    allowed = tmp_path / "models"
    allowed.mkdir()
    shutil.copytree(demo_dir / "llama", allowed / "tiny")
    outside = tmp_path / "elsewhere"
    shutil.copytree(demo_dir / "llama", outside / "tiny")
    (allowed / "link-out").symlink_to(outside / "tiny")
    sibling = tmp_path / "models-evil"  # shares the allowed folder's name as a prefix
    shutil.copytree(demo_dir / "llama", sibling / "tiny")
    return allowed, outside, sibling, tmp_path


REFUSED = [
    ("outside-absolute", lambda a, o, s, t: str(o / "tiny")),
    ("dot-dot-escape", lambda a, o, s, t: str(a / ".." / "elsewhere" / "tiny")),
    ("relative-dot-dot", lambda a, o, s, t: os.path.relpath(o / "tiny")),
    ("symlink-out", lambda a, o, s, t: str(a / "link-out")),
    ("prefix-sibling", lambda a, o, s, t: str(s / "tiny")),
    ("etc", lambda a, o, s, t: "/etc"),
    ("root", lambda a, o, s, t: "/"),
    ("home-ssh", lambda a, o, s, t: "~/.ssh"),
    ("proc-self", lambda a, o, s, t: "/proc/self/cwd"),
]


@pytest.mark.parametrize("make", [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_paths_outside_the_model_dirs_are_refused(dirs, make):
    allowed, *_ = dirs
    path = make(*dirs)
    with pytest.raises(PathNotAllowedError, match="outside the allowed model directories"):
        resolve_model(path, [allowed])
    with pytest.raises(PathNotAllowedError):
        spec_for_folder(path, [allowed])


@pytest.mark.parametrize("make", [lambda a: a / "tiny", lambda a: a / "." / "tiny", lambda a: a / "sub" / ".." / "tiny"],
                         ids=["plain", "dot", "dot-dot-inside"])
def test_paths_inside_the_model_dirs_resolve(dirs, make):
    allowed, *_ = dirs
    (allowed / "sub").mkdir(exist_ok=True)
    spec = resolve_model(str(make(allowed)), [allowed])
    assert Path(spec.path) == (allowed / "tiny").resolve()


def test_no_configured_dirs_means_no_local_folders(dirs):
    allowed, *_ = dirs
    with pytest.raises(PathNotAllowedError, match=r"\(none configured\)"):
        resolve_model(str(allowed / "tiny"), [])


def test_the_app_setting_reads_lineup_model_dirs(monkeypatch, dirs):
    allowed, outside, *_ = dirs
    monkeypatch.setenv("LINEUP_MODEL_DIRS", os.pathsep.join([str(allowed), str(outside)]))
    assert AppSettings.from_env().model_dirs == (allowed, outside)
    monkeypatch.delenv("LINEUP_MODEL_DIRS")
    assert AppSettings.from_env().model_dirs == ()


def test_the_playground_refuses_folders_unless_configured(model_pool, dirs):
    """Even below the API's catalog-id check, a column naming a folder runs only inside LINEUP_MODEL_DIRS."""
    allowed, outside, *_ = dirs
    opts = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 4})
    unconfigured = Playground(pool=model_pool)  # the app without LINEUP_MODEL_DIRS
    assert unconfigured.allowed_dirs == []
    turn = list(unconfigured.run_turn("s", [ColumnSetup(str(allowed / "tiny")), ColumnSetup("demo-llama")], {}, "", "Hi", opts))[-1][0]
    assert "outside the allowed model directories: (none configured)" in turn.views[0].error
    assert turn.views[1].error is None
    configured = Playground(pool=model_pool, allowed_dirs=[allowed])
    turn = list(configured.run_turn("s", [ColumnSetup(str(outside / "tiny")), ColumnSetup(str(allowed / "tiny"))], {}, "", "Hi", opts))[-1][0]
    assert "outside the allowed model directories" in turn.views[0].error
    assert turn.views[1].error is None and turn.views[1].stop_reason in {"eos", "max_tokens", "stop_string"}


@pytest.mark.parametrize("choice", ["../../../etc/passwd", "/etc/passwd", "..", "memphis-cot-3b/../../secrets"])
def test_the_studio_start_picker_reads_only_its_examples(choice):
    with pytest.raises(StudioInputError, match="unknown example"):
        load_start(choice)


@pytest.mark.parametrize(("key", "value"), [("merge", {"config_file": "/etc/passwd"}),
                                            ("merge", {"config_file": "../../../../etc/passwd"}),
                                            ("training", {"stages": [{"name": "s", "hyperparameters_file": "/etc/hostname"}]}),
                                            ("benchmarks", {"columns": [{"id": "a", "label": "A"}],
                                                            "rows": [{"model": "m", "results_file": "/proc/self/environ"}]})],
                         ids=["merge-absolute", "merge-traversal", "hyperparameters-file", "results-file"])
def test_a_spec_in_the_studio_never_reads_the_files_it_names(key, value):
    view = render_view(json.dumps({"spec_version": 1, "model_name": "X", key: value}))
    assert view.readme is None
    assert any("names files that were not read" in f.problem for f in view.findings)
    assert "root:" not in repr(view)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/etc/passwd", "../../../../etc/passwd", "app.py", "{root}/app.py", "{root}/playground/models.yaml"],
                         ids=["etc-passwd", "traversal", "relative-app", "absolute-app", "catalog"])
def test_gradio_serves_no_file_outside_its_cache(app_url, path):
    root = str(Path(__file__).resolve().parent.parent)
    target = path.replace("{root}", root)
    try:
        with urllib.request.urlopen(f"{app_url}gradio_api/file={target}", timeout=10) as resp:
            body, status = resp.read(), resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    assert status in (403, 404), status
    assert b"root:" not in body and b"def build_demo" not in body and b"models:" not in body


def test_a_model_folder_with_a_hostile_config_is_refused_by_name(tmp_path):
    from playground.errors import CatalogError

    folder = tmp_path / "models" / "deep"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"config\.json is not valid JSON"):
        spec_for_folder(folder, [tmp_path / "models"])
