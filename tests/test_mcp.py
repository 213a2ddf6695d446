"""The app as an MCP server: agents see one tool, /synthesize, and get the WAV it made.

Driven with the `mcp` client library over Gradio's streamable HTTP transport, against the real
app and the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import requests
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from qwen_tts_showcase.audio import wav_to_pcm

MCP_PATH = "gradio_api/mcp/"


def with_session(url: str, use: Callable[[ClientSession], Awaitable]) -> object:
    """Open an MCP session on the app, run `use` in it, and return what it returned."""

    async def run() -> object:
        async with streamable_http_client(url + MCP_PATH) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return await use(session)

    return asyncio.run(run())


def test_the_mcp_server_offers_exactly_the_synthesize_tool_described_for_agents(app):
    _, url = app
    tools = with_session(url, lambda session: session.list_tools()).tools
    assert [tool.name for tool in tools] == ["synthesize"], "the page's own events stay private"
    (tool,) = tools
    assert tool.inputSchema["required"] == ["text", "voice", "model"]
    assert "case-sensitive" in tool.inputSchema["properties"]["voice"]["description"]
    assert "WAV" in tool.description and "Cantonese: Rocky, Kiki" in tool.description
    assert "qwen3-tts-flash (49 voices)" in tool.description


def test_calling_the_tool_returns_the_wav_of_exactly_the_audio_made(app, simulator):
    _, url = app
    arguments = {"text": "喂，老友！今日去饮茶啦。", "voice": "Rocky", "model": "qwen3-tts-flash"}
    result = with_session(url, lambda session: session.call_tool("synthesize", arguments))
    assert not result.isError
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": arguments["text"], "voice": "Rocky"}
    (content,) = result.content
    assert content.text.startswith(url) and content.text.endswith(".wav")
    wav = requests.get(content.text, timeout=10)
    assert wav.status_code == 200 and wav_to_pcm(wav.content) == sent.pcm


def test_a_tool_call_with_a_voice_the_model_lacks_gets_the_human_message(app, simulator):
    _, url = app
    arguments = {"text": "你好。", "voice": "Rocky", "model": "qwen-tts-latest"}
    result = with_session(url, lambda session: session.call_tool("synthesize", arguments))
    assert result.isError
    assert "Voice 'Rocky' is not available for qwen-tts-latest" in result.content[0].text
    assert simulator.generation_requests() == []
