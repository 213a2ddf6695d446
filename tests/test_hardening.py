"""A public Space against a hostile visitor (issue 14): the key kept out of Gradio's state and deep
links, uploads and inputs bounded, the client's address from the socket, sessions bounded."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest
import requests
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from qwen_tts_showcase.ui.guard import RELAYED_PEER

from .conftest import close_client, free_port, simulator_settings, submit_generate, wait_until
from .helpers import event_stream

VISITOR_KEY = "sk-hardenedvisitor7a6b5c4d"
TEXT = "钥匙不留痕。The key leaves no trace."


@pytest.fixture(scope="module")
def launch_demo(simulator_server, catalogue) -> Iterator[Callable]:
    """A factory: the real app (as app.py launches it) with overrides; its demo, client and URL."""
    from gradio_client import Client

    from qwen_tts_showcase.ui import build_demo, launch_options

    launched = []

    def launch(**overrides: str):
        settings = simulator_settings(simulator_server, catalogue, **overrides)
        demo = build_demo(settings, catalogue)
        _, url, _ = demo.launch(
            server_name="127.0.0.1",
            server_port=free_port(),
            prevent_thread_lock=True,
            quiet=True,
            **launch_options(settings),
        )
        client = Client(url, verbose=False)
        launched.append((demo, client))
        return demo, client, url

    yield launch
    for demo, client in launched:
        close_client(client)
        demo.close()


@pytest.fixture(scope="module")
def hardened(launch_demo, simulator_server):
    simulator_server.keys[VISITOR_KEY] = "beijing"
    yield launch_demo()
    simulator_server.keys.pop(VISITOR_KEY, None)


def everything_gradio_keeps(demo) -> bytes:
    """Every session's state as Gradio would serialize it (deep links), and its State values."""
    holder = demo.server_app.state_holder
    kept = []
    for session in list(holder.session_data.values()):
        kept.append(orjson.dumps(list(session.components), default=str))
        kept.append(repr(session.state_data).encode())
    return b"\n".join(kept)


# --- item 3: the visitor's key ---------------------------------------------------------------------


def test_a_visitors_key_is_in_no_session_state_and_deep_links_are_closed(hardened, simulator):
    demo, client, url = hardened
    job = submit_generate(client, TEXT, api_key=VISITOR_KEY)
    job.result()
    assert simulator.generation_requests()[-1].headers["authorization"] == f"Bearer {VISITOR_KEY}"
    session = client.session_hash
    assert session in demo.server_app.state_holder, "the session's state exists"
    assert TEXT.encode() in everything_gradio_keeps(demo), "the state was searched"
    assert VISITOR_KEY.encode() not in everything_gradio_keeps(demo)

    link = requests.get(f"{url}gradio_api/deep_link", params={"session_hash": session}, timeout=10)
    assert link.status_code == 404 and VISITOR_KEY not in link.text
    uploads = Path(demo.server_app.uploaded_file_dir)
    assert not (uploads / "deep_links").exists(), "no deep link was written"


def test_a_deep_link_file_is_never_loaded_into_the_page(hardened):
    demo, _, url = hardened
    link = uuid.uuid4().hex
    planted = Path(demo.server_app.uploaded_file_dir) / "deep_links" / link
    planted.mkdir(parents=True)
    marker = "planted-deep-link-value"
    components = [{"id": 1, "type": "textbox", "props": {"value": marker}}]
    (planted / "state.json").write_bytes(orjson.dumps(components))
    page = requests.get(url, params={"deep_link": link}, timeout=10)
    assert page.status_code == 200 and marker not in page.text
    assert '"deep_link_state":"none"' in page.text.replace(" ", "")


# --- item 4: uploads --------------------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_and_not_kept(hardened):
    demo, _, url = hardened
    uploads = Path(os.environ["GRADIO_TEMP_DIR"])
    big = b"text,voice\n" + b"a,Cherry\n" * 400_000  # 3.6 MB, over the 2 MB limit
    response = requests.post(
        f"{url}gradio_api/upload", files={"files": ("big.csv", big, "text/csv")}, timeout=30
    )
    assert response.status_code == 413, response.text[:200]
    kept = [p for p in uploads.rglob("*") if p.is_file() and p.stat().st_size >= 2_000_000]
    assert kept == []
    small = requests.post(
        f"{url}gradio_api/upload", files={"files": ("ok.csv", big[:1000], "text/csv")}, timeout=30
    )
    assert small.status_code == 200


