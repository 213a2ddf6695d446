"""Shared fixtures: one DashScope simulator per run, and the real app launched against it."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.client import Job

from bench.services import free_port
from dashscope_sim import DashScopeSimulator
from qwen_tts_showcase.audio import SAMPLE_RATE_HZ, ensure_ffmpeg
from qwen_tts_showcase.catalogue import Catalogue, load_catalogue
from qwen_tts_showcase.config import Settings
from qwen_tts_showcase.synthesis import Synthesizer

BEIJING_KEY = "sk-sim-beijing"
SINGAPORE_KEY = "sk-sim-singapore"
RETRIES = 2  # the apps under test retry twice, quickly
# The realtime models' controls as the Studio opens with them (rate, pitch, volume, sample
# rate, format, speak as written): the last inputs of the Generate event.
REALTIME_DEFAULTS = (1.0, 1.0, 50, 24000, "pcm", False)
WAIT_LIMIT_S = 60  # a bound on polling, never an assertion about speed

# Files the app and gradio_client write stay under one folder of this run, not in /tmp (set at
# import, before gradio reads it); remove_run_tmp removes the folder when the run ends.
_RUN_TMP = Path(tempfile.mkdtemp(prefix="qwen-tts-tests-"))
os.environ["TMPDIR"] = str(_RUN_TMP)
os.environ["GRADIO_TEMP_DIR"] = str(_RUN_TMP / "gradio")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
tempfile.tempdir = None  # re-read TMPDIR


def decode_mp3(data: bytes) -> bytes:
    """The PCM an MP3 decodes to, at the API's rate, with the same ffmpeg the app uses."""
    command = [
        ensure_ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "pipe:0",
        "-f",
        "s16le",
        "-ar",
        str(SAMPLE_RATE_HZ),
        "-ac",
        "1",
        "pipe:1",
    ]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def wait_until(condition, what: str, jobs: list[Future] = ()) -> None:
    """Poll for a condition; a job that ended meanwhile fails the wait with its own error."""
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not condition():
        for job in jobs:
            if job.done():
                job.result()  # raises the job's error; a finished job means the wait is wrong
                pytest.fail(f"a job finished while waiting for {what}")
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.fixture(scope="session", autouse=True)
def remove_run_tmp() -> Iterator[None]:
    """The run's temporary folder (pytest's tmp_path folders included) goes when the run ends."""
    yield
    shutil.rmtree(_RUN_TMP, ignore_errors=True)


def close_client(client: Client) -> None:
    """Stop a gradio_client Client's heartbeat and threads; it has no close of its own for those."""
    client.close()
    for executor in (client.executor, client.helper_executor, client.stream_executor):
        executor.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def new_client() -> Iterator[Callable[..., Client]]:
    """A factory: a gradio_client Client for a URL (options as Client's), closed after the test."""
    clients: list[Client] = []

    def new(url: str, **options) -> Client:
        clients.append(Client(url, verbose=False, **options))
        return clients[-1]

    yield new
    for client in clients:
        close_client(client)


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may use a real key or reach the real DashScope."""
    for name in (
        "DASHSCOPE_API_KEY",
        "DASHSCOPE_HTTP_BASE_URL",
        "DASHSCOPE_INTL_HTTP_BASE_URL",
        "DASHSCOPE_REALTIME_URL",
        "DASHSCOPE_INTL_REALTIME_URL",
        "DASHSCOPE_TASK_URL",
        "DASHSCOPE_INTL_TASK_URL",
        "DASHSCOPE_REGION",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[DashScopeSimulator]:
    with DashScopeSimulator() as simulator:
        yield simulator


@pytest.fixture
def simulator(simulator_server: DashScopeSimulator) -> Iterator[DashScopeSimulator]:
    """The run's simulator, emptied before the test and checked for handler errors after."""
    simulator_server.clear()
    yield simulator_server
    simulator_server.check_handler_errors()


def simulator_settings(
    simulator: DashScopeSimulator, catalogue: Catalogue, **overrides
) -> Settings:
    """Settings that send both regions to the simulator, with the Beijing key by default."""
    env = {
        **simulator.app_env(BEIJING_KEY),
        "SHOWCASE_READ_TIMEOUT_S": "2",
        "SHOWCASE_TOTAL_TIMEOUT_S": "20",
        "SHOWCASE_DOWNLOAD_TIMEOUT_S": "2",
        "SHOWCASE_MAX_RETRIES": str(RETRIES),
        "SHOWCASE_RETRY_BASE_S": "0.01",
        "SHOWCASE_CACHE_MAX_MB": "0",  # off unless a test is about the cache: each call hits the API
        "SHOWCASE_CACHE_DIR": tempfile.mkdtemp(prefix="cache-"),
        # quotas off unless a test is about them: one test client makes many requests
        "SHOWCASE_VISITOR_REQUESTS": "0",
        "SHOWCASE_IP_REQUESTS": "0",
        "SHOWCASE_VISITOR_DISK_MB": "0",
        "SHOWCASE_DAILY_CHAR_BUDGET": "0",
        "SHOWCASE_VISITOR_DAILY_CHARS": "0",
        "SHOWCASE_IP_DAILY_CHARS": "0",
    }
    env.update(overrides)
    return Settings.from_env(catalogue, env)


def submit_generate(
    client: Client,
    text: str,
    *,
    model: str = "qwen-tts-latest",
    voice: str = "Cherry",
    language: str = "Auto",
    instructions: str = "",
    region: str = "beijing",
    api_key: str = "",
    streaming: bool = True,
    controls: tuple = REALTIME_DEFAULTS,
) -> Job:
    """Submit the page's Generate event with the inputs the page sends."""
    return client.submit(
        text,
        model,
        voice,
        language,
        instructions,
        region,
        api_key,
        streaming,
        *controls,
        api_name="/generate",
    )


@pytest.fixture
def synthesizer(simulator: DashScopeSimulator, catalogue: Catalogue) -> Synthesizer:
    """A Synthesizer that sends both regions to the simulator, with the Beijing key."""
    return Synthesizer(catalogue, simulator_settings(simulator, catalogue))


@pytest.fixture(scope="module")
def launch_app(simulator_server: DashScopeSimulator, catalogue: Catalogue):
    """A factory: launch the real app with simulator settings (plus overrides), get a client.

    Launched as app.py launches it, what exists by then set aside from the cycle collector: the
    app serves from this process, and a full collection of everything the run has built so far
    (hundreds of ms late in a run) would stall its streams, so that a browser test heard a
    gap no visitor of app.py would. Given back to the collector when the module is done."""
    from qwen_tts_showcase.collector import set_aside_startup_objects
    from qwen_tts_showcase.ui import build_demo, launch_options

    demos, clients = [], []

    def launch(**overrides: str) -> tuple[Client, str]:
        settings = simulator_settings(simulator_server, catalogue, **overrides)
        demo = build_demo(settings, catalogue)
        _, url, _ = demo.launch(
            server_name="127.0.0.1",
            server_port=free_port(),
            prevent_thread_lock=True,
            quiet=True,
            **launch_options(settings),
        )
        demos.append(demo)
        clients.append(Client(url, verbose=False))
        set_aside_startup_objects()
        return clients[-1], url

    yield launch
    for client in clients:
        close_client(client)
    for demo in demos:
        demo.close()
    gc.unfreeze()  # what the module left behind can be collected again


@pytest.fixture(scope="module")
def app(launch_app: Callable) -> tuple[Client, str]:
    """The app with the server's Beijing key, pointed at the simulator."""
    return launch_app()
