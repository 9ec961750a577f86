"""A bounded folder of files offered for download (no gradio): old files are deleted, the folder goes at exit.

The studio re-renders on every edit and offers the README and the spec for download each time; the
Playground writes a replay record and a report after every turn. Written naively, each edit or turn
leaves a file in /tmp forever, and a public Space fills its disk. Gradio copies a returned file into
its own cache as soon as the handler returns, so only the most recent files need to stay here.
The folder is removed at exit; one left by a killed process is removed by the next start.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from pathlib import Path

MAX_ENTRIES = 256  # files kept; far more than can be between a handler's return and gradio's copy


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale(prefix: str, folder: Path | None = None) -> list[Path]:
    """Delete download folders left by processes that are gone (killed before their exit clean-up ran).

    Args:
        prefix: the folder-name prefix ('lineup-studio-'); folders are named PREFIX + PID + '-' + random.
        folder: where to look (default: the temp directory).

    Returns:
        The folders deleted.
    """
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{prefix}*"):
        pid_text = path.name[len(prefix):].split("-", 1)[0]
        if path.is_dir() and pid_text.isdigit() and int(pid_text) != os.getpid() and not _alive(int(pid_text)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


class DownloadCache:
    """Content-addressed files in a private temp folder, at most ``max_entries`` of them.

    Args:
        prefix: the temp folder's name prefix.
        max_entries: how many files to keep; writing one more deletes the least recently written.
        root: a folder to use instead of a fresh temp folder (tests).
    """

    def __init__(self, prefix: str = "lineup-studio-", max_entries: int = MAX_ENTRIES, root: Path | None = None):
        if root is None:
            sweep_stale(prefix)
            root = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_entries = max(1, max_entries)
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Path] = OrderedDict()
        # removes the folder when the cache is garbage-collected or the interpreter exits
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def write(self, text: str, name: str) -> str:
        """Write text as a file called name (one folder per content); returns its path.

        Args:
            text: the file's content.
            name: the file name the browser saves it under.

        Returns:
            The path of the file (the same path for the same content and name).
        """
        data = text.encode("utf-8", "replace")
        key = hashlib.sha256(name.encode("utf-8", "replace") + b"\0" + data).hexdigest()[:24]
        with self._lock:
            folder = self.root / key
            path = folder / name
            if key in self._entries and path.exists():
                self._entries.move_to_end(key)
                return str(path)
            folder.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self._entries[key] = folder
            while len(self._entries) > self.max_entries:
                _, old = self._entries.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)
        return str(path)

    def __len__(self) -> int:
        """How many files are kept."""
        with self._lock:
            return len(self._entries)

    def cleanup(self) -> None:
        """Delete the folder and everything in it (also done at exit)."""
        with self._lock:
            self._entries.clear()
        self._finalizer()
