"""Uploads have size limits, and the files the app writes for downloads do not pile up in /tmp.

The app passes ``AppSettings.max_upload_bytes`` (5 MB) to gradio, which refuses larger uploads
before any handler runs; the studio and the replay import check sizes again. Download files (the
studio's README/spec on every edit, the Playground's exports after every turn) go to a bounded
folder that is removed at exit, and one left by a killed process is removed by the next start.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from ui.settings import AppSettings
from ui.studio_downloads import DownloadCache, sweep_stale

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize(("size", "accepted"), [(1024, True), (4 * 1024 * 1024, True), (5 * 1024 * 1024 + 1, False),
                                                (50 * 1024 * 1024, False)], ids=["1-kb", "4-mb", "5-mb-plus-1", "50-mb"])
def test_the_app_refuses_uploads_over_the_limit(app_url, size, accepted):
    assert AppSettings().max_upload_bytes == 5 * 1024 * 1024
    files = {"files": ("README.md", b"a" * size, "text/markdown")}
    resp = httpx.post(f"{app_url}gradio_api/upload", files=files, timeout=60)
    if accepted:
        assert resp.status_code == 200 and len(resp.json()) == 1
    else:
        assert resp.status_code == 413 and "File size exceeded maximum allowed size of 5242880 bytes" in resp.text


def test_download_files_are_bounded_and_content_addressed(tmp_path):
    cache = DownloadCache(max_entries=8, root=tmp_path / "dl")
    first = cache.write("card 0", "README.md")
    assert cache.write("card 0", "README.md") == first and Path(first).read_text(encoding="utf-8") == "card 0"
    paths = [cache.write(f"card {i}", "README.md") for i in range(1, 50)]
    assert len(cache) == 8 and len(list((tmp_path / "dl").iterdir())) == 8
    assert not Path(first).exists()  # the oldest went
    assert all(Path(p).exists() for p in paths[-8:])
    cache.cleanup()
    assert not (tmp_path / "dl").exists()


def test_every_studio_edit_reuses_the_bounded_folder():
    from ui.studio_tab import StudioTab

    tab = StudioTab(AppSettings())
    tab.downloads = DownloadCache(max_entries=16)
    for name in ("summary", "findings", "preview", "readme", "diff", "chart", "dl_readme", "dl_spec", "readme_state"):
        setattr(tab, name, name)
    for i in range(200):  # 200 keystrokes in the spec editor
        tab._views(f"spec_version: 1\nmodel_name: Model-{i}\n", None, False)
    root = tab.downloads.root
    assert len(list(root.iterdir())) <= 16
    tab.downloads.cleanup()
    assert not root.exists()


def test_playground_exports_reuse_the_bounded_folder(model_pool):
    from playground.sampling import SamplingOptions
    from ui.playground_controller import Playground
    from ui.playground_runner import ColumnSetup
    from ui.playground_tab import PlaygroundTab

    pg = Playground(pool=model_pool)
    opts = SamplingOptions.parse({"temperature": 0.0, "max_new_tokens": 4})
    turn = list(pg.run_turn("s", [ColumnSetup("demo-llama")], {}, "", "Hi", opts))[-1][0]
    tab = PlaygroundTab(pg, SimpleNamespace(export_json="json", export_md="md"), has_gpu=False)
    tab.exports_cache = DownloadCache(prefix="lineup-exports-", max_entries=10)
    for _ in range(40):  # forty turns
        out = tab.exports(turn)
    assert set(out) == {"json", "md"}
    assert len(list(tab.exports_cache.root.iterdir())) <= 10
    assert list(tab.exports_cache.root.glob("*/lineup-replay-*.json"))
    tab.exports_cache.cleanup()


def test_the_folder_goes_when_the_process_exits(tmp_path):
    script = "from ui.studio_downloads import DownloadCache; c = DownloadCache(); print(c.write('x', 'a.txt'))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    written = Path(proc.stdout.strip())
    assert proc.returncode == 0 and written.name == "a.txt"
    assert not written.exists() and not written.parent.parent.exists()


def test_a_folder_left_by_a_killed_process_is_swept_on_the_next_start(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    stale = tmp_path / f"lineup-studio-{dead.pid}-abc123"
    (stale / "x").mkdir(parents=True)
    (stale / "x" / "README.md").write_text("old", encoding="utf-8")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        kept = tmp_path / f"lineup-studio-{live.pid}-def456"
        kept.mkdir()
        other = tmp_path / "lineup-studio-notapid"
        other.mkdir()
        removed = sweep_stale("lineup-studio-", tmp_path)
        assert removed == [stale] and not stale.exists()
        assert kept.exists() and other.exists()  # a running app's folder, and folders it did not make, stay
    finally:
        live.kill()
        live.wait(timeout=30)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and kept.exists():  # the killed process is reaped: its folder goes too
        sweep_stale("lineup-studio-", tmp_path)
        time.sleep(0.05)
    assert not kept.exists()
