"""Synthesizer + Speech against the simulator: cache, retries, long text, joins."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from qwen_tts_showcase import errors
from qwen_tts_showcase.audio import FADE_BYTES, PART_GAP, fade
from qwen_tts_showcase.cache import AudioCache, CachedAudio
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.text import estimated_tokens

from .conftest import RETRIES, simulator_settings

TEXT = "今儿个天儿不错，咱们出去遛遛弯儿吧。"


@pytest.fixture
def synthesizer(simulator, catalogue, tmp_path) -> Synthesizer:
    settings = simulator_settings(
        simulator, catalogue, SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(tmp_path / "cache")
    )
    return Synthesizer(catalogue, settings)


def speak(
    synthesizer,
    text=TEXT,
    voice="Dylan",
    model="qwen-tts-latest",
    user_key="",
    on_notice_list=None,
    **kwargs,
):
    notices = [] if on_notice_list is None else on_notice_list
    speech = synthesizer.speech(
        SpeechOrder(text, voice, model, "beijing"),
        api_key=user_key,
        visitor=Visitor("session", "ip"),
        on_notice=lambda message: notices.append(message.en),
        **kwargs,
    )
    pcm = b"".join(speech)
    return pcm, speech.result, notices


# --- retries --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault", ["throttling", "internal_error", "unavailable", "bad_gateway_html"]
)
def test_a_transient_failure_is_retried_and_the_visitor_is_told(synthesizer, simulator, fault):
    simulator.enqueue_fault(fault)
    pcm, result, notices = speak(synthesizer)
    failed, succeeded = simulator.generation_requests()
    assert failed.fault == fault and pcm == succeeded.pcm
    assert any("retrying in" in notice and "attempt 2 of 3" in notice for notice in notices)
    assert result.request_id and not result.cached


def test_a_dropped_connection_is_retried(synthesizer, simulator):
    simulator.enqueue_fault("drop_connection", times=1)
    pcm, _, notices = speak(synthesizer)
    assert pcm == simulator.generation_requests()[-1].pcm
    assert any("connection to DashScope failed" in notice for notice in notices)


def test_dropped_connections_are_retried_by_the_app_alone_and_every_attempt_is_told(
    synthesizer, simulator
):
    """The SDK resends a dropped POST by itself; only the app's retries may happen (issue 14/14)."""
    simulator.enqueue_fault("drop_connection", times=5)
    notices = []
    with pytest.raises(errors.ConnectionFailedError):
        speak(synthesizer, on_notice_list=notices)
    total = RETRIES + 1
    assert len(simulator.generation_requests()) == total, "one POST per attempt, no more"
    told = [n for n in notices if "retrying in" in n]
    assert [f"attempt {n} of {total}" in told[n - 2] for n in range(2, total + 1)] == [True] * (
        total - 1
    )
    assert len(told) == RETRIES


def test_retries_are_bounded(synthesizer, simulator):
    simulator.enqueue_fault("throttling", times=RETRIES + 5)
    with pytest.raises(errors.RateLimitError):
        speak(synthesizer)
    assert len(simulator.generation_requests()) == RETRIES + 1


@pytest.mark.parametrize(
    "fault", ["invalid_key", "data_inspection", "access_denied", "arrearage", "invalid_parameter"]
)
def test_other_client_errors_are_never_retried(synthesizer, simulator, fault):
    simulator.enqueue_fault(fault)
    with pytest.raises(errors.DashScopeError):
        speak(synthesizer)
    assert len(simulator.generation_requests()) == 1


def test_a_failure_after_audio_played_is_not_retried(synthesizer, simulator):
    simulator.enqueue_fault("drop_midstream", after_chunks=1)
    with pytest.raises(errors.ConnectionFailedError, match="incomplete audio"):
        speak(synthesizer)
    assert len(simulator.generation_requests()) == 1


