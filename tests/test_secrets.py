"""Secrets stay secret: neither the owner's key nor a visitor's own key shows up anywhere else."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dashscope
import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError

from qwen_tts_showcase.config import Settings
from qwen_tts_showcase.synthesis import Synthesizer

from .conftest import simulator_settings, submit_generate

OWNER_KEY = "sk-ownersecret0a1b2c3d4e5f"
VISITOR_KEY = "sk-visitorsecret9f8e7d6c5b"
KEYS = (OWNER_KEY, VISITOR_KEY)
TEXT = "秘密不外泄。Secrets stay secret."
# Failures that exercise every error path of the client: refused, dropped, cut, unreadable, slow.
FAULTS = [
    "invalid_key",
    "drop_connection",
    "bad_gateway_html",
    "malformed_sse",
    "missing_output",
    "cut_stream",
    "drop_midstream",
    "hang",
    "data_inspection_midstream",
    "throttling",
]
PAGES = [
    "",
    "config",
    "gradio_api/info",
    "gradio_api/info?all_endpoints=true",
    "gradio_api/openapi.json",
    "gradio_api/mcp/schema",
]


@pytest.fixture(scope="module")
def secret_app(simulator_server, launch_app, tmp_path_factory):
    """The app with the owner's key and a cache, both keys accepted by the simulator."""
    simulator_server.keys.update({OWNER_KEY: "beijing", VISITOR_KEY: "beijing"})
    cache = tmp_path_factory.mktemp("secret-cache")
    client, url = launch_app(
        DASHSCOPE_API_KEY=OWNER_KEY, SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(cache)
    )
    yield client, url, cache
    for key in KEYS:
        simulator_server.keys.pop(key, None)


@pytest.fixture
def everything_logged(caplog):
    """Every log record at DEBUG, the SDK's own logger included."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="dashscope")
    return caplog


def generate(client: Client, text: str = TEXT, api_key: str = "", streaming: bool = True):
    job = submit_generate(client, text, api_key=api_key, streaming=streaming)
    return list(job), job.result()


def run_everything(client: Client, simulator) -> list[str]:
    """Successes and failures with both keys; the error messages the visitor read."""
    messages = []
    for number, key in enumerate(KEYS):
        generate(client, f"{TEXT} {number}", api_key=key if key == VISITOR_KEY else "")
        generate(client, f"{TEXT} {number}", api_key=key if key == VISITOR_KEY else "")  # cached
        generate(
            client,
            f"{TEXT} {number} off",
            api_key=key if key == VISITOR_KEY else "",
            streaming=False,
        )
        for fault in FAULTS:
            simulator.enqueue_fault(fault, after_chunks=1, delay_s=5, times=6)  # outlasts retries
            try:
                generate(client, f"{TEXT} {fault}", api_key=key if key == VISITOR_KEY else "")
            except AppError as err:
                messages.append(str(err))
            simulator.clear()
    return messages


def assert_no_key_in(text: str, where: str) -> None:
    for key in KEYS:
        assert key not in text, f"a key leaked into {where}"


def test_no_key_appears_in_messages_logs_or_files_after_successes_and_failures(
    secret_app, simulator, everything_logged, capfd
):
    client, _, cache = secret_app
    messages = run_everything(client, simulator)
    client.predict(TEXT + " api", "Cherry", "qwen-tts-latest", api_name="/synthesize")

    assert len(messages) == 2 * len(FAULTS), "every fault reached the visitor as a message"
    for message in messages:
        assert_no_key_in(message, "an error message")

    records = everything_logged.records
    assert any(r.name.startswith("dashscope") for r in records), "the SDK's logger was captured"
    for record in records:
        assert_no_key_in(record.getMessage() + (record.exc_text or ""), f"log {record.name}")
    assert_no_key_in(everything_logged.text, "the log")
    out, err = capfd.readouterr()
    assert_no_key_in(out + err, "stdout/stderr")

    files = [
        path
        for root in (cache, Path(os.environ["TMPDIR"]))
        for path in root.rglob("*")
        if path.is_file()
    ]
    assert any(path.suffix == ".wav" for path in cache.rglob("*")), "the cache was written"
    assert any("gradio" in path.parts for path in files), "Gradio's temp files were searched"
    for path in files:
        assert_no_key_in(path.read_bytes().decode("latin-1"), str(path))


def test_no_key_appears_in_the_page_its_config_or_the_api_description(secret_app, simulator):
    client, url, _ = secret_app
    generate(client, api_key=VISITOR_KEY)
    for path in PAGES:
        response = requests.get(url + path, timeout=10)
        assert response.status_code == 200, path
        assert_no_key_in(response.text, f"/{path}")


def test_a_visitors_own_key_is_used_for_that_visitor_only_and_not_remembered(
    secret_app, simulator, new_client
):
    client, url, _ = secret_app
    generate(client, TEXT + " mine", api_key=VISITOR_KEY)
    generate(new_client(url), TEXT + " theirs")
    generate(client, TEXT + " mine again")  # the same visitor, the field now empty
    sent = [r.headers["authorization"] for r in simulator.generation_requests()]
    assert sent == [f"Bearer {VISITOR_KEY}", f"Bearer {OWNER_KEY}", f"Bearer {OWNER_KEY}"]
    assert dashscope.api_key in (None, ""), "no key is ever put in the SDK's process-wide slot"


def test_settings_and_connections_never_print_their_key(simulator, catalogue):
    settings = simulator_settings(simulator, catalogue, DASHSCOPE_API_KEY=OWNER_KEY)
    connection = Synthesizer(catalogue, settings).route("beijing", VISITOR_KEY)
    for shown in (repr(settings), str(settings), repr(connection), repr(Settings())):
        assert_no_key_in(shown, "a repr")
