"""The simulator's customization route (voice design, voice cloning), checked with raw HTTP: what
it creates, lists, queries and deletes, which models speak what it made, and its fault switches."""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import pytest
import requests

from dashscope_sim import CUSTOMIZATION_PATH, GENERATION_PATH, VOICE_ERRORS, render_speech
from qwen_tts_showcase.audio import wav_to_pcm

VD, VC = "qwen3-tts-vd-2026-01-26", "qwen3-tts-vc-2026-01-22"
KEY = "sk-sim-beijing"


def call(simulator, service, action, key=KEY, region="beijing", **fields):
    body = {"model": service, "input": {"action": action, **fields}}
    return requests.post(
        simulator.base_url(region) + CUSTOMIZATION_PATH,
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=5,
    )


def design(simulator, key=KEY, **fields):
    fields = {
        "target_model": VD,
        "voice_prompt": "A warm Beijing grandfather telling a story",
        "preview_text": "Once upon a time.",
        "preferred_name": "grandpa",
        **fields,
    }
    return call(simulator, "qwen-voice-design", "create", key=key, **fields)


def recording(seconds=5.0, amplitude=8000, rate=24_000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (amplitude * np.sin(2 * np.pi * 180 * t)).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return "data:audio/wav;base64," + base64.b64encode(buffer.getvalue()).decode()


def clone(simulator, key=KEY, audio=None, **fields):
    fields = {"target_model": VC, "preferred_name": "me", **fields}
    audio = recording() if audio is None else audio
    return call(
        simulator, "qwen-voice-enrollment", "create", key=key, audio={"data": audio}, **fields
    )


def speak(simulator, model, voice, key=KEY):
    body = {"model": model, "input": {"text": "Hello there.", "voice": voice}}
    return requests.post(
        simulator.base_url() + GENERATION_PATH,
        data=json.dumps(body),
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )


def test_design_returns_a_voice_and_its_preview_which_the_vd_model_speaks(simulator):
    response = design(simulator)
    assert response.status_code == 200
    output = response.json()["output"]
    assert output["voice"].startswith("qwen-tts-vd-grandpa-voice-")
    preview = wav_to_pcm(base64.b64decode(output["preview_audio"]["data"]))
    assert preview == render_speech(VD, output["voice"], "Once upon a time.")
    spoken = speak(simulator, VD, output["voice"])
    assert spoken.status_code == 200
    assert simulator.generation_requests()[0].pcm == render_speech(
        VD, output["voice"], "Hello there."
    )


def test_a_designed_voice_is_refused_by_the_vc_model_and_a_cloned_one_by_the_vd_model(simulator):
    designed = design(simulator).json()["output"]["voice"]
    cloned = clone(simulator).json()["output"]["voice"]
    assert cloned.startswith("qwen-tts-vc-me-voice-")
    assert speak(simulator, VC, cloned).status_code == 200
    for model, voice in ((VC, designed), (VD, cloned)):
        refused = speak(simulator, model, voice)
        assert refused.status_code == 400 and "not supported" in refused.json()["message"]
    stock = speak(simulator, "qwen3-tts-flash", designed)
    assert stock.status_code == 400


def test_voices_belong_to_the_account_that_made_them(simulator):
    voice = design(simulator).json()["output"]["voice"]
    simulator.keys["sk-sim-other"] = "beijing"
    try:
        assert speak(simulator, VD, voice, key="sk-sim-other").status_code == 400
        listed = call(simulator, "qwen-voice-design", "list", key="sk-sim-other").json()
        assert listed["output"]["voice_list"] == []
        gone = call(simulator, "qwen-voice-design", "delete", key="sk-sim-other", voice=voice)
        assert gone.status_code == 404
    finally:
        del simulator.keys["sk-sim-other"]


def test_list_query_and_delete(simulator):
    first = design(simulator, preferred_name="a").json()["output"]["voice"]
    second = design(simulator, preferred_name="b").json()["output"]["voice"]
    clone(simulator)
    listed = call(simulator, "qwen-voice-design", "list", page_size=10).json()["output"]
    assert [row["voice"] for row in listed["voice_list"]] == [first, second]
    page = call(simulator, "qwen-voice-design", "list", page_index=1, page_size=1).json()
    assert [row["voice"] for row in page["output"]["voice_list"]] == [second]
    queried = call(simulator, "qwen-voice-design", "query", voice=first).json()["output"]
    assert queried["voice_prompt"] == "A warm Beijing grandfather telling a story"
    assert call(simulator, "qwen-voice-design", "delete", voice=first).status_code == 200
    assert call(simulator, "qwen-voice-design", "query", voice=first).status_code == 404
    refused = speak(simulator, VD, first)
    assert refused.status_code == 400 and "does not exist" in refused.json()["message"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"voice_prompt": "x" * 2049}, "prompt_too_long"),
        ({"preferred_name": "not a name!"}, "invalid_name"),
        ({"preferred_name": "x" * 17}, "invalid_name"),
        ({"target_model": VC}, "wrong_target"),
    ],
)
def test_design_refusals(simulator, fields, error):
    response = design(simulator, **fields)
    assert (response.status_code, response.json()["code"]) == VOICE_ERRORS[error][:2]


@pytest.mark.parametrize(
    ("audio", "error"),
    [
        (recording(seconds=2.0), "audio_too_short"),
        (recording(seconds=61.0, rate=8000), "audio_too_long"),
        (recording(amplitude=0), "audio_silent"),
        ("data:audio/wav;base64," + base64.b64encode(b"not audio at all").decode(), "audio_format"),
        (
            "data:audio/wav;base64," + base64.b64encode(b"RIFF" + bytes(11 * 2**20)).decode(),
            "audio_too_large",
        ),
    ],
)
def test_clone_checks_the_recording(simulator, audio, error):
    response = clone(simulator, audio=audio)
    assert (response.status_code, response.json()["code"]) == VOICE_ERRORS[error][:2]
    assert response.json()["message"] == VOICE_ERRORS[error][2]


@pytest.mark.parametrize("fault", ["transcript_mismatch", "voice_limit", "throttling"])
def test_fault_switches_fail_the_next_customization_request(simulator, fault):
    simulator.enqueue_voice_fault(fault)
    response = clone(simulator, text="What I said.")
    assert response.status_code != 200
    assert clone(simulator).status_code == 200


def test_the_account_voice_limit(simulator):
    simulator.voice_store.limit = 1
    assert design(simulator).status_code == 200
    refused = design(simulator)
    assert refused.json()["code"] == VOICE_ERRORS["voice_limit"][1]


def test_keys_work_only_in_their_region(simulator):
    response = design(simulator, key="sk-sim-singapore")
    assert response.status_code == 401
