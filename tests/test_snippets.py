"""The code panel's snippets run as shown: the real SDK and real curl against the simulator."""

from __future__ import annotations

import ast
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.snippets import curl_snippet, python_snippet

from .conftest import BEIJING_KEY, SINGAPORE_KEY

TEXTS = [
    "今儿个天儿不错。",
    'He said "hi" and left.',
    "It's a backslash \\ and a $HOME and `ticks`",
    "Two\nlines\tand a tab",
    "Unicode: café, 𠀀, 🎉, \u2028 separator",
]


def run(command: list[str], cwd, key: str = BEIJING_KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "DASHSCOPE_API_KEY": key}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("text", TEXTS)
def test_the_python_snippet_synthesizes_exactly_the_text_with_the_key_from_the_environment(
    simulator, tmp_path, text
):
    code = python_snippet(text, "Dylan", "qwen-tts-latest", simulator.base_url("beijing"))
    done = run([sys.executable, "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": text, "voice": "Dylan"}
    assert sent.headers["authorization"] == f"Bearer {BEIJING_KEY}"
    assert wav_to_pcm((tmp_path / "qwen-tts.wav").read_bytes()) == sent.pcm


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("text", TEXTS)
def test_the_curl_snippet_sends_exactly_the_text_with_the_key_from_the_environment(
    simulator, tmp_path, text
):
    code = curl_snippet(text, "Jada", "qwen-tts-latest", simulator.base_url("beijing"))
    done = run(["bash", "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    (sent,) = simulator.generation_requests()
    assert sent.body == {"model": "qwen-tts-latest", "input": {"text": text, "voice": "Jada"}}
    assert sent.headers["authorization"] == f"Bearer {BEIJING_KEY}"
    assert json.loads(done.stdout)["output"]["audio"]["url"].startswith(simulator.origin)


def test_snippets_name_the_region_and_read_the_key_never_hold_it():
    code = python_snippet(
        "你好", "Cherry", "qwen-tts", "https://dashscope-intl.aliyuncs.com/api/v1"
    )
    assert 'dashscope.base_http_api_url = "https://dashscope-intl.aliyuncs.com/api/v1"' in code
    assert 'api_key=os.getenv("DASHSCOPE_API_KEY")' in code
    curl = curl_snippet("你好", "Cherry", "qwen-tts", "https://dashscope-intl.aliyuncs.com/api/v1")
    assert shlex.split(curl)[3] == (
        "https://dashscope-intl.aliyuncs.com/api/v1/services/aigc/multimodal-generation/generation"
    )
    assert '"Authorization: Bearer $DASHSCOPE_API_KEY"' in curl


def test_a_multimodal_model_gets_its_entry_point_and_extra_fields():
    code = python_snippet(
        "Hello",
        "Cherry",
        "qwen3-tts-flash",
        "https://x/api/v1",
        sdk="multimodal_conversation",
        extra={"language_type": "English"},
    )
    call = ast.parse(code).body[4].value
    assert ast.unparse(call.func) == "dashscope.MultiModalConversation.call"
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg != "api_key"} == {
        "model": "qwen3-tts-flash",
        "text": "Hello",
        "voice": "Cherry",
        "language_type": "English",
    }
    curl = curl_snippet(
        "Hello", "Cherry", "qwen3-tts-flash", "https://x/api/v1", extra={"language_type": "English"}
    )
    assert json.loads(shlex.split(curl)[-1])["input"]["language_type"] == "English"


QWEN3_CALLS = [  # (model, voice, extra): what the page adds for the qwen3 models
    ("qwen3-tts-flash", "Rocky", {"language_type": "Chinese"}),
    ("qwen3-tts-flash-2025-09-18", "Kiki", {}),
    (
        "qwen3-tts-instruct-flash",
        "Seren",
        {"language_type": "English", "instructions": 'Whisper "softly",\nlike a secret.'},
    ),
]


@pytest.mark.parametrize(("model", "voice", "extra"), QWEN3_CALLS)
def test_the_python_snippet_of_a_qwen3_model_sends_its_language_and_instructions(
    simulator, tmp_path, model, voice, extra
):
    text = '喂，老友！It\'s "tea" time.'
    code = python_snippet(
        text,
        voice,
        model,
        simulator.base_url("singapore"),
        sdk="multimodal_conversation",
        extra=extra,
    )
    done = run([sys.executable, "-c", code], tmp_path, key=SINGAPORE_KEY)
    assert done.returncode == 0, done.stderr
    (sent,) = simulator.generation_requests()
    assert sent.region == "singapore" and sent.body["model"] == model
    # MultiModalConversation names language_type; instructions travel in parameters (§1.3).
    expected_input = {"text": text, "voice": voice}
    if "language_type" in extra:
        expected_input["language_type"] = extra["language_type"]
    assert sent.body["input"] == expected_input
    assert sent.body["parameters"] == {k: v for k, v in extra.items() if k == "instructions"}
    assert wav_to_pcm((tmp_path / "qwen-tts.wav").read_bytes()) == sent.pcm


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("model", "voice", "extra"), QWEN3_CALLS)
def test_the_curl_snippet_of_a_qwen3_model_carries_its_options_in_input(
    simulator, tmp_path, model, voice, extra
):
    text = '喂，老友！It\'s "tea" time.'
    code = curl_snippet(text, voice, model, simulator.base_url("beijing"), extra=extra)
    done = run(["bash", "-c", code], tmp_path)
    assert done.returncode == 0, done.stderr
    (sent,) = simulator.generation_requests()
    assert sent.body == {"model": model, "input": {"text": text, "voice": voice, **extra}}
    assert json.loads(done.stdout)["output"]["audio"]["url"].startswith(simulator.origin)
