"""The simulator speaks DashScope's wire protocol, checked with raw HTTP (no SDK)."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.simulator import GENERATION_PATH, render_speech

BODY = {"model": "qwen-tts-latest", "input": {"text": "你好，北京。", "voice": "Dylan"}}


def post(simulator, body=BODY, key="sk-sim-beijing", stream=False, region="beijing"):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if stream:
        headers["X-DashScope-SSE"] = "enable"
    return requests.post(
        simulator.base_url(region) + GENERATION_PATH,
        data=json.dumps(body),
        headers=headers,
        stream=stream,
        timeout=5,
    )


def sse_frames(response) -> list[dict]:
    """Parse SSE strictly: every frame is id, event, the status comment and one data line."""
    frames = []
    for block in response.text.split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        assert lines[0].startswith("id:") and lines[1].startswith("event:"), block
        assert lines[2].startswith(":HTTP_STATUS/") and lines[3].startswith("data:"), block
        assert len(lines) == 4, "a payload must fit on one data: line"
        frames.append(
            {
                "id": int(lines[0][3:]),
                "event": lines[1][6:],
                "status": lines[2],
                "data": json.loads(lines[3][5:]),
            }
        )
    return frames


def test_stream_sends_numbered_result_frames_of_base64_pcm_then_a_stop_frame_with_url(simulator):
    response = post(simulator, stream=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Transfer-Encoding"] == "chunked"
    frames = sse_frames(response)
    assert [f["id"] for f in frames] == list(range(1, len(frames) + 1))
    assert {f["event"] for f in frames} == {"result"}  # written "event:result", no space
    *audio_frames, last = frames
    assert all(f["data"]["output"]["finish_reason"] == "null" for f in audio_frames)
    pcm = b"".join(base64.b64decode(f["data"]["output"]["audio"]["data"]) for f in audio_frames)
    assert pcm == render_speech("qwen-tts-latest", "Dylan", "你好，北京。")
    assert last["data"]["output"]["finish_reason"] == "stop"
    assert last["data"]["output"]["audio"]["data"] == ""
    request_id = last["data"]["request_id"]
    assert last["data"]["output"]["audio"]["id"] == f"audio_{request_id}"
    tokens = [f["data"]["usage"]["output_tokens"] for f in frames]
    assert tokens == sorted(tokens), "qwen-tts usage is cumulative"
    wav = requests.get(last["data"]["output"]["audio"]["url"], timeout=5)
    assert wav.status_code == 200 and wav_to_pcm(wav.content) == pcm


def test_non_stream_answers_json_with_an_expiring_wav_url(simulator):
    response = post(simulator)
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    audio = payload["output"]["audio"]
    assert payload["output"]["finish_reason"] == "stop"
    assert f"Expires={audio['expires_at']}" in audio["url"]
    assert wav_to_pcm(requests.get(audio["url"], timeout=5).content) == simulator.requests[0].pcm
    assert payload["usage"]["output_tokens_details"]["audio_tokens"] >= 50


@pytest.mark.parametrize(
    ("key", "region", "message"),
    [
        (None, "beijing", "No API-key provided."),
        ("sk-wrong", "beijing", "Invalid API-key provided."),
        ("sk-sim-singapore", "beijing", "Invalid API-key provided."),  # a key of the other region
    ],
)
def test_bad_keys_get_401_invalid_api_key(simulator, key, region, message):
    response = post(simulator, key=key, region=region)
    assert response.status_code == 401
    assert response.json()["code"] == "InvalidApiKey"
    assert response.json()["message"] == message


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ({**BODY, "model": "qwen-nope"}, "InvalidParameter", "Model not exist."),
        ({**BODY, "input": {"text": "hi", "voice": "Rocky"}}, "InvalidParameter", "Voice"),
        (
            {"model": "qwen-tts", "input": {"text": "hi", "voice": "Dylan"}},
            "InvalidParameter",
            "Voice",
        ),  # dialect voices arrived with 2025-05-22
        ({**BODY, "input": {"voice": "Dylan"}}, "BadRequest.EmptyInput", "missing"),
        (
            {**BODY, "input": {"text": "字" * 600, "voice": "Dylan"}},
            "InvalidParameter",
            "Range of input length should be [1, 512]",
        ),
    ],
)
def test_invalid_requests_get_400_with_dashscope_codes(simulator, body, code, message):
    response = post(simulator, body=body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert message in response.json()["message"]


def test_singapore_does_not_offer_the_qwen_tts_models(simulator):
    response = post(simulator, key="sk-sim-singapore", region="singapore")
    assert response.status_code == 400 and response.json()["message"] == "Model not exist."


def test_a_mid_stream_fault_sends_an_error_event_after_audio(simulator):
    simulator.enqueue_fault("data_inspection_midstream", after_chunks=1)
    body = {**BODY, "input": {"text": "一二三四五六七八九十", "voice": "Dylan"}}
    frames = sse_frames(post(simulator, body=body, stream=True))
    assert [f["event"] for f in frames] == ["result", "error"]
    assert frames[-1]["status"] == ":HTTP_STATUS/400"
    assert frames[-1]["data"]["code"] == "DataInspectionFailed"


def test_an_expired_url_answers_like_oss(simulator):
    simulator.enqueue_fault("expired_url")
    url = post(simulator).json()["output"]["audio"]["url"]
    response = requests.get(url, timeout=5)
    assert response.status_code == 403 and b"Request has expired" in response.content


def test_the_log_records_headers_body_and_the_audio_sent(simulator):
    post(simulator, stream=True)
    (recorded,) = simulator.generation_requests()
    assert recorded.headers["authorization"] == "Bearer sk-sim-beijing"
    assert recorded.headers["x-dashscope-sse"] == "enable"
    assert recorded.body == BODY
    assert recorded.pcm == render_speech("qwen-tts-latest", "Dylan", "你好，北京。")


def test_faults_can_be_queued_over_http_for_a_simulator_in_another_process(simulator):
    assert requests.post(
        simulator.origin + "/_sim/faults", json={"kind": "throttling"}, timeout=5
    ).ok
    assert post(simulator).status_code == 429
    assert post(simulator).status_code == 200
