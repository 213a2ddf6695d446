"""The real dashscope SDK against the simulator: audio in, typed errors out."""

from __future__ import annotations

import time

import pytest

from qwen_tts_showcase import errors
from qwen_tts_showcase.dashscope_client import (
    SpeechStream,
    SynthesisRequest,
    Upstream,
    error_for_response,
)

REQUEST = SynthesisRequest(
    text="今儿个天儿不错，咱们出去遛遛弯儿吧。", voice="Dylan", model="qwen-tts-latest"
)
KEY = "sk-sim-beijing"


def connection(simulator, key=KEY, region="beijing", **timeouts) -> Upstream:
    return Upstream(simulator.base_url(region), key, **{"read_timeout_s": 1.0, **timeouts})


def run(simulator, streaming=True, request=REQUEST, **kwargs) -> tuple[bytes, SpeechStream]:
    stream = SpeechStream(request, connection(simulator, **kwargs), "speech_synthesizer", streaming)
    return b"".join(stream), stream


@pytest.mark.parametrize("streaming", [True, False])
def test_the_audio_is_exactly_the_pcm_the_service_sent(simulator, streaming):
    pcm, stream = run(simulator, streaming)
    (sent,) = simulator.generation_requests()
    assert pcm == sent.pcm and len(pcm) > 48_000
    assert stream.request_id and stream.audio_url.startswith(simulator.origin)
    assert stream.usage["output_tokens_details"]["audio_tokens"] >= 50
    assert sent.streamed is streaming
    assert sent.body == {
        "model": "qwen-tts-latest",
        "parameters": {},
        "input": {"text": REQUEST.text, "voice": "Dylan"},
    }
    assert sent.headers["authorization"] == f"Bearer {KEY}"


def test_chunks_arrive_one_frame_at_a_time(simulator):
    chunks = list(SpeechStream(REQUEST, connection(simulator), "speech_synthesizer"))
    assert len(chunks) > 1 and all(len(c) == 24_000 for c in chunks[:-1])  # 0.5 s frames


FAULTS = [
    # fault, times, error class, words the visitor must read
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
    ("drop_connection", 2, errors.ConnectionFailedError, "Could not reach"),  # the SDK retries once
    ("hang", 1, errors.UpstreamTimeoutError, "stopped answering"),
    ("malformed_sse", 1, errors.ServiceError, "try again"),
    ("missing_output", 1, errors.ServiceError, "could not read"),
]


@pytest.mark.parametrize(("fault", "times", "error", "words"), FAULTS)
def test_each_failure_becomes_a_typed_error_with_a_human_message(
    simulator, fault, times, error, words
):
    simulator.enqueue_fault(fault, times=times, after_chunks=0)
    started = time.monotonic()
    with pytest.raises(error) as caught:
        run(simulator)
    assert time.monotonic() - started < 5, "an error must come within the timeout"
    assert words in caught.value.en
    assert caught.value.zh and KEY not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("data_inspection_midstream", errors.ContentRejectedError),
        ("cut_stream", errors.IncompleteAudioError),
        ("drop_midstream", errors.ConnectionFailedError),
        ("stall_midstream", errors.UpstreamTimeoutError),
    ],
)
def test_a_stream_that_fails_after_audio_says_the_audio_was_incomplete(simulator, fault, error):
    simulator.enqueue_fault(fault, after_chunks=2)
    received = []
    with pytest.raises(error) as caught:
        for chunk in SpeechStream(REQUEST, connection(simulator), "speech_synthesizer"):
            received.append(chunk)
    assert len(received) == 2
    assert "incomplete audio was not kept" in caught.value.en


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("expired_url", "expired"),
        ("unreachable_url", "could not be downloaded"),
        ("slow_url", "could not be downloaded"),
        ("malformed_json", "could not read"),
    ],
)
def test_non_streaming_download_failures_are_explained(simulator, fault, words):
    simulator.enqueue_fault(fault, delay_s=5)
    with pytest.raises(errors.DashScopeError) as caught:
        run(simulator, streaming=False, download_timeout_s=1.0)
    assert words in caught.value.en


def test_a_refused_connection_is_explained():
    dead = Upstream("http://127.0.0.1:9/api/v1", KEY)
    with pytest.raises(errors.ConnectionFailedError, match="127.0.0.1:9"):
        list(SpeechStream(REQUEST, dead, "speech_synthesizer"))


def test_a_singapore_key_against_beijing_explains_the_region_pairing(simulator):
    with pytest.raises(errors.InvalidKeyError) as caught:
        run(simulator, key="sk-sim-singapore")
    assert "region where they were created" in caught.value.en
    assert caught.value.status_code == 401 and caught.value.code == "InvalidApiKey"


def test_the_total_deadline_stops_a_slow_stream(simulator):
    simulator.profile.realtime_factor = 1.0  # real time: 0.5 s per frame
    with pytest.raises(errors.UpstreamTimeoutError, match="longer than 1 s"):
        run(simulator, total_timeout_s=1.0)


def test_leaving_the_loop_early_closes_the_connection(simulator):
    simulator.profile.realtime_factor = 1.0
    stream = iter(SpeechStream(REQUEST, connection(simulator), "speech_synthesizer"))
    next(stream)
    stream.close()  # what Gradio does when the visitor leaves
    simulator.profile.realtime_factor = 0.0
    assert run(simulator)[0]  # the next request is served normally


@pytest.mark.parametrize(
    ("code", "status", "message", "error"),
    [
        ("invalid_api_key", 401, "", errors.InvalidKeyError),
        ("data_inspection_failed", 400, "", errors.ContentRejectedError),
        ("Throttling.BurstRate", 429, "", errors.RateLimitError),
        ("InvalidParameter", 400, "Model not exist.", errors.BadRequestError),
        ("ModelServingError", 503, "", errors.ServiceError),
        ("Unknown", 502, "<html>", errors.ServiceError),
        ("SomethingNew", 418, "", errors.BadRequestError),
    ],
)
def test_codes_and_their_snake_case_aliases_map_to_classes(code, status, message, error):
    assert type(error_for_response(status, code, message, "rid")) is error