def test_retries_stop_at_the_deadline(simulator, catalogue, tmp_path):
    settings = simulator_settings(
        simulator,
        catalogue,
        SHOWCASE_RETRY_BASE_S="5",
        SHOWCASE_TOTAL_TIMEOUT_S="1",
        SHOWCASE_CACHE_DIR=str(tmp_path),
    )
    simulator.enqueue_fault("throttling", times=5)
    with pytest.raises(errors.RateLimitError):
        speak(Synthesizer(catalogue, settings))
    assert len(simulator.generation_requests()) == 1, "a 2.5 s+ backoff would pass the 1 s deadline"


def test_one_deadline_covers_every_part_of_a_long_text(simulator, catalogue, tmp_path):
    """SHOWCASE_TOTAL_TIMEOUT_S bounds the whole synthesis, not each part (issue 14/15)."""
    settings = simulator_settings(
        simulator, catalogue, SHOWCASE_TOTAL_TIMEOUT_S="2", SHOWCASE_CACHE_DIR=str(tmp_path)
    )
    simulator.profile.first_chunk_delay_s = 0.8  # each part alone is well inside 2 s
    text = "。".join(["今儿个天儿不错咱们出去遛遛弯儿吧"] * 100)  # several parts for qwen-tts
    synthesizer = Synthesizer(catalogue, settings)
    assert (
        len(synthesizer.plan(SpeechOrder(text, "Dylan", "qwen-tts-latest", "beijing")).parts) >= 4
    )
    with pytest.raises(errors.UpstreamTimeoutError, match="longer than 2 s"):
        speak(synthesizer, text=text)
    assert len(simulator.generation_requests()) < 4


# --- long text ------------------------------------------------------------------------------------

LONG = "".join(
    f"这是第{n}句话，它讲了一个很长很长的故事，故事里有山有水也有人。" for n in range(40)
)


def test_long_text_is_split_at_sentence_ends_and_spoken_in_order(synthesizer, simulator):
    pcm, result, notices = speak(synthesizer, text=LONG)
    sent = simulator.generation_requests()
    texts = [r.body["input"]["text"] for r in sent]
    assert len(sent) == result.parts > 1
    assert "".join(texts) == LONG, "nothing lost, nothing reordered"
    plan = synthesizer.plan(SpeechOrder(LONG, "Dylan", "qwen-tts-latest", "beijing"))
    assert texts == [part.text for part in plan.parts], "sent as planned: split once"
    assert all(t.endswith("。") for t in texts), "cut only at sentence ends"
    assert notices[: len(sent)] == [
        f"Speaking part {n} of {len(sent)}…" for n in range(1, len(sent) + 1)
    ]
    expected = b""
    for number, request in enumerate(sent):
        part = request.pcm
        if number > 0:
            part = fade(part[:FADE_BYTES], fade_in=True) + part[FADE_BYTES:]
        if number < len(sent) - 1:
            part = part[:-FADE_BYTES] + fade(part[-FADE_BYTES:], fade_in=False) + PART_GAP
        expected += part
    assert pcm == expected
    billed_per_part = [
        estimated_tokens(r.body["input"]["text"]) + max(50, math.ceil(len(r.pcm) / 48_000) * 50)
        for r in sent
    ]
    assert result.billed == sum(billed_per_part), "usage is summed over the parts"


