"""Helpers more than one test file uses (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import requests
from gradio_client import Client

from qwen_tts_showcase import errors
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import Synthesizer
from qwen_tts_showcase.voice_maker import VoiceMaker

from .conftest import WAIT_LIMIT_S, simulator_settings, submit_generate

TEXT = "今儿个天儿不错，咱们出去遛遛弯儿吧。Nice weather today!"
DATA = Path(__file__).parent / "data"
# Strings the page's counter and the server must measure alike, with the numbers both must give:
# {"why", "text", "characters", "tokens"}. Escapes keep the invisible characters visible here.
HARD_STRINGS_JSON = (DATA / "hard_strings.json").read_text(encoding="utf-8")
HARD_STRINGS: list[dict] = json.loads(HARD_STRINGS_JSON)


def assert_wav_is(path: str, pcm: bytes) -> None:
    """The file at path is a 24 kHz mono 16-bit WAV holding exactly these samples."""
    with wave.open(path, "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            24_000,
            1,
            2,
        )
        assert reader.readframes(reader.getnframes()) == pcm


def generate(
    client: Client,
    text: str = TEXT,
    model: str = "qwen-tts-latest",
    voice: str = "Dylan",
    region: str = "beijing",
    api_key: str = "",
    streaming: bool = True,
    language: str = "Auto",
    instructions: str = "",
) -> tuple[list, tuple]:
    """Run the page's Generate event; the outputs seen while streaming, and the last ones: the
    live audio, the file, the numbers (the lit words of Qwen-Audio are tests/test_realtime.py's)."""
    job = submit_generate(
        client,
        text,
        model=model,
        voice=voice,
        language=language,
        instructions=instructions,
        region=region,
        api_key=api_key,
        streaming=streaming,
    )
    seen = list(job)
    return seen, job.result()[:3]


# What each fault the simulator can play becomes in the dashscope client (a first attempt that
# fails, and how often): fault, times, error class, words the visitor must read.
SDK_FAULTS = [
    ("invalid_key", 1, errors.InvalidKeyError, "region"),
    ("access_denied", 1, errors.AccessDeniedError, "not allowed"),
    ("arrearage", 1, errors.AccessDeniedError, "arrears"),
    ("free_tier_only", 1, errors.AccessDeniedError, "free tier"),
    ("invalid_parameter", 1, errors.BadRequestError, "longer than the model accepts"),
    ("data_inspection", 1, errors.ContentRejectedError, "content safety"),
    ("throttling", 1, errors.RateLimitError, "Wait a minute"),
    ("quota_exceeded", 1, errors.RateLimitError, "quota"),
    ("internal_error", 1, errors.ServiceError, "internal error"),
    ("unavailable", 1, errors.ServiceError, "unavailable"),
    ("bad_gateway_html", 1, errors.ServiceError, "unreadable error"),
    ("drop_connection", 1, errors.ConnectionFailedError, "Could not reach"),  # no SDK resend
    ("hang", 1, errors.UpstreamTimeoutError, "stopped answering"),
    ("malformed_sse", 1, errors.ServiceError, "unreadable error"),
    ("missing_output", 1, errors.ServiceError, "could not read"),
]


def connections_to(port: int) -> int:
    """This machine's open TCP connections to a local port, from the client's side (Linux)."""
    established = "01"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = [row.split() for row in rows]
    return sum(1 for f in fields if int(f[2].split(":")[1], 16) == port and f[3] == established)


VD, VC = "qwen3-tts-vd-2026-01-26", "qwen3-tts-vc-2026-01-22"  # the custom voices' models
DESCRIPTION = "A warm Beijing grandfather telling a story, slow and kind"


VISITOR = Visitor("s1", "10.0.0.1")


SPACE_ON = {"SHOWCASE_ALLOW_DESIGN": "1", "SHOWCASE_ALLOW_CLONING": "1"}


def maker_for(simulator, catalogue, **overrides) -> VoiceMaker:
    return VoiceMaker(Synthesizer(catalogue, simulator_settings(simulator, catalogue, **overrides)))


def design(maker, token, label="grandpa", visitor=VISITOR, **options):
    options = {"region": "beijing", "api_key": "", **options}
    return maker.design(
        DESCRIPTION, "Once upon a time.", label, token=token, visitor=visitor, **options
    )


MCP_PATH = "gradio_api/mcp/"


def _mcp(url: str, use):
    """Open an MCP session on the app (Gradio's streamable HTTP), run `use` in it."""
    import asyncio

    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with streamable_http_client(url + MCP_PATH) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await use(session)

    return asyncio.run(run())


def list_tools(url: str) -> list:
    """The app's MCP tools."""
    return _mcp(url, lambda session: session.list_tools()).tools


def call_tool(url: str, arguments: dict, name: str = "synthesize"):
    """One call of an MCP tool of the app; its CallToolResult."""
    return _mcp(url, lambda session: session.call_tool(name, arguments))


def page_event(url: str, elem_id: str, data: list, session: str) -> list:
    """Press a page button the way the browser does (the events page.js uses are private to the
    page): the click's event, by the button's elem_id, in this session; its outputs."""
    config = requests.get(url + "config", timeout=10).json()
    button = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id
    )
    event = next(
        d for d in config["dependencies"] if [button, "click"] in [list(t) for t in d["targets"]]
    )
    answer = requests.post(
        url + "gradio_api/run/predict",
        json={
            "data": data,
            "fn_index": event["id"],
            "session_hash": session,
            "trigger_id": button,
            "event_data": None,
        },
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()["data"]


def event_stream(url: str, api: str, data: list, headers: dict[str, str] | None = None) -> str:
    """Run an event through Gradio's REST route, on a connection of its own, with these headers;
    what the event streamed. (`url` ends with "/".)"""
    headers = headers or {}
    posted = requests.post(
        f"{url}gradio_api/call/{api}", json={"data": data}, headers=headers, timeout=WAIT_LIMIT_S
    )
    event = posted.json()["event_id"]
    streamed = requests.get(
        f"{url}gradio_api/call/{api}/{event}", headers=headers, timeout=WAIT_LIMIT_S * 3
    )
    return streamed.text
