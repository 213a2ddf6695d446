"""The simulator speaks DashScope's wire protocol, checked with raw HTTP (no SDK); it stands
apart from the app, and the app's catalogue agrees with its tables."""

from __future__ import annotations

import ast
import base64
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from dashscope_sim import GENERATION_PATH, render_speech
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.text import billed_characters, input_size

ROOT = Path(__file__).parent.parent
REAL_FRAME_BYTES = 34_560  # 0.72 s of 24 kHz 16-bit mono, as the real stream sends

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
        (
            {**BODY, "input": {"text": "hi", "voice": "Rocky"}},
            "InvalidParameter",
            "Input should be 'Cherry', 'Serena', 'Ethan', 'Chelsie', 'Dylan', 'Jada' or 'Sunny'",
        ),
        (
            {"model": "qwen-tts", "input": {"text": "hi", "voice": "Dylan"}},
            "InvalidParameter",
            "Input should be 'Cherry', 'Serena', 'Ethan' or 'Chelsie': parameters.audio.voice",
        ),  # dialect voices arrived with 2025-05-22 (the docs' own message)
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


def test_streams_send_frames_of_0_72_s_as_the_real_service_does(simulator):
    body = {**BODY, "input": {"text": "一二三四五六七八九十", "voice": "Dylan"}}
    *audio_frames, _ = sse_frames(post(simulator, body=body, stream=True))
    sizes = [len(base64.b64decode(f["data"]["output"]["audio"]["data"])) for f in audio_frames]
    assert len(sizes) > 2 and set(sizes[:-1]) == {REAL_FRAME_BYTES}
    assert 0 < sizes[-1] <= REAL_FRAME_BYTES


@pytest.mark.parametrize(
    ("stream", "body"),
    [(True, BODY), (False, BODY), (False, {**BODY, "model": "qwen-nope"})],
)
def test_generation_answers_carry_the_request_id_as_a_header_too(simulator, stream, body):
    response = post(simulator, body=body, stream=stream)
    request_id = sse_frames(response)[-1]["data"] if stream else response.json()
    assert response.headers["x-request-id"] == request_id["request_id"]


def test_qwen3_bills_han_characters_of_every_cjk_block_twice(simulator):
    text = "汉字漢字かなㄅ한\u3400\U00020000, ok"  # extension A and B ideographs count 2 as well
    body = {"model": "qwen3-tts-flash", "input": {"text": text, "voice": "Cherry"}}
    assert post(simulator, body=body).json()["usage"] == {"characters": 8 + 4 + 4 + 4}


def test_python_m_dashscope_sim_serves_and_prints_the_lines_to_export():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "dashscope_sim", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        base = f"http://127.0.0.1:{port}"
        assert f"export DASHSCOPE_HTTP_BASE_URL={base}/api/v1\n" in lines[1]
        assert f"export DASHSCOPE_INTL_HTTP_BASE_URL={base}/intl/api/v1\n" in lines[2]
        assert "export DASHSCOPE_API_KEY=sk-sim-beijing" in lines[3]
        headers = {"Authorization": "Bearer sk-sim-beijing"}
        answer = requests.post(base + "/api/v1" + GENERATION_PATH, json=BODY, headers=headers)
        assert answer.status_code == 200 and answer.json()["output"]["audio"]["url"]
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- Two sides of the wire ----------------------------------------------------------------------


def imported_modules(package: Path) -> set[str]:
    """Every absolute module a package's source imports, read from its syntax tree."""
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module)
    return names


def test_the_simulator_imports_nothing_from_the_app():
    imported = imported_modules(ROOT / "dashscope_sim")
    assert "json" in imported  # the scan sees imports
    assert not {name for name in imported if name.split(".")[0] == "qwen_tts_showcase"}