def test_joins_have_no_clicks(synthesizer, simulator):
    pcm, _, _ = speak(synthesizer, text=LONG)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    first_len = len(simulator.generation_requests()[0].pcm) // 2
    join = samples[first_len - 240 : first_len + len(PART_GAP) // 2 + 240]
    typical = np.abs(np.diff(samples)).max()
    assert np.abs(np.diff(join)).max() <= typical
    assert not join[240:-240].any(), "a clean pause between the parts"


def test_a_single_part_keeps_dashscopes_exact_samples(synthesizer, simulator):
    pcm, result, _ = speak(synthesizer)
    assert result.parts == 1 and pcm == simulator.generation_requests()[0].pcm


def test_an_unsplittable_word_over_the_limit_is_refused(synthesizer, simulator):
    with pytest.raises(errors.InputError, match="cannot be split"):
        synthesizer.plan(SpeechOrder("a" * 3000, "Cherry", "qwen-tts-latest", "beijing"))


# --- cache ----------------------------------------------------------------------------------------


def test_an_identical_request_is_served_from_the_cache_without_a_key(synthesizer, simulator):
    first, _, _ = speak(synthesizer)
    synthesizer.settings = simulator_settings(
        simulator, synthesizer.catalogue, DASHSCOPE_API_KEY=""
    )  # no key any more
    again, result, _ = speak(synthesizer)
    assert again == first and result.cached and result.billed == 0
    assert len(simulator.generation_requests()) == 1


@pytest.mark.parametrize(
    "change", [{"voice": "Cherry"}, {"text": TEXT + "！"}, {"model": "qwen-tts-2025-05-22"}]
)
def test_anything_that_changes_the_audio_misses_the_cache(synthesizer, simulator, change):
    speak(synthesizer)
    speak(synthesizer, **change)
    assert len(simulator.generation_requests()) == 2


def test_a_failed_synthesis_is_not_cached(synthesizer, simulator):
    simulator.enqueue_fault("cut_stream", after_chunks=1)
    with pytest.raises(errors.IncompleteAudioError):
        speak(synthesizer)
    _, result, _ = speak(synthesizer)
    assert not result.cached


def test_cached_result_replays_by_key_and_refuses_paths(synthesizer):
    _, result, _ = speak(synthesizer)
    replay = synthesizer.cached_result(result.cache_key, Visitor("session", "ip"))
    assert replay.pcm == result.pcm and replay.request == result.request
    assert synthesizer.cached_result("../../etc/passwd", Visitor("session", "ip")) is None


def entry(seconds: float, tag: int) -> CachedAudio:
    return CachedAudio(bytes([tag]) * int(48_000 * seconds), {}, "tokens", f"r{tag}", {})


def key(tag: int) -> str:
    return f"{tag:064x}"


def test_a_half_written_entry_is_never_served(tmp_path):
    cache = AudioCache(tmp_path, 10**8)
    cache.put(key(1), entry(0.1, 1))
    (tmp_path / key(1)[:2] / f"{key(1)}.json").unlink()  # a crash before the JSON was renamed in
    assert cache.get(key(1)) is None


def test_a_corrupt_entry_is_detected_and_discarded(tmp_path):
    cache = AudioCache(tmp_path, 10**8)
    cache.put(key(2), entry(0.1, 2))
    wav = tmp_path / key(2)[:2] / f"{key(2)}.wav"
    data = bytearray(wav.read_bytes())
    data[-1] ^= 0xFF
    wav.write_bytes(bytes(data))
    assert cache.get(key(2)) is None and not wav.exists()


def test_the_least_recently_used_entries_are_evicted_beyond_the_limit(tmp_path):
    cache = AudioCache(tmp_path, 3 * 48_000 + 4096)  # room for three 1 s entries
    for tag in (1, 2, 3):
        cache.put(key(tag), entry(1, tag))
    assert cache.get(key(1))  # 1 is now the most recently used
    cache.put(key(4), entry(1, 4))
    assert [bool(cache.get(key(tag))) for tag in (1, 2, 3, 4)] == [True, False, True, True]


def test_concurrent_writers_leave_valid_entries(tmp_path):
    cache = AudioCache(tmp_path, 10**8)
    threads = [
        threading.Thread(target=cache.put, args=(key(tag % 3), entry(0.5, tag % 3)))
        for tag in range(12)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(cache.get(key(tag)).pcm == entry(0.5, tag).pcm for tag in range(3))
    assert not list(tmp_path.glob("*/.tmp-*"))
