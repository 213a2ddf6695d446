"""A folder kept under a size: the least recently modified files go first.

Gradio keeps its own copies of uploads and of every file it serves in its temporary folder, and
removes them only by age (`delete_cache`); with many visitors at once that folder could grow
without a bound in between. A sweep on a daemon thread keeps it under the settings' size.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def bound_folder(root: Path, max_bytes: int) -> int:
    """Remove the least recently modified files under root until it holds at most max_bytes;
    the bytes removed. Folders left empty go too."""
    files = []
    for path in root.rglob("*"):
        try:
            if path.is_file():
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        except FileNotFoundError:  # removed meanwhile
            continue
    total = sum(size for _, size, _ in files)
    removed = 0
    for _, size, path in sorted(files, key=lambda file: file[0]):
        if total - removed <= max_bytes:
            break
        path.unlink(missing_ok=True)
        removed += size
        _remove_empty_parents(path.parent, root)
    return removed


def keep_bounded(root: Callable[[], Path], max_bytes: int, interval_s: float) -> threading.Thread:
    """Bound the folder now, then every interval, on a daemon thread."""

    def run() -> None:
        while True:
            try:
                folder = root()
                if folder.is_dir():
                    bound_folder(folder, max_bytes)
            except Exception:  # a sweep must never end the thread
                log.exception("bounding %s failed", root)
            time.sleep(interval_s)

    thread = threading.Thread(target=run, name="bounded-folder", daemon=True)
    thread.start()
    return thread


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty, or gone
            return
        folder = folder.parent
