"""The "use this in your app" code: Python (dashscope) and cURL calls for one text, voice, model.

Every value passes through json.dumps (a JSON string is a valid Python literal) or shlex.quote,
so quotes, backslashes and newlines in the visitor's text survive copy and paste. The key is
always read from the environment, never written into the snippet.
"""

from __future__ import annotations

import json
import shlex

GENERATION_PATH = "/services/aigc/multimodal-generation/generation"
KEY_ENV_VAR = "DASHSCOPE_API_KEY"
SDK_CALLS = {
    "speech_synthesizer": "dashscope.audio.qwen_tts.SpeechSynthesizer.call",
    "multimodal_conversation": "dashscope.MultiModalConversation.call",
}


def python_snippet(
    text: str,
    voice: str,
    model: str,
    base_url: str,
    sdk: str = "speech_synthesizer",
    extra: dict[str, str] | None = None,
) -> str:
    """A runnable script that synthesizes `text` and saves the WAV, like the blog's example."""
    arguments = {"model": model, "text": text, "voice": voice, **(extra or {})}
    lines = [
        f"    {name}={json.dumps(value, ensure_ascii=False)}," for name, value in arguments.items()
    ]
    return "\n".join(
        [
            "import os",
            "",
            "import dashscope",
            "import requests",
            "",
            f"dashscope.base_http_api_url = {json.dumps(base_url)}",
            "",
            f"response = {SDK_CALLS[sdk]}(",
            f'    api_key=os.getenv("{KEY_ENV_VAR}"),',
            *lines,
            ")",
            "if response.status_code != 200:",
            '    raise RuntimeError(f"{response.code}: {response.message}")',
            "",
            'audio_url = response.output.audio["url"]  # a WAV, valid for 24 hours',
            'with open("qwen-tts.wav", "wb") as file:',
            "    file.write(requests.get(audio_url, timeout=30).content)",
        ]
    )


def realtime_snippet(
    text: str, voice: str, model: str, realtime_url: str, extra: dict | None = None
) -> str:
    """A runnable script for a realtime model: the SDK's QwenTtsRealtime over the WebSocket,
    the PCM deltas saved as a WAV. `extra` holds the session fields the page sets."""
    session = {"voice": voice, "mode": "commit", **(extra or {})}
    lines = [
        f"    {name}={json.dumps(value, ensure_ascii=False)}," for name, value in session.items()
    ]
    rate = int((extra or {}).get("sample_rate") or 24000)
    return "\n".join(
        [
            "import base64",
            "import os",
            "import threading",
            "import wave",
            "",
            "import dashscope",
            "from dashscope.audio.qwen_tts_realtime import QwenTtsRealtime, QwenTtsRealtimeCallback",
            "",
            f'dashscope.api_key = os.getenv("{KEY_ENV_VAR}")',
            "pcm, finished = bytearray(), threading.Event()",
            "",
            "",
            "class Callback(QwenTtsRealtimeCallback):",
            "    def on_event(self, event):",
            '        if event["type"] == "response.audio.delta":',
            '            pcm.extend(base64.b64decode(event["delta"]))',
            '        elif event["type"] in ("session.finished", "error"):',
            "            finished.set()",
            "",
            "    def on_close(self, code, message):",
            "        finished.set()",
            "",
            "",
            "# the URL without ?model=: the SDK appends it",
            f"client = QwenTtsRealtime(model={json.dumps(model)}, callback=Callback(), "
            f"url={json.dumps(realtime_url)})",
            "client.connect()",
            "client.update_session(",
            *lines,
            ")",
            f"client.append_text({json.dumps(text, ensure_ascii=False)})",
            "client.commit()",
            "client.finish()",
            "finished.wait(120)",
            'with wave.open("qwen-tts.wav", "wb") as file:',
            "    file.setnchannels(1)",
            "    file.setsampwidth(2)",
            f"    file.setframerate({rate})",
            "    file.writeframes(bytes(pcm))",
        ]
    )


def curl_snippet(
    text: str,
    voice: str,
    model: str,
    base_url: str,
    extra: dict[str, str] | None = None,
) -> str:
    """A cURL call of the HTTP API; the answer's output.audio.url is the WAV."""
    body = {"model": model, "input": {"text": text, "voice": voice, **(extra or {})}}
    url = base_url.rstrip("/") + GENERATION_PATH
    return " \\\n".join(
        [
            f"curl -X POST {shlex.quote(url)}",
            f'  -H "Authorization: Bearer ${KEY_ENV_VAR}"',
            "  -H 'Content-Type: application/json'",
            f"  -d {shlex.quote(json.dumps(body, ensure_ascii=False))}",
        ]
    )


def app_python_snippet(text: str, handle: str, model: str, address: str) -> str:
    """A call of this app's /synthesize (gradio_client) with a custom voice's API handle: the
    Space's key speaks it, so the caller needs no DashScope key."""
    arguments = ", ".join(json.dumps(value, ensure_ascii=False) for value in (text, handle, model))
    return "\n".join(
        [
            "from gradio_client import Client",
            "",
            f"client = Client({json.dumps(address)})",
            "# The voice's API handle is a secret: keep it out of shared code.",
            f'wav_path = client.predict({arguments}, api_name="/synthesize")',
        ]
    )


def app_curl_snippet(text: str, handle: str, model: str, address: str) -> str:
    """The same call over Gradio's HTTP API: a POST gives an event id, its GET streams the
    result (the WAV's URL)."""
    url = address.rstrip("/") + "/gradio_api/call/synthesize"
    body = json.dumps({"data": [text, handle, model]}, ensure_ascii=False)
    post = " \\\n".join(
        [
            f"EVENT_ID=$(curl -s -X POST {shlex.quote(url)}",
            "  -H 'Content-Type: application/json'",
            f"  -d {shlex.quote(body)} | cut -d '\"' -f 4)",
        ]
    )
    return f'{post}\ncurl -N {shlex.quote(url)}/"$EVENT_ID"'
