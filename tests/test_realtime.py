"""The realtime models through the one synthesis path, against the simulator's WebSocket side:
each model, each control (what DashScope receives), each fault, Stop, cache, budget, regions and
the URL settings."""

from __future__ import annotations

import threading
import time

import pytest

from dashscope_sim import DashScopeSimulator, UpstreamProfile
from dashscope_sim.realtime import spoken
from qwen_tts_showcase import errors
from qwen_tts_showcase.catalogue import Catalogue, load_catalogue
from qwen_tts_showcase.config import Settings
from qwen_tts_showcase.live import WORDS_HEADER
from qwen_tts_showcase.speech import Stopped
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer

from .conftest import BEIJING_KEY, RETRIES, SINGAPORE_KEY, simulator_settings, wait_until
from .helpers import VISITOR

TEXT = "Hello there. How are you today?"
CATALOGUE = load_catalogue()
SESSION_MODELS = [m.id for m in CATALOGUE.models if m.sdk == "realtime"]
TASK_MODELS = [m.id for m in CATALOGUE.models if m.sdk == "task"]


def _speak(synthesizer: Synthesizer, model: str, text: str = TEXT, **controls):
    voice = controls.pop("voice", "Cherry")
    region = controls.pop("region", "beijing")
    api_key = controls.pop("api_key", "")
    order = SpeechOrder(text, voice, model, region, **controls)
    return synthesizer.speech(order, visitor=VISITOR, api_key=api_key)


