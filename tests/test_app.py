"""The real app, launched against the simulator and called with gradio_client."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
import requests
from gradio_client.exceptions import AppError

import dashscope_sim as simulator_module
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.errors import InputError
from qwen_tts_showcase.synthesis import SpeechOrder

from .conftest import BEIJING_KEY, RETRIES, SINGAPORE_KEY, submit_generate
from .helpers import TEXT, assert_wav_is, generate


def every_voice_of_every_model():
    catalogue = load_catalogue()
    return [(m.id, v) for m in catalogue.models if not m.realtime for v in m.voices]


@pytest.mark.parametrize(("model", "voice"), every_voice_of_every_model())
def test_synthesize_returns_the_exact_audio_for_every_voice_of_every_model(
    app, simulator, model, voice
):
    client, _ = app
    path = client.predict(TEXT, voice, model, api_name="/synthesize")
    (sent,) = simulator.generation_requests()
    assert sent.body["model"] == model and sent.body["input"]["voice"] == voice
    assert sent.headers["authorization"] == f"Bearer {BEIJING_KEY}"
    assert_wav_is(path, sent.pcm)
    named = re.escape(voice.replace(" ", "-"))  # "Eldric Sage": no spaces in file names
    assert re.fullmatch(rf"qwen-tts_{named}_\d{{8}}-\d{{6}}\.wav", Path(path).name)


def every_model_with_the_first_pages_voices():
    """/generate's voice is a dropdown, and Gradio accepts only the choices the page opened with
    (the browser widens them when the model changes); /synthesize covers every voice. The model
    dropdown lists every model in every region (those a region lacks are marked)."""
    catalogue = load_catalogue()
    opening = set(catalogue.model(catalogue.default_model).voices)
    return [(m, v) for m, v in every_voice_of_every_model() if v in opening]


@pytest.mark.parametrize("streaming", [True, False], ids=["streaming", "non-streaming"])
@pytest.mark.parametrize(("model", "voice"), every_model_with_the_first_pages_voices())
def test_generate_plays_then_keeps_the_complete_recording(app, simulator, model, voice, streaming):
    client, _ = app
    seen, (live, complete, readout) = generate(
        client, model=model, voice=voice, streaming=streaming
    )
    (sent,) = simulator.generation_requests()
    assert sent.streamed is streaming
    seconds = len(sent.pcm) / 48_000
    live_updates = [out[0] for out in seen if isinstance(out[0], str)]
    assert len(live_updates) >= int(seconds), "the live player gets the audio piece by piece"
    assert all(update.endswith("playlist.m3u8") for update in live_updates)
    assert_wav_is(complete, sent.pcm)
    billing = load_catalogue().model(model).billing  # "tokens", or "characters" for qwen3
    assert f'data-audio-s="{seconds:.3f}"' in readout and f'data-billing="{billing}"' in readout


def test_the_complete_recording_decodes_to_the_duration_sent(app, simulator):
    client, _ = app
    _, (_, complete, _) = generate(client)
    pcm = wav_to_pcm(Path(complete).read_bytes())
    assert len(pcm) / 48_000 == pytest.approx(len(simulator.generation_requests()[0].pcm) / 48_000)


EVERY_ATTEMPT = RETRIES + 1  # a retried fault must recur on every attempt to reach the visitor
FAULTS = [  # through /synthesize, which streams
    ("invalid_key", 1, "region where they were created"),
    ("invalid_key_snake_case", 1, "region where they were created"),
    ("access_denied", 1, "not allowed to use the model"),
    ("access_denied_unpurchased", 1, "not allowed to use the model"),
    ("model_access_denied", 1, "not allowed to use the model"),
    ("free_tier_only", 1, "free tier of this model is used up"),
    ("arrearage", 1, "in arrears"),
    ("invalid_parameter", 1, "longer than the model accepts"),
    ("model_not_exist", 1, "does not know this model"),
    ("model_not_found", 1, "does not know this model"),
    ("model_not_found_snake_case", 1, "does not know this model"),
    ("voice_not_supported", 1, "does not offer this voice"),
    ("invalid_body", 1, "refused the request as invalid"),
    ("empty_input", 1, "refused the request as invalid"),
    ("empty_model", 1, "refused the request as invalid"),
    ("data_inspection", 1, "content safety check"),
    ("data_inspection_snake_case", 1, "content safety check"),
    ("throttling", EVERY_ATTEMPT, "Wait a minute"),
    ("throttling_plain", EVERY_ATTEMPT, "Wait a minute"),
    ("burst_rate", EVERY_ATTEMPT, "Wait a minute"),
    ("quota_exceeded", EVERY_ATTEMPT, "quota is used up"),
    ("insufficient_quota", EVERY_ATTEMPT, "quota is used up"),
    ("internal_error", EVERY_ATTEMPT, "internal error"),
    ("unavailable", EVERY_ATTEMPT, "unavailable"),
    ("overloaded", EVERY_ATTEMPT, "overloaded"),
    ("bad_gateway_html", EVERY_ATTEMPT, "unreadable error"),
    ("drop_connection", EVERY_ATTEMPT, "Could not reach DashScope"),  # the app alone retries
    ("hang", 1, "stopped answering"),
    ("missing_output", EVERY_ATTEMPT, "could not read"),
    ("cut_stream", 1, "ended before it was complete"),
    ("data_inspection_midstream", 1, "incomplete audio was not kept"),
    ("drop_midstream", 1, "dropped in the middle"),
    ("stall_midstream", 1, "stopped answering"),
    ("malformed_sse", 1, "unreadable error"),
]
NON_STREAMING_FAULTS = [  # through /generate with streaming off: the answer is JSON, then a WAV URL
    ("expired_url", 1, "expired"),
    ("unreachable_url", 1, "could not be downloaded"),
    ("slow_url", 1, "could not be downloaded"),  # waits 5 s; the download timeout is 2 s
    ("malformed_json", EVERY_ATTEMPT, "could not read"),
    ("missing_output", EVERY_ATTEMPT, "could not read"),
    ("hang", 1, "stopped answering"),
]
MID_STREAM_FAULTS = [
    "data_inspection_midstream",
    "cut_stream",
    "drop_midstream",
    "stall_midstream",
    "malformed_sse",
]


def faults_met(simulator) -> list[str | None]:
    """The fault each request to the model met, in order (None: served normally)."""
    return [request.fault for request in simulator.generation_requests()]


def test_every_fault_the_simulator_offers_is_tried_through_the_app():
    tried = {fault for fault, _, _ in FAULTS + NON_STREAMING_FAULTS}
    assert tried == set(simulator_module.FAULTS) | set(simulator_module.SPECIAL_FAULTS)


@pytest.mark.parametrize(("fault", "times", "words"), FAULTS)
def test_synthesize_explains_each_failure_and_the_app_stays_up(app, simulator, fault, times, words):
    client, _ = app
    simulator.enqueue_fault(fault, times=times, after_chunks=1, delay_s=5)
    with pytest.raises(AppError) as caught:
        client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize")
    assert faults_met(simulator) == [fault] * times, "retried as often as it should, no more"
    assert words in str(caught.value)
    assert "Traceback" not in str(caught.value) and BEIJING_KEY not in str(caught.value)
    path = client.predict(TEXT, "Dylan", "qwen-tts-latest", api_name="/synthesize")
    assert_wav_is(path, simulator.generation_requests()[-1].pcm)


@pytest.mark.parametrize("fault", MID_STREAM_FAULTS)
def test_a_stream_cut_mid_way_is_never_presented_as_complete(app, simulator, fault):
    client, _ = app
    simulator.enqueue_fault(fault, after_chunks=2, delay_s=5)
    job = submit_generate(client, TEXT, voice="Dylan")
    seen = []
    with pytest.raises(AppError, match="incomplete audio was not kept"):
        for output in job:
            seen.append(output)
        job.result()
    assert any(isinstance(out[0], str) for out in seen), "the first pieces did play"
    assert not any(isinstance(out[1], str) for out in seen), "no complete recording was offered"
    _, (_, complete, _) = generate(client)
    assert_wav_is(complete, simulator.generation_requests()[-1].pcm)


@pytest.mark.parametrize(("fault", "times", "words"), NON_STREAMING_FAULTS)
def test_the_non_streaming_path_explains_each_failure(app, simulator, fault, times, words):
    client, _ = app
    simulator.enqueue_fault(fault, times=times, delay_s=5)
    with pytest.raises(AppError, match=words):
        generate(client, streaming=False)
    assert faults_met(simulator) == [fault] * times, "retried as often as it should, no more"
    _, (_, complete, _) = generate(client, streaming=False)
    assert_wav_is(complete, simulator.generation_requests()[-1].pcm)


@pytest.mark.parametrize("text", ["", "   \n\t ", "\u200b\u200b"])
def test_empty_text_is_refused_before_any_api_call(app, simulator, text):
    client, _ = app
    with pytest.raises(AppError, match="no text to speak"):
        client.predict(text, "Cherry", "qwen-tts-latest", api_name="/synthesize")
    assert simulator.generation_requests() == []


def test_text_over_the_overall_cap_is_refused_with_the_cap_stated(app, simulator):
    client, _ = app
    with pytest.raises(AppError, match="at most 5,000 at a time"):
        client.predict("长" * 5001, "Cherry", "qwen-tts-latest", api_name="/synthesize")
    assert simulator.generation_requests() == []


@pytest.mark.parametrize(
    ("voice", "model", "words"),
    [
        ("Rocky", "qwen-tts-latest", "Choose one of: Cherry, Serena"),
        ("Dylan", "qwen-tts", "not available for qwen-tts"),
        ("Cherry", "gpt-4o-tts", "Unknown model"),
    ],
)
def test_unknown_voices_and_models_sent_to_the_api_are_refused_with_the_choices(
    app, simulator, voice, model, words
):
    client, _ = app
    with pytest.raises(AppError, match=words):
        client.predict("hello", voice, model, api_name="/synthesize")
    assert simulator.generation_requests() == []


def test_a_visitors_own_key_is_used_for_their_request(app, simulator):
    client, _ = app
    generate(client, api_key=" sk-sim-beijing ")
    assert simulator.generation_requests()[0].headers["authorization"] == "Bearer sk-sim-beijing"


def test_a_key_of_the_other_region_explains_the_pairing(app, simulator):
    client, _ = app
    with pytest.raises(AppError, match="region where they were created") as caught:
        generate(client, api_key=SINGAPORE_KEY)
    assert "This demo's own key" not in str(caught.value), "the visitor's own key was refused"


def test_a_model_the_region_lacks_is_refused_before_any_call(app, simulator):
    client, _ = app
    with pytest.raises(AppError, match="not offered in the Singapore"):
        generate(client, region="singapore", api_key=SINGAPORE_KEY)
    assert simulator.generation_requests() == []


# --- The qwen3 options: language and instructions ------------------------------------------------


@pytest.mark.parametrize("language", ["Chinese", "English", "Japanese"])
def test_a_qwen3_model_is_sent_the_language_chosen(app, simulator, language):
    client, _ = app
    _, (_, complete, _) = generate(
        client, model="qwen3-tts-flash", voice="Dylan", language=language
    )
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": TEXT, "voice": "Dylan", "language_type": language}
    assert_wav_is(complete, sent.pcm)


def test_auto_sends_no_language_at_all(app, simulator):
    client, _ = app
    generate(client, model="qwen3-tts-flash-2025-09-18", voice="Sunny")
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": TEXT, "voice": "Sunny"}
    assert sent.body["parameters"] == {}


def test_an_instruct_model_is_sent_the_instructions_cleaned(app, simulator):
    client, _ = app
    generate(
        client,
        model="qwen3-tts-instruct-flash",
        voice="Cherry",
        language="English",
        instructions="  Whisper\u200b softly.\r\n Keep it low. ",
    )
    (sent,) = simulator.generation_requests()
    assert sent.body["input"]["language_type"] == "English"
    assert sent.body["parameters"] == {"instructions": "Whisper softly.\n Keep it low."}


def test_options_the_chosen_model_does_not_show_are_never_sent(app, simulator):
    """The page hides them and keeps their values; it sends only what is shown."""
    client, _ = app
    generate(
        client, model="qwen-tts-latest", voice="Dylan", language="English", instructions="Whisper."
    )
    generate(
        client, model="qwen3-tts-flash", voice="Dylan", language="Chinese", instructions="Whisper."
    )
    old, flash = simulator.generation_requests()
    assert old.body["input"] == {"text": TEXT, "voice": "Dylan"} and old.body["parameters"] == {}
    assert flash.body["input"]["language_type"] == "Chinese" and flash.body["parameters"] == {}


def test_instructions_over_the_limit_are_refused_before_any_call(app, simulator):
    client, _ = app
    with pytest.raises(AppError, match="accepts at most 1600"):
        generate(
            client,
            model="qwen3-tts-instruct-flash",
            voice="Cherry",
            instructions="慢慢地说。" * 400,
        )
    assert simulator.generation_requests() == []


def test_a_language_the_model_does_not_take_is_refused_before_any_call(synthesizer, simulator):
    # Through the page, Gradio's dropdown refuses a value outside its choices before the app's
    # code runs; the Synthesizer behind every event checks the language itself.
    with pytest.raises(
        InputError, match="Unknown language 'Klingon' for qwen3-tts-flash"
    ) as caught:
        synthesizer.plan(
            SpeechOrder(TEXT, "Cherry", "qwen3-tts-flash", "beijing", language_type="Klingon")
        )
    assert "Klingon" in caught.value.zh and "Chinese, English" in caught.value.zh
    assert simulator.generation_requests() == []


# --- Regions --------------------------------------------------------------------------------------


def test_the_demos_key_sent_to_the_other_region_explains_where_it_belongs(app, simulator):
    client, _ = app
    with pytest.raises(AppError) as caught:
        generate(client, model="qwen3-tts-flash", voice="Cherry", region="singapore")
    message = str(caught.value)
    assert "region where they were created" in message
    assert (
        "This demo's own key belongs to Beijing" in message
        and "本演示自带的 Key 属于北京" in message
    )
    assert simulator.generation_requests()[0].region == "singapore"


def test_a_singapore_key_speaks_in_singapore(app, simulator):
    client, _ = app
    _, (_, complete, _) = generate(
        client, model="qwen3-tts-flash", voice="Cherry", region="singapore", api_key=SINGAPORE_KEY
    )
    (sent,) = simulator.generation_requests()
    assert sent.region == "singapore" and sent.headers["authorization"] == f"Bearer {SINGAPORE_KEY}"
    assert_wav_is(complete, sent.pcm)


@pytest.fixture(scope="module")
def keyless_app(launch_app):
    return launch_app(DASHSCOPE_API_KEY="")


def test_without_a_key_synthesis_says_how_to_set_one(keyless_app, simulator):
    client, url = keyless_app
    with pytest.raises(AppError, match="DASHSCOPE_API_KEY"):
        client.predict(TEXT, "Cherry", "qwen-tts-latest", api_name="/synthesize")
    assert simulator.generation_requests() == []
    assert "No DashScope API key on this server" in requests.get(url + "config", timeout=5).text


def test_without_a_server_key_a_visitor_can_bring_their_own(keyless_app, simulator):
    client, _ = keyless_app
    _, (_, complete, _) = generate(client, api_key=BEIJING_KEY)
    assert_wav_is(complete, simulator.generation_requests()[0].pcm)


def test_the_server_key_appears_nowhere_in_the_page_or_its_config(app):
    _, url = app
    for path in ("", "config", "gradio_api/info"):
        assert BEIJING_KEY not in requests.get(url + path, timeout=5).text


def test_the_gallery_offers_the_blogs_samples_without_fetching_them(app, simulator):
    _, url = app
    config = requests.get(url + "config", timeout=5).json()
    text = json.dumps(config, ensure_ascii=False)
    assert "侬来帮伊向暖吧" in text
    # The cards name the blog's recordings, but only in players that load nothing until clicked.
    audios = re.findall(r"<audio[^>]*>", text.replace('\\"', '"'))
    official = [tag for tag in audios if "qianwen-res.oss-cn-beijing.aliyuncs.com" in tag]
    assert official, "the cards offer the blog's recordings"
    assert all('preload="none"' in tag for tag in official), official
    assert text.count("qianwen-res.oss-cn-beijing.aliyuncs.com") == len(official)


def test_the_visitor_sees_that_a_transient_failure_is_retried(app, simulator):
    client, _ = app
    simulator.enqueue_fault("throttling")
    job = submit_generate(client, TEXT, voice="Dylan")

    async def logs() -> list[str]:
        return [update.log[0] async for update in job if getattr(update, "log", None)]

    messages = asyncio.run(logs())
    # In the visitor's language only (this client asks for no language: English).
    assert any("retrying in" in message and "限流" not in message for message in messages)
    assert_wav_is(job.result()[1], simulator.generation_requests()[-1].pcm)


def test_long_text_is_spoken_in_parts_with_progress(app, simulator):
    client, _ = app
    simulator.profile.fixed_audio_seconds = 1.0  # keep the test quick: 1 s of audio per part
    text = "这是一个很长的句子，用来测试分段朗读的效果。" * 60
    seen, (_, complete, readout) = generate(client, text=text)
    parts = simulator.generation_requests()
    assert len(parts) > 1 and f'data-parts="{len(parts)}"' in readout
    assert "".join(r.body["input"]["text"] for r in parts) == text
    pcm = wav_to_pcm(Path(complete).read_bytes())
    assert len(pcm) == sum(len(r.pcm) for r in parts) + (len(parts) - 1) * 7_200  # 150 ms pauses


@pytest.fixture(scope="module")
def cached_app(launch_app, tmp_path_factory):
    return launch_app(
        SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(tmp_path_factory.mktemp("cache"))
    )


def test_a_repeated_generation_is_served_from_the_cache_and_marked(cached_app, simulator):
    client, _ = cached_app
    _, (_, first, _) = generate(client, text="缓存测试：同一句话说两遍。")
    _, (_, again, readout) = generate(client, text="缓存测试：同一句话说两遍。")
    assert len(simulator.generation_requests()) == 1
    assert 'data-cached="true"' in readout and 'data-billed="0"' in readout
    assert "nothing billed" in readout
    assert Path(again).read_bytes() == Path(first).read_bytes()


def test_a_refused_connection_is_explained_and_the_app_stays_up(launch_app):
    client, _ = launch_app(DASHSCOPE_HTTP_BASE_URL="http://127.0.0.1:9/api/v1")  # nobody listens
    for _ in range(2):
        with pytest.raises(AppError, match="Could not reach DashScope at 127.0.0.1:9"):
            client.predict(TEXT, "Cherry", "qwen-tts-latest", api_name="/synthesize")
