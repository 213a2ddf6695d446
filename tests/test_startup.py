"""The two README commands' promises: the app starts anywhere, even offline and without ffmpeg."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import imageio_ffmpeg
import pytest

from qwen_tts_showcase.audio import ensure_ffmpeg

from .conftest import free_port

ROOT = Path(__file__).resolve().parent.parent

# Runs inside a network namespace that has nothing but loopback: any fetch at start-up fails.
OFFLINE_START = textwrap.dedent(
    """
    import json, os, subprocess, sys, time, urllib.request
    port = os.environ["GRADIO_SERVER_PORT"]
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    app = subprocess.Popen([sys.executable, "app.py"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=1) as reply:
                    print(json.dumps({"status": reply.status, "config": reply.read().decode()}))
                    break
            except OSError:
                if app.poll() is not None:
                    print(json.dumps({"status": "exited", "log": app.stdout.read()}))
                    break
                time.sleep(0.2)
    finally:
        app.kill()
    """
)


@pytest.mark.skipif(not shutil.which("unshare") or not shutil.which("ip"), reason="needs unshare")
def test_app_py_starts_offline_without_key_or_ffmpeg_on_the_port_from_the_environment(tmp_path):
    python_dir = str(Path(sys.executable).parent)
    env = {
        "PATH": os.pathsep.join([python_dir, "/usr/sbin", "/usr/bin", "/sbin", "/bin"]),
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(free_port()),
    }
    if any(Path(d, "ffmpeg").exists() for d in env["PATH"].split(os.pathsep)):
        pytest.skip("a system ffmpeg is on the minimal PATH")
    result = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", OFFLINE_START],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "Operation not permitted" in result.stderr:
        pytest.skip("network namespaces are not permitted here")
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["status"] == 200, reply
    assert "No DashScope API key on this server" in reply["config"]  # the page says so


# app.py as `python app.py` runs it, told to stop where it would start serving forever.
STARTUP_TO_SERVING = textwrap.dedent(
    """
    import gc, json, runpy
    import gradio

    def report(demo):
        print(json.dumps({"frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())}))
        demo.close()

    gradio.Blocks.block_thread = report
    runpy.run_path("app.py", run_name="__main__")
    """
)


def test_app_py_sets_the_built_page_and_server_aside_from_the_cycle_collector(tmp_path):
    env = {
        **os.environ,
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
        "GRADIO_SERVER_PORT": str(free_port()),
        "SHOWCASE_CACHE_DIR": str(tmp_path / "cache"),
        "DASHSCOPE_API_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_TO_SERVING],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    counts = next(json.loads(line) for line in result.stdout.splitlines() if line.startswith("{"))
    # Serving, a full collection walks only what came after: a small part of what start-up made.
    assert counts["frozen"] > 100_000, counts
    assert counts["tracked"] * 10 < counts["frozen"], counts


def test_without_a_system_ffmpeg_the_pip_one_is_put_on_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no ffmpeg anywhere
    found = ensure_ffmpeg()
    assert shutil.which("ffmpeg") == found
    version = subprocess.run([found, "-version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("ffmpeg version")


def test_the_pip_ffmpeg_is_linked_from_a_private_directory_nobody_could_plant(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))
    planted_dir = Path(tempfile.gettempdir()) / f"qwen-tts-showcase-ffmpeg-{os.getuid()}"
    planted_dir.mkdir(exist_ok=True)  # where an earlier version looked: predictable, shared
    planted = planted_dir / "ffmpeg"
    planted.write_text("#!/bin/sh\necho planted\n")
    planted.chmod(0o755)
    try:
        found = Path(ensure_ffmpeg())
    finally:
        shutil.rmtree(planted_dir)
    try:
        assert found.parent != planted_dir
        assert stat.S_IMODE(found.parent.stat().st_mode) == 0o700
        assert found.parent.stat().st_uid == os.getuid()
        assert found.resolve() == Path(imageio_ffmpeg.get_ffmpeg_exe()).resolve()
    finally:
        shutil.rmtree(found.parent, ignore_errors=True)