@pytest.mark.parametrize("model", SESSION_MODELS)
def test_each_realtime_model_speaks_through_the_sdk(synthesizer, simulator, model):
    result = _speak(synthesizer, model).complete()
    (session,) = simulator.realtime_sessions
    assert session.model == model and session.path.endswith("/api-ws/v1/realtime?model=" + model)
    assert session.headers["authorization"] == f"Bearer {BEIJING_KEY}"
    assert session.session["voice"] == "Cherry" and session.session["mode"] == "commit"
    # committed sentence by sentence: one response each, so each one's audio start is known
    assert session.committed == ["Hello there.", " How are you today?"]
    # exactly the simulator's samples, nothing lost or added between deltas
    first, second = (spoken(model, session.session, text) for text in session.committed)
    assert result.pcm == first + second
    assert result.starts == (0, len(first) // 48)
    assert result.usage == {"characters": len(TEXT)} and result.billed == len(TEXT)
    assert result.request_id == session.session["id"]


@pytest.mark.parametrize("model", TASK_MODELS)
def test_qwen_audio_speaks_the_task_protocol_with_word_times(synthesizer, simulator, model):
    speech = _speak(synthesizer, model, "Hello wide world. 你好。")
    result = speech.complete()
    (session,) = simulator.realtime_sessions
    assert session.path.endswith("/api-ws/v1/inference") and session.session["voice"] == "Cherry"
    assert session.session["word_timestamp_enabled"] is True
    assert result.pcm == session.pcm and result.usage == {"characters": 23}
    assert [w["text"] for w in result.words] == ["Hello", "wide", "world", "你", "好"]
    assert list(result.words) == session.word_times


@pytest.mark.parametrize(
    ("controls", "sent"),
    [
        ({"speech_rate": 1.5}, {"speech_rate": 1.5}),
        ({"pitch_rate": 0.8}, {"pitch_rate": 0.8}),
        ({"volume": 90}, {"volume": 90}),
        ({"sample_rate": 8000}, {"sample_rate": 8000}),
        ({"sample_rate": 48000, "response_format": "wav"}, {"response_format": "wav"}),
        ({"response_format": "wav"}, {"response_format": "wav"}),  # a header per sentence
        ({"language_type": "English"}, {"language_type": "English"}),
    ],
)
def test_the_controls_reach_dashscope_as_given(synthesizer, simulator, controls, sent):
    result = _speak(synthesizer, "qwen3-tts-flash-realtime", **controls).complete()
    (session,) = simulator.realtime_sessions
    assert sent.items() <= session.session.items()
    rate = session.session["sample_rate"]
    # what the app keeps is the audio DashScope sent, brought to the player's 24 kHz
    assert abs(result.audio_s - len(session.pcm) / 2 / rate) < 0.01
    if rate == 24000:
        assert result.pcm == session.pcm


def test_unset_controls_are_not_sent(synthesizer, simulator):
    _speak(synthesizer, "qwen3-tts-flash-realtime").complete()
    (update,) = [e for e in simulator.realtime_sessions[0].events if e["type"] == "session.update"]
    assert set(update["session"]) == {"voice", "mode", "response_format", "sample_rate"}


def test_instructions_reach_the_instruct_model(synthesizer, simulator):
    model = "qwen3-tts-instruct-flash-realtime"
    _speak(synthesizer, model, instructions="Whisper, slowly.").complete()
    assert simulator.realtime_sessions[0].session["instructions"] == "Whisper, slowly."


@pytest.mark.parametrize(
    ("controls", "words"),
    [
        ({"speech_rate": 2.5}, "speech_rate must be between 0.5 and 2"),
        ({"volume": -1}, "volume must be between 0 and 100"),
        ({"sample_rate": 22050}, "does not offer sample_rate '22050'"),
        ({"response_format": "mp3"}, "does not offer response_format 'mp3'"),
    ],
)
def test_a_control_out_of_range_is_refused_before_any_call(synthesizer, simulator, controls, words):
    with pytest.raises(errors.InputError, match=words):
        _speak(synthesizer, "qwen3-tts-flash-realtime", **controls)
    assert simulator.realtime_sessions == []


def test_http_models_refuse_the_realtime_controls(synthesizer, simulator):
    with pytest.raises(errors.InputError, match="takes no speech rate"):
        _speak(synthesizer, "qwen3-tts-flash", speech_rate=1.2)
    with pytest.raises(errors.InputError, match="does not offer sample_rate '16000'"):
        _speak(synthesizer, "qwen-tts-realtime", sample_rate=16000)


@pytest.mark.parametrize(
    ("fault", "error", "words"),
    [
        ("invalid_key", errors.InvalidKeyError, "key"),
        ("data_inspection", errors.ContentRejectedError, "content safety"),
        ("access_denied_unpurchased", errors.AccessDeniedError, ""),
        ("model_not_exist", errors.BadRequestError, ""),
    ],
)
def test_error_events_are_said_in_words(synthesizer, simulator, fault, error, words):
    simulator.enqueue_realtime_fault(fault)
    with pytest.raises(error) as caught:
        _speak(synthesizer, "qwen3-tts-flash-realtime").complete()
    assert words in str(caught.value) and "Traceback" not in str(caught.value)
    assert len(simulator.realtime_sessions) == 1, "not retried"


def test_retryable_failures_are_retried_before_the_first_audio(synthesizer, simulator):
    simulator.enqueue_realtime_fault("throttling")
    simulator.enqueue_realtime_fault("internal_error")
    result = _speak(synthesizer, "qwen3-tts-flash-realtime").complete()
    assert [s.fault for s in simulator.realtime_sessions] == ["throttling", "internal_error", None]
    assert result.pcm == simulator.realtime_sessions[-1].pcm


def test_no_retry_once_audio_has_played(synthesizer, simulator):
    simulator.enqueue_realtime_fault("internal_error", after_chunks=2)
    with pytest.raises(errors.ServiceError) as caught:
        _speak(synthesizer, "qwen3-tts-flash-realtime").complete()
    assert len(simulator.realtime_sessions) == 1
    assert "not kept" in str(caught.value) or "未保留" in str(caught.value)


def test_a_socket_closed_early_is_said_and_nothing_kept(synthesizer, simulator):
    simulator.enqueue_realtime_fault("early_close", after_chunks=2, times=1)
    with pytest.raises(errors.IncompleteAudioError) as caught:
        _speak(synthesizer, "qwen3-tts-flash-realtime").complete()
    assert "ended before it was complete" in str(caught.value)
    assert len(simulator.realtime_sessions) == 1


def test_a_session_that_never_starts_is_said(simulator, catalogue):
    settings = simulator_settings(simulator, catalogue, SHOWCASE_CONNECT_TIMEOUT_S="0.5")
    simulator.enqueue_realtime_fault("never_started", delay_s=30)
    with pytest.raises(errors.UpstreamTimeoutError, match="did not start within 0.5 s"):
        _speak(Synthesizer(catalogue, settings), "qwen3-tts-flash-realtime").complete()


def test_a_stalled_stream_times_out(simulator, catalogue):
    settings = simulator_settings(simulator, catalogue, SHOWCASE_READ_TIMEOUT_S="0.5")
    simulator.enqueue_realtime_fault("stall", after_chunks=1, delay_s=30)
    with pytest.raises(errors.UpstreamTimeoutError, match="stopped answering for more than 0.5"):
        _speak(Synthesizer(catalogue, settings), "qwen3-tts-flash-realtime").complete()


def test_stop_closes_the_websocket_at_once(synthesizer, simulator):
    simulator.profile = UpstreamProfile(realtime_factor=1.0)  # real time: long enough to stop
    speech = _speak(synthesizer, "qwen3-tts-flash-realtime", TEXT * 4)
    chunks = iter(speech)
    next(chunks)
    stopper = threading.Thread(target=speech.close)
    stopper.start()
    with pytest.raises(Stopped):
        for _ in chunks:
            pass
    stopper.join()
    (session,) = simulator.realtime_sessions
    wait_until(lambda: session.closed_at is not None, "the simulator sees the socket closed")
    assert session.client_closed
    assert len(session.pcm) < len(spoken("qwen3-tts-flash-realtime", session.session, TEXT * 4))


def test_results_are_cached_like_the_http_models(simulator, catalogue):
    synthesizer = Synthesizer(
        catalogue, simulator_settings(simulator, catalogue, SHOWCASE_CACHE_MAX_MB="50")
    )
    first = _speak(synthesizer, "qwen3-tts-flash-realtime", volume=70).complete()
    again = _speak(synthesizer, "qwen3-tts-flash-realtime", volume=70).complete()
    other = _speak(synthesizer, "qwen3-tts-flash-realtime", volume=71).complete()
    assert again.cached and again.pcm == first.pcm and not other.cached
    assert len(simulator.realtime_sessions) == 2


def test_the_daily_budget_counts_characters_before_connecting(simulator, catalogue):
    settings = simulator_settings(simulator, catalogue, SHOWCASE_DAILY_CHAR_BUDGET="20")
    synthesizer = Synthesizer(catalogue, settings)
    with pytest.raises(errors.LimitReachedError):
        _speak(synthesizer, "qwen3-tts-flash-realtime", "你好" * 11).complete()  # 44 billed
    assert simulator.realtime_sessions == []


def test_own_key_and_regions(synthesizer, simulator):
    _speak(
        synthesizer, "qwen3-tts-flash-realtime", region="singapore", api_key=SINGAPORE_KEY
    ).complete()
    (session,) = simulator.realtime_sessions
    assert session.region == "singapore"
    assert session.headers["authorization"] == f"Bearer {SINGAPORE_KEY}"
    with pytest.raises(errors.InputError, match="Beijing"):
        _speak(synthesizer, "qwen-tts-realtime", region="singapore")
    with pytest.raises(errors.InvalidKeyError):  # the Beijing key in Singapore
        _speak(synthesizer, "qwen3-tts-flash-realtime", region="singapore").complete()
    assert len(simulator.realtime_sessions) == 2, "a refused key is not retried"


def test_realtime_urls_follow_the_environment(catalogue: Catalogue):
    defaults = Settings.from_env(catalogue, {})
    assert defaults.realtime_urls == {
        "beijing": "wss://dashscope.aliyuncs.com/api-ws/v1/realtime",
        "singapore": "wss://dashscope-intl.aliyuncs.com/api-ws/v1/realtime",
    }
    env = {
        "DASHSCOPE_REALTIME_URL": "wss://a.example/api-ws/v1/realtime?model=x",
        "DASHSCOPE_INTL_REALTIME_URL": " wss://b.example/ws ",
    }
    settings = Settings.from_env(catalogue, env)
    # the SDK appends ?model= itself: a query in the setting would be sent twice
    assert settings.realtime_urls == {
        "beijing": "wss://a.example/api-ws/v1/realtime",
        "singapore": "wss://b.example/ws",
    }


def test_a_refused_connection_is_said(simulator, catalogue):
    settings = simulator_settings(
        simulator, catalogue, DASHSCOPE_REALTIME_URL="ws://127.0.0.1:9/api-ws/v1/realtime"
    )
    with pytest.raises(errors.ConnectionFailedError, match="Could not reach DashScope"):
        _speak(Synthesizer(catalogue, settings), "qwen3-tts-flash-realtime").complete()


def test_synthesize_accepts_realtime_models(app, simulator: DashScopeSimulator):
    from .helpers import assert_wav_is

    client, _ = app
    path = client.predict(TEXT, "Cherry", "qwen3-tts-flash-realtime", api_name="/synthesize")
    (session,) = simulator.realtime_sessions
    assert_wav_is(path, session.pcm)
    assert RETRIES  # the app under test retries (conftest): faults above count on it


@pytest.mark.parametrize(
    "model",
    [m for m in CATALOGUE.models + CATALOGUE.custom_models if m.realtime],
    ids=lambda m: m.id,
)
def test_the_catalogue_agrees_with_the_service(model):
    from dashscope_sim.realtime_tables import realtime_model

    served = realtime_model(model.id)
    assert served is not None, "the simulator serves every realtime model the catalogue lists"
    assert served.protocol == model.sdk and served.regions == model.regions
    assert set(served.voices) == set(model.voices) and served.family == model.family
    assert served.instructions == model.instructions and served.word_times == model.word_times
    assert set(model.formats) <= set(served.formats)
    assert set(model.sample_rates) == set(served.sample_rates)
    if model.language_types:
        assert set(model.language_types) == set(served.language_types)


def test_the_studio_sends_the_controls_it_shows(app, simulator):
    client, _ = app
    inputs = (TEXT, "qwen3-tts-flash-realtime", "Cherry", "English", "", "beijing", "", True)
    client.submit(*inputs, 1.5, 0.8, 70, 16000, "wav", False, api_name="/generate").result()
    (session,) = simulator.realtime_sessions
    sent = {k: session.session[k] for k in ("speech_rate", "pitch_rate", "volume", "sample_rate")}
    assert sent == {"speech_rate": 1.5, "pitch_rate": 0.8, "volume": 70, "sample_rate": 16000}
    assert session.session["response_format"] == "wav"
    assert session.session["language_type"] == "English"


def test_the_studio_sends_no_controls_to_an_http_model(app, simulator):
    client, _ = app
    inputs = (TEXT, "qwen3-tts-flash", "Cherry", "Auto", "", "beijing", "", True)
    client.submit(*inputs, 1.5, 0.8, 70, 16000, "wav", False, api_name="/generate").result()
    assert simulator.realtime_sessions == []
    (sent,) = simulator.generation_requests()
    assert not {"speech_rate", "volume", "sample_rate"} & set(sent.body.get("parameters") or {})


@pytest.mark.parametrize("model", ["qwen3-tts-flash-realtime", "qwen-audio-3.1-tts-flash"])
def test_speak_as_written_sends_the_text_in_pieces_and_speaks_as_it_comes(
    synthesizer, simulator, model
):
    from qwen_tts_showcase.dashscope_client import written_pieces

    text = "Hello there, my good old friend. How are you? 你好。"
    assert written_pieces(text) == [
        "Hello ", "there, ", "my ", "good ", "old ", "friend. ", "How ", "are ", "you? ", "你", "好。"
    ]  # fmt: skip
    result = _speak(synthesizer, model, text, written_pace=20).complete()
    (session,) = simulator.realtime_sessions
    assert session.appended() == written_pieces(text)
    if model.startswith("qwen3"):
        # the app commits phrase by phrase: the first word alone, then more (a clause's mark
        # ends one), never a lone word left in a sentence
        assert session.session["mode"] == "commit"
        assert session.committed == [
            "Hello ", "there, ", "my good old friend. ", "How are you? ", "你好。"
        ]  # fmt: skip
        assert result.pcm == b"".join(
            spoken(model, session.session, phrase) for phrase in session.committed
        )
        # the lit sentences start where their first phrase's audio does
        ms = [len(spoken(model, session.session, phrase)) // 48 for phrase in session.committed]
        assert list(result.starts) == [0, sum(ms[:3]), sum(ms[:4])]
    else:  # Qwen-Audio's task protocol has no commit: its server speaks each sentence as it ends
        assert session.committed == ["Hello there, my good old friend.", " How are you?", " 你好。"]
    assert result.pcm == session.pcm
    # first sound counts from the first piece of text, which went before the last one
    assert 0 < result.first_audio_s < result.total_s


def test_written_phrases_start_short_grow_and_keep_sentences_apart():
    from qwen_tts_showcase.dashscope_client import written_phrases

    def phrases(text: str) -> list[tuple[str, bool]]:
        return [("".join(pieces), opens) for pieces, opens in written_phrases(text)]

    # one word first, then two, four...; a sentence's end always ends a phrase
    assert phrases("Here is how a voice assistant sounds while it writes. Bye now.") == [
        ("Here ", True), ("is how ", False), ("a voice assistant sounds ", False),
        ("while it writes. ", False), ("Bye now.", True),
    ]  # fmt: skip
    # two Han characters make a word; a clause's mark ends a phrase; no lone word is left over
    assert phrases("你好。今天天气很好，我们一起去公园散步吧！") == [
        ("你好。", True), ("今天天气", True), ("很好，", False), ("我们一起去公园散步吧！", False),
    ]  # fmt: skip
    assert phrases("") == []


def test_speak_as_written_is_for_realtime_models_and_a_sane_pace(synthesizer, simulator):
    with pytest.raises(errors.InputError, match="takes no speech rate"):
        _speak(synthesizer, "qwen3-tts-flash", written_pace=4)
    with pytest.raises(errors.InputError, match="written_pace must be between 1 and 20"):
        _speak(synthesizer, "qwen3-tts-flash-realtime", written_pace=0.01)


def test_the_studio_speaks_as_written_when_asked(app, simulator):
    client, _ = app
    inputs = (TEXT, "qwen3-tts-flash-realtime", "Cherry", "Auto", "", "beijing", "", True)
    client.submit(*inputs, 1.0, 1.0, 50, 24000, "pcm", True, api_name="/generate").result()
    (session,) = simulator.realtime_sessions
    assert session.session["mode"] == "commit"
    assert session.appended() == ["Hello ", "there. ", "How ", "are ", "you ", "today?"]
    assert session.committed == ["Hello there. ", "How are ", "you today?"]  # no lone word


def test_a_designed_voice_speaks_through_the_realtime_vd_model_for_its_maker_only(
    simulator, catalogue
):
    from qwen_tts_showcase.voices import new_owner_token

    from .helpers import SPACE_ON, design, maker_for

    maker, mine = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, mine)
    model = "qwen3-tts-vd-realtime-2026-01-15"
    order = SpeechOrder(TEXT, voice.voice, model, "beijing", owner=mine)
    result = maker.synthesizer.speech(order, visitor=VISITOR).complete()
    (session,) = simulator.realtime_sessions
    assert session.model == model and session.session["voice"] == voice.voice
    assert result.pcm == b"".join(spoken(model, session.session, t) for t in session.committed)
    with pytest.raises(errors.InputError):  # someone else's browser
        maker.synthesizer.speech(
            SpeechOrder(TEXT, voice.voice, model, "beijing", owner=new_owner_token()),
            visitor=VISITOR,
        )
    with pytest.raises(errors.InputError):  # a designed voice does not speak through VC
        maker.synthesizer.speech(
            SpeechOrder(
                TEXT, voice.voice, "qwen3-tts-vc-realtime-2026-01-15", "beijing", owner=mine
            ),
            visitor=VISITOR,
        )


def test_speak_as_written_waits_for_the_writer_past_the_read_timeout(simulator, catalogue):
    # the pieces come slower than the silence tolerated: still no timeout while writing
    settings = simulator_settings(simulator, catalogue, SHOWCASE_READ_TIMEOUT_S="0.3")
    text = "Yes. And then a few more words."
    result = _speak(Synthesizer(catalogue, settings), SESSION_MODELS[0], text, written_pace=5)
    assert result.complete().pcm == simulator.realtime_sessions[0].pcm


# --- Words lit during the live stream ----------------------------------------------------------


def _live_ticket(url: str, session: str, model: str, text: str, written: bool = False) -> str:
    """A live ticket for a realtime model, as the page asks for one (Studio's inputs)."""
    from .helpers import page_event

    inputs = [text, model, "Cherry", "Auto", "", "beijing", "", True, None]
    return page_event(
        url, "generate_live", [*inputs, 1.0, 1.0, 50, 24000, "pcm", written], session
    )[0]


def _words_while_streaming(url: str, token: str, after_bytes: int) -> tuple[dict, bytes, bytes]:
    """(/words asked once after_bytes of audio arrived, the audio before it, all the audio)."""
    import requests

    seen, told, before = b"", None, b""
    with requests.get(f"{url}live/{token}", stream=True, timeout=30) as answer:
        assert answer.status_code == 200
        assert answer.headers[WORDS_HEADER] == "1"  # the page asks /words only then
        for chunk in answer.iter_content(chunk_size=None):
            seen += chunk
            if told is None and len(seen) >= after_bytes:
                told = requests.get(f"{url}live/{token}/words", timeout=10).json()
                before = seen
    return told, before, seen


def test_qwen_audio_word_times_reach_the_page_while_the_stream_plays(app, simulator):
    import requests

    _, url = app
    simulator.profile = UpstreamProfile(realtime_factor=0.5)  # slow enough to ask mid-stream
    token = _live_ticket(url, "s-words", "qwen-audio-3.1-tts-flash", "Hello wide world. Bye now.")
    told, before, audio = _words_while_streaming(url, token, 24_000)
    (session,) = simulator.realtime_sessions
    assert told["timing"] == "words" and len(before) < len(audio)  # asked before the end
    # the first sentence's words, with the times the model sent, are there before its audio ends
    first = [
        {"text": w["text"], "begin": w["begin_time"], "end": w["end_time"]}
        for w in session.word_times
    ]
    assert told["spans"][:3] == first[:3] and [s["text"] for s in first] == [
        "Hello",
        "wide",
        "world",
        "Bye",
        "now",
    ]
    # at the end, every word, once, with its times
    end = requests.get(f"{url}live/{token}/end", timeout=10).json()
    assert end["state"] == "complete" and end["timeline"] == {"timing": "words", "spans": first}
    assert audio == session.pcm


def test_sentences_reach_the_page_with_where_their_audio_starts(app, simulator):
    import requests

    _, url = app
    simulator.profile = UpstreamProfile(realtime_factor=0.5)
    text = "Hello there. How are you today? Fine."
    token = _live_ticket(url, "s-sentences", "qwen3-tts-flash-realtime", text)
    told, before, audio = _words_while_streaming(url, token, 4_800)
    (session,) = simulator.realtime_sessions
    sizes = [len(spoken("qwen3-tts-flash-realtime", session.session, s)) for s in session.committed]
    assert told["timing"] == "sentences" and len(before) < sizes[0]  # mid first sentence
    assert told["spans"][0] == {"text": "Hello there.", "begin": 0}
    assert [s["begin"] for s in told["spans"][1:]] == [None, None]  # not started yet
    end = requests.get(f"{url}live/{token}/end", timeout=10).json()
    starts = [0, sizes[0] // 48, (sizes[0] + sizes[1]) // 48]
    assert end["timeline"]["spans"] == [
        {"text": "Hello there.", "begin": starts[0], "end": starts[1]},
        {"text": " How are you today?", "begin": starts[1], "end": starts[2]},
        {"text": " Fine.", "begin": starts[2], "end": len(audio) // 48},
    ]
    assert requests.get(f"{url}live/made-up/words", timeout=10).status_code == 403


def test_progress_grows_as_the_speech_is_read(synthesizer, simulator):
    speech = _speak(synthesizer, "qwen-audio-3.1-tts-flash", "Hello wide world. Bye now.")
    seen = []
    for _ in speech:
        seen.append(len(speech.progress()[0]))
    assert seen[0] == 3 and seen[-1] == 5  # the first sentence's words came with its audio
    assert speech.progress() == (list(speech.result.words), list(speech.result.starts))


# --- Speak as I type -------------------------------------------------------------------------


def _typist(typed, pieces: list[str], pause_s: float = 0.05) -> threading.Thread:
    """Type the pieces into a TypedText from another thread, then finish."""

    def type_() -> None:
        for piece in pieces:
            time.sleep(pause_s)
            typed.append(piece)
        typed.finish()

    thread = threading.Thread(target=type_, daemon=True)
    thread.start()
    return thread


TYPED = ["Hello ", "there. ", "How ", "are ", "you? ", "你好。"]


@pytest.mark.parametrize("model", ["qwen3-tts-flash-realtime", "qwen-audio-3.1-tts-flash"])
def test_typed_text_is_spoken_as_it_comes_and_charged_for_what_was_typed(
    simulator, catalogue, model
):
    from qwen_tts_showcase.realtime import TYPED_MAX_CHARS, TypedText
    from qwen_tts_showcase.text import billed_characters

    settings = simulator_settings(simulator, catalogue, SHOWCASE_DAILY_CHAR_BUDGET="5000")
    synthesizer = Synthesizer(catalogue, settings)
    typed = TypedText()
    order = SpeechOrder("", "Cherry", model, "beijing", typed=True)
    speech = synthesizer.speech(order, visitor=VISITOR, typed=typed)
    chunks = iter(speech)
    typist = _typist(typed, TYPED)
    first = next(chunks)  # audio comes while the rest is still being typed
    assert first and typist.is_alive()
    assert synthesizer.quota.spent_today() == TYPED_MAX_CHARS  # the cap, reserved up front
    pcm = first + b"".join(chunks)
    (session,) = simulator.realtime_sessions
    # what the model received is what was typed, piece by piece (a piece typed while the
    # session took the last one may join it), in server_commit mode
    assert "".join(session.appended()) == "".join(TYPED) == typed.text
    assert session.session.get("mode", "server_commit") == "server_commit"
    assert session.committed == ["Hello there.", " How are you?", " 你好。"]
    assert pcm == session.pcm == speech.result.pcm
    assert speech.result.request.text == "".join(TYPED)
    # the unused part of the cap given back: the budget counts what was typed
    assert synthesizer.quota.spent_today() == billed_characters("".join(TYPED))
    assert not speech.result.cached and synthesizer.cache.get(speech.plan.cache_key) is None


def test_typed_text_is_bounded(simulator):
    from qwen_tts_showcase.realtime import TYPED_PIECE_MAX_CHARS, TypedText

    typed = TypedText(max_chars=10)
    assert typed.append("Hello ") == 6
    with pytest.raises(errors.LimitReachedError, match="at most 10 billed characters"):
        typed.append("你好吗")  # 6 more billed: past the cap
    with pytest.raises(errors.InputError, match=f"at most {TYPED_PIECE_MAX_CHARS} characters"):
        typed.append("x" * (TYPED_PIECE_MAX_CHARS + 1))
    typed.finish()
    with pytest.raises(errors.InputError, match="has ended"):
        typed.append("more")
    assert typed.text == "Hello "
    # an idle session ends by itself
    idle = TypedText(idle_s=0.05)
    idle.append("Hi")
    stop = threading.Event()
    assert idle.next_piece(stop) == "Hi" and idle.next_piece(stop) is None and idle.finished


def test_a_typed_order_needs_the_page(synthesizer, simulator):
    with pytest.raises(errors.InputError, match="live player"):
        _speak(synthesizer, "qwen3-tts-flash-realtime", "", typed=True)
    with pytest.raises(errors.InputError, match="takes no speech rate"):
        _speak(synthesizer, "qwen3-tts-flash", "Hi", typed=True)


def _typed_ticket(url: str, session: str, model: str = "qwen3-tts-flash-realtime") -> str:
    """A speak-as-I-type ticket, as realtime.js asks for one (#typed_live)."""
    from .helpers import page_event

    inputs = ["", model, "Cherry", "Auto", "", "beijing", "", True, None]
    controls = [1.0, 1.0, 50, 24000, "pcm", False, True]  # ..., written, typed
    return page_event(url, "typed_live", [*inputs, *controls], session)[0]


def test_the_page_types_into_an_open_stream_and_the_audio_follows(launch_app, simulator):
    import requests

    _, url = launch_app(SHOWCASE_DAILY_CHAR_BUDGET="5000")
    simulator.profile = UpstreamProfile(realtime_factor=0.2)
    token = _typed_ticket(url, "s-typed")
    post = lambda body: requests.post(f"{url}live/{token}/text", json=body, timeout=10)  # noqa: E731
    assert post({"text": "Hello "}).json() == {"billed": 6, "cap": 1000}  # before it streams
    heard = []

    def listen() -> None:
        with requests.get(f"{url}live/{token}", stream=True, timeout=30) as answer:
            heard.extend(answer.iter_content(chunk_size=None))

    listener = threading.Thread(target=listen)
    listener.start()
    wait_until(lambda: simulator.realtime_sessions, "the session to open")
    (session,) = simulator.realtime_sessions
    post({"text": "there. "})
    wait_until(lambda: heard, "audio of the first sentence, before the rest is typed")
    assert session.committed == ["Hello there."] and listener.is_alive()
    for piece in ["How ", "are ", "you?"]:
        post({"text": piece})
    assert post({"text": " Bye.", "finish": True}).status_code == 200
    listener.join(30)
    assert "".join(session.appended()) == "Hello there. How are you? Bye."
    assert b"".join(heard) == session.pcm
    end = requests.get(f"{url}live/{token}/end", timeout=10).json()
    assert end["state"] == "complete"
    assert [s["text"] for s in end["timeline"]["spans"]] == [
        "Hello there.",
        " How are you?",
        " Bye.",
    ]
    ended = post({"text": "more"})
    assert ended.status_code == 400 and "has ended" in ended.json()["en"]
    assert (
        requests.post(f"{url}live/made-up/text", json={"text": "x"}, timeout=10).status_code == 403
    )


def test_leaving_a_typing_session_closes_its_socket_and_ends_it(app, simulator):
    import requests

    _, url = app
    simulator.profile = UpstreamProfile(realtime_factor=1.0)  # real time: still playing
    token = _typed_ticket(url, "s-typed-stop")
    post = lambda body: requests.post(f"{url}live/{token}/text", json=body, timeout=10)  # noqa: E731
    post({"text": "A sentence long enough to be stopped while it is spoken. "})
    with requests.get(f"{url}live/{token}", stream=True, timeout=30) as answer:
        next(answer.iter_content(chunk_size=None))  # audio plays; then the page leaves (Stop)
    (session,) = simulator.realtime_sessions
    wait_until(lambda: session.closed_at is not None, "the realtime socket to close")
    assert session.client_closed
    wait_until(lambda: post({"text": "more"}).status_code == 400, "the session to refuse text")
    assert "has ended" in post({"text": "more"}).json()["en"]