def test_many_files_under_the_limit_cannot_add_up_in_one_upload(hardened):
    demo, _, url = hardened
    uploads = Path(os.environ["GRADIO_TEMP_DIR"])
    before = {p for p in uploads.rglob("*") if p.is_file()}
    part = b"text,voice\n" + b"b,Cherry\n" * 150_000  # 1.35 MB each, under the 2 MB per file
    files = [("files", (f"part{n}.csv", part, "text/csv")) for n in range(4)]
    response = requests.post(f"{url}gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 413
    added = {p for p in uploads.rglob("*") if p.is_file()} - before
    assert not [p for p in added if p.stat().st_size > 1_000_000]


def test_an_upload_of_undeclared_length_is_refused_before_anything_is_written(hardened):
    _, _, url = hardened
    uploads = Path(os.environ["GRADIO_TEMP_DIR"])
    before = {p for p in uploads.rglob("*") if p.is_file()}

    def chunked() -> Iterator[bytes]:  # no Content-Length: the size is known only at the end
        for number in range(4):  # 1.3 MB each: under the limit per file, over it in all
            yield b'--B\r\nContent-Disposition: form-data; name="files"; '
            yield b'filename="part%d.csv"\r\n\r\n' % number
            for _ in range(13):
                yield b"y" * 100_000
            yield b"\r\n"
        yield b"--B--\r\n"

    headers = {"content-type": "multipart/form-data; boundary=B"}
    try:
        response = requests.post(
            f"{url}gradio_api/upload", data=chunked(), headers=headers, timeout=30
        )
        assert response.status_code == 411
    except requests.ConnectionError:
        pass  # refused before the client finished sending
    added = {p for p in uploads.rglob("*") if p.is_file()} - before
    assert added == set()


def test_a_file_input_given_by_url_is_refused_not_downloaded(hardened):
    _, client, url = hardened
    remote = {"path": "https://example.com/huge.csv", "meta": {"_type": "gradio.FileData"}}
    info = requests.get(f"{url}config", timeout=10).json()
    (load,) = [d for d in info["dependencies"] if d["targets"] and d["targets"][0][1] == "upload"]
    body = {"data": [remote], "fn_index": load["id"], "session_hash": client.session_hash}
    response = requests.post(f"{url}gradio_api/queue/join", json=body, timeout=30)
    assert response.status_code == 413


# --- item 11: inputs bounded before Gradio reads, logs or echoes them --------------------------------


def test_a_huge_input_is_refused_in_a_few_words_without_being_echoed_or_logged(hardened, capfd):
    _, _, url = hardened
    capfd.readouterr()
    huge = "Z" * 2_000_000
    data = [TEXT, "qwen3-tts-flash", "Cherry", huge, "", "beijing", "", True]
    response = requests.post(f"{url}gradio_api/call/generate", json={"data": data}, timeout=30)
    assert response.status_code == 413 and len(response.content) < 200
    long_value = (
        "Z" * 20_000
    )  # also refused: no input of the page needs more than twice the text cap
    data[3] = long_value
    response = requests.post(f"{url}gradio_api/call/generate", json={"data": data}, timeout=30)
    assert response.status_code == 413 and "ZZZZ" not in response.text
    out, err = capfd.readouterr()
    assert "Z" * 1000 not in out + err, "the value reached the log"


def test_a_body_too_large_is_refused_unread(hardened):
    _, _, url = hardened
    response = requests.post(
        f"{url}gradio_api/call/generate",
        data=b'{"data": ["' + b"a" * 5_000_000 + b'"]}',
        headers={"content-type": "text/plain"},  # FastAPI would parse it as JSON all the same
        timeout=30,
    )
    assert response.status_code == 413


# --- item 7: the client's address is the socket's ---------------------------------------------------


def synthesize_as(url: str, headers: dict[str, str]) -> str:
    """Run /synthesize with these headers; what the event streamed."""
    return event_stream(url, "synthesize", [TEXT, "Cherry", "qwen-tts-latest"], headers)


def test_a_forwarded_for_header_cannot_choose_the_address_without_trusted_proxies(launch_demo):
    _, _, url = launch_demo(SHOWCASE_IP_REQUESTS="1")
    assert "event: complete" in synthesize_as(url, {"X-Forwarded-For": "203.0.113.1"})
    refused = synthesize_as(url, {"X-Forwarded-For": "203.0.113.2"})
    assert "event: error" in refused and "Your network address has started 1" in refused
    forged = {RELAYED_PEER.decode(): "198.51.100.9 0000", "X-Forwarded-For": "203.0.113.3"}
    assert "Your network address has started 1" in synthesize_as(url, forged)


def call_tool_as(url: str, headers: dict[str, str]) -> object:
    arguments = {"text": TEXT, "voice": "Cherry", "model": "qwen-tts-latest"}

    async def run() -> object:
        async with httpx.AsyncClient(headers=headers, timeout=60) as http:
            async with streamable_http_client(url + "gradio_api/mcp/", http_client=http) as (
                read,
                write,
                _,
            ):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await session.call_tool("synthesize", arguments)

    return asyncio.run(run())


def test_the_mcp_tool_counts_the_callers_address_not_a_forwarded_one(launch_demo, simulator):
    _, _, url = launch_demo(SHOWCASE_IP_REQUESTS="1")
    first = call_tool_as(url, {"X-Forwarded-For": "203.0.113.1"})
    assert not first.isError
    second = call_tool_as(url, {"X-Forwarded-For": "203.0.113.2"})
    assert second.isError and "Your network address has started 1" in second.content[0].text
    assert len(simulator.generation_requests()) == 1


# --- item 9: sessions bounded ------------------------------------------------------------------------


def test_sessions_kept_are_capped_and_idle_ones_forgotten(launch_demo, simulator):
    demo, _, url = launch_demo(SHOWCASE_MAX_SESSIONS="20", SHOWCASE_SESSION_IDLE_S="2")
    holder = demo.server_app.state_holder
    for _ in range(60):  # each REST call is a session of its own
        assert "event: complete" in synthesize_as(url, {})
        assert len(holder.session_data) <= 20
    assert len(holder.session_data) >= 10, "sessions were opened"
    wait_until(
        lambda: requests.get(url + "config", timeout=10).ok and not holder.session_data,
        "idle sessions to be forgotten",
    )


# --- the Disk target: one visitor driven as hard as it can, against the app's folders ------------


def folders_bytes(*folders: Path) -> int:
    return sum(
        path.stat().st_size
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*")
        if path.is_file()
    )


def test_a_visitor_driven_as_hard_as_it_can_grows_the_apps_disk_by_at_most_its_share(
    launch_demo, tmp_path
):
    """Four threads from one address, for half a window, synthesize new texts and upload files as
    fast as the app answers; the cache, the downloads and Gradio's files grow by at most the
    share, though everything asked for would be many times it."""
    from qwen_tts_showcase.downloads import downloads_dir

    share_mb, window_s = 4, 8.0
    demo, _, url = launch_demo(
        SHOWCASE_VISITOR_DISK_MB=str(share_mb),
        SHOWCASE_VISITOR_DISK_WINDOW_S=str(window_s),
        SHOWCASE_CACHE_MAX_MB="50",
        SHOWCASE_CACHE_DIR=str(tmp_path / "cache"),
    )
    folders = (tmp_path / "cache", downloads_dir(), Path(os.environ["GRADIO_TEMP_DIR"]))
    before = folders_bytes(*folders)
    made, uploaded, refused = [], [], []
    # Half a window: the share slides (each write counts for a window from when it landed), so
    # everything this drive writes lands while its first writes still count.
    stop = time.monotonic() + window_s / 2

    def drive(worker: int) -> None:
        number = 0
        while time.monotonic() < stop:
            number += 1
            text = f"Disk drive {worker}-{number}: hello there, friend."
            streamed = event_stream(url, "synthesize", [text, "Cherry", "qwen-tts-latest"])
            (made if "event: complete" in streamed else refused).append(text)
            upload = os.urandom(400_000)  # incompressible, unlike any earlier upload
            response = requests.post(
                f"{url}gradio_api/upload",
                files={"files": (f"w{worker}-{number}.csv", upload, "text/csv")},
                timeout=30,
            )
            (uploaded if response.status_code == 200 else refused).append(response.status_code)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(drive, range(4)))
    grown = folders_bytes(*folders) - before
    assert made and uploaded and refused, (len(made), len(uploaded), len(refused))
    assert 429 in refused, "an upload past the share is refused"
    assert grown <= share_mb * 1024 * 1024, f"{grown} bytes in one window"


def test_the_batch_reads_an_upload_in_one_bounded_piece_and_refuses_a_large_one(
    synthesizer, tmp_path
):
    import tracemalloc

    import gradio as gr

    from qwen_tts_showcase.ui.batch import BatchHandlers

    huge = tmp_path / "huge.csv"
    with huge.open("wb") as file:
        file.write(b"text,voice\n" + b"a,Cherry\n" * 1000)
        file.truncate(200 * 1024 * 1024)  # 200 MB on paper, hardly any on disk
    handlers = BatchHandlers(synthesizer, None)
    tracemalloc.start()
    try:
        with pytest.raises(gr.Error) as refused:
            handlers.load(str(huge), None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 2 MB" in str(refused.value.message)
    assert peak < 10 * 1024 * 1024, f"{peak} bytes held to read it"
    small = tmp_path / "small.csv"
    small.write_bytes("text,voice\n你好。,Cherry\n".encode())
    table = handlers.load(str(small), None)
    assert list(table["text"]) == ["你好。"]