def test_the_app_never_imports_the_simulator():
    imported = imported_modules(ROOT / "qwen_tts_showcase")
    assert "dashscope" in imported  # the scan sees imports
    assert not {name for name in imported if name.split(".")[0] == "dashscope_sim"}
    assert not (ROOT / "qwen_tts_showcase" / "simulator.py").exists()


# --- The app's catalogue against the simulator's own tables -------------------------------------

CATALOGUE = load_catalogue()
HTTP_MODELS = [m for m in CATALOGUE.models if not m.realtime]  # realtime: test_realtime.py
KEYS = {"beijing": "sk-sim-beijing", "singapore": "sk-sim-singapore"}


def answer(session, simulator, model, text="hi", region=None, **inputs):
    """The simulator's answer to the app's catalogue model, in a region the app offers it in."""
    region = region or model.regions[0]
    body = {"model": model.id, "input": {"text": text, "voice": model.voices[0], **inputs}}
    headers = {"Authorization": f"Bearer {KEYS[region]}"}
    url = simulator.base_url(region) + GENERATION_PATH
    return session.post(url, json=body, headers=headers, timeout=5)


@pytest.fixture
def session():
    with requests.Session() as session:
        yield session


@pytest.mark.parametrize("model", HTTP_MODELS, ids=lambda m: m.id)
def test_the_service_accepts_exactly_the_voices_the_catalogue_offers(simulator, session, model):
    wrong = [
        (voice, offered)
        for voice in CATALOGUE.voices
        if (answer(session, simulator, model, voice=voice).status_code == 200)
        != (offered := voice in model.voices)
    ]
    assert wrong == [], "(voice, catalogue offers it) where the service disagrees"


@pytest.mark.parametrize("model", HTTP_MODELS, ids=lambda m: m.id)
def test_the_service_offers_the_model_in_exactly_the_catalogues_regions(simulator, session, model):
    accepted = {
        region.id
        for region in CATALOGUE.regions
        if answer(session, simulator, model, region=region.id).status_code == 200
    }
    assert accepted == set(model.regions)


@pytest.mark.parametrize("model", HTTP_MODELS, ids=lambda m: m.id)
def test_the_service_takes_exactly_the_catalogues_languages_and_instructions(
    simulator, session, model
):
    accepted = {
        language
        for language in CATALOGUE.languages
        if answer(session, simulator, model, language_type=language).status_code == 200
    }
    assert accepted == set(model.language_types)
    instructed = answer(session, simulator, model, instructions="Speak slowly.")
    assert (instructed.status_code == 200) is model.instructions


@pytest.mark.parametrize("model", HTTP_MODELS, ids=lambda m: m.id)
def test_the_catalogues_input_limit_and_billing_are_the_services(simulator, session, model):
    longest = "字" * model.max_input
    assert input_size(longest, model.input_unit) == model.max_input
    assert answer(session, simulator, model, longest).status_code == 200
    refused = answer(session, simulator, model, longest + "字")
    assert refused.status_code == 400 and "Range of input length" in refused.json()["message"]
    text = "今天天气不错，我们出去走走吧。Let's go! 繁體字、かな、한글"
    usage = answer(session, simulator, model, text).json()["usage"]
    if model.billing == "characters":
        assert usage == {"characters": billed_characters(text)}
    else:
        assert model.billing == "tokens" and usage["input_tokens"] > 0


def test_the_app_bills_han_outside_the_basic_plane_as_the_service_does(simulator, session):
    model = CATALOGUE.model("qwen3-tts-flash")
    text = "\U00020000\U0002a700"  # CJK extensions B and C
    usage = answer(session, simulator, model, text).json()["usage"]
    assert usage == {"characters": billed_characters(text)}


def test_clear_drops_a_stream_waiting_for_its_first_frame(simulator):
    simulator.profile.first_chunk_delay_s = 3600  # no frame before clear() drops the client
    response = post(simulator, stream=True)
    chunks = response.iter_content(chunk_size=None)
    simulator.clear()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        for _ in chunks:  # the connection ends; without the drop this read would wait an hour
            pass
