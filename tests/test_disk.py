"""Gradio's own folder stays under its size: the least recently modified files go first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from qwen_tts_showcase.disk import bound_folder

from .conftest import WAIT_LIMIT_S, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
KB = 1024


def fill(root: Path, name: str, size: int, age_s: float) -> Path:
    """A file of `size` bytes in a folder of its own, as Gradio keeps them, `age_s` old."""
    path = root / name / "file.bin"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * size)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def folder_size(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def test_the_oldest_files_go_until_the_folder_fits(tmp_path):
    old, middle, new = (
        fill(tmp_path, name, 400 * KB, age)
        for name, age in (("old", 300), ("middle", 200), ("new", 100))
    )
    assert bound_folder(tmp_path, 900 * KB) == 400 * KB
    assert not old.exists() and not old.parent.exists(), "its emptied folder goes too"
    assert middle.exists() and new.exists()
    assert bound_folder(tmp_path, 900 * KB) == 0, "a folder within its size is left alone"


def test_the_running_app_keeps_gradios_folder_under_its_setting(tmp_path):
    gradio_dir = tmp_path / "gradio"
    for number in range(6):
        fill(gradio_dir, f"upload-{number}", 500 * KB, age_s=60 + number)
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_TEMP_DIR": str(gradio_dir),
        "GRADIO_SERVER_PORT": str(port),
        "SHOWCASE_GRADIO_FILES_MAX_MB": "1",
        "SHOWCASE_CACHE_DIR": str(tmp_path / "cache"),
        "DASHSCOPE_API_KEY": "",
    }
    app = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: folder_size(gradio_dir) <= 1024 * KB, "Gradio's folder to be bounded")
        assert app.poll() is None, "the app is still running"
    finally:
        app.kill()
        app.wait(timeout=WAIT_LIMIT_S)
