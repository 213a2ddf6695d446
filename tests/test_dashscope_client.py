"""The real dashscope SDK against the simulator: audio in, typed errors out."""

from __future__ import annotations

import pytest

from qwen_tts_showcase import errors
from qwen_tts_showcase.dashscope_client import (
    SpeechStream,
    SynthesisRequest,
    Upstream,
    error_for_response,
)

from .conftest import wait_until
from .helpers import SDK_FAULTS, connections_to

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
    assert len(chunks) > 1 and all(len(c) == 34_560 for c in chunks[:-1])  # 0.72 s frames


@pytest.mark.parametrize(("fault", "times", "error", "words"), SDK_FAULTS)
def test_each_failure_becomes_a_typed_error_with_a_human_message(
    simulator, fault, times, error, words
):
    simulator.enqueue_fault(fault, times=times, after_chunks=0)
    with pytest.raises(error) as caught:
        run(simulator)
    tried = [request.fault for request in simulator.generation_requests()]
    assert tried == [fault] * times, "each attempt met the fault, and none was left waiting"
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
    simulator.profile.realtime_factor = 1.0  # real time: 0.72 s per frame
    with pytest.raises(errors.UpstreamTimeoutError, match="longer than 1 s"):
        run(simulator, total_timeout_s=1.0)


def test_leaving_the_loop_early_closes_the_connection(simulator):
    simulator.profile.realtime_factor = 1.0  # real time, and two minutes of audio: the stream
    simulator.profile.fixed_audio_seconds = 120.0  # outlasts the wait unless the client leaves
    before = connections_to(simulator.port)
    speech = SpeechStream(REQUEST, connection(simulator), "speech_synthesizer")
    stream = iter(speech)  # speech stays referenced, as the app keeps it to read the usage
    next(stream)
    assert connections_to(simulator.port) == before + 1
    stream.close()  # what Gradio does when the visitor leaves
    wait_until(lambda: connections_to(simulator.port) == before, "the connection to close")
    simulator.profile.realtime_factor = 0.0
    simulator.profile.fixed_audio_seconds = None
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
