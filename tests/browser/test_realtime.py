"""The realtime models in Chromium: their controls show only for them, what they show is what the
simulator's WebSocket receives, and the audio plays through the live player."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..conftest import wait_until
from .pages import HEARD, PANEL, SOUNDED, TAP, choose, trimmed, wait_for_state

REALTIME = "Qwen3-TTS Flash Realtime"  # qwen3-tts-flash-realtime, as the model picker names it
QWEN_AUDIO = "Qwen-Audio TTS 3.1 Flash"  # qwen-audio-3.1-tts-flash


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app()


def live_page(open_page) -> Page:
    page = open_page(player="live")
    expect(page.locator("html")).to_have_class("live-player")
    page.evaluate(TAP)
    return page


def set_slider(page: Page, elem_id: str, value: float) -> None:
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Enter")
    expect(box).to_have_value(str(value))


def test_the_controls_show_only_for_realtime_models_and_are_what_is_sent(open_page, simulator):
    page = live_page(open_page)
    controls = page.locator("#realtime_controls")
    expect(controls).to_be_hidden()  # the opening model is an HTTP one
    choose(page, "model", REALTIME)
    expect(controls).to_be_visible()
    set_slider(page, "speech_rate", 1.5)
    set_slider(page, "pitch_rate", 0.8)
    set_slider(page, "volume", 70)
    choose(page, "sample_rate", "16 kHz")
    choose(page, "response_format", "WAV")
    page.locator("#text textarea").fill("Hello there. How are you?")
    page.locator("#generate").click()
    page.wait_for_function(SOUNDED)
    wait_for_state(page, "complete")
    (session,) = simulator.realtime_sessions
    shown = {"speech_rate": 1.5, "pitch_rate": 0.8, "volume": 70, "sample_rate": 16000}
    assert {name: session.session[name] for name in shown} == shown
    assert session.session["response_format"] == "wav"
    expect(page.locator(f"{PANEL} .live-status")).to_contain_text("Played")  # all of it
    # every sample heard is the app's 24 kHz rendering of the 16 kHz audio sent, none missing
    heard = page.evaluate(HEARD)
    assert len(heard) == pytest.approx(len(trimmed(session.pcm)) * 1.5, abs=3)

    choose(page, "model", "Qwen3-TTS Flash")
    expect(controls).to_be_hidden()
    page.locator("#generate").click()
    wait_for_state(page, "complete")
    assert len(simulator.realtime_sessions) == 1
    (sent,) = simulator.generation_requests()
    assert not {"speech_rate", "volume", "sample_rate"} & set(sent.body.get("parameters") or {})


def test_the_older_realtime_model_offers_only_24_khz_pcm(open_page, simulator):
    page = live_page(open_page)
    choose(page, "model", "Qwen-TTS Realtime")
    page.locator("#sample_rate input").click()
    expect(page.get_by_role("option")).to_have_text([re.compile("24 kHz$")])
    page.keyboard.press("Escape")
    page.locator("#response_format input").click()
    expect(page.get_by_role("option")).to_have_text([re.compile("PCM$")])


def test_stop_closes_the_realtime_socket(open_page, simulator):
    simulator.profile.realtime_factor = 1.0  # real time: only a stop ends it soon
    page = live_page(open_page)
    choose(page, "model", REALTIME)
    page.locator("#text textarea").fill("A long line to stop. " * 20)
    page.locator("#generate").click()
    page.wait_for_function(SOUNDED)
    wait_for_state(page, "playing")
    page.locator(f"{PANEL} .live-stop").click()
    wait_for_state(page, "stopped")
    (session,) = simulator.realtime_sessions

    wait_until(lambda: session.closed_at is not None, "the realtime socket to close")
    assert session.client_closed
    expect(page.locator("#download")).to_be_disabled()


RESULT = '#result_audio [data-testid^="waveform-"] audio'  # the finished recording's clock
LIT = "() => [...document.querySelectorAll('#spoken_words .spoken.lit')].map(s => s.textContent)"
SEEK = """async (audio, seconds) => {
    if (audio.readyState < 1) {
        await new Promise((done) => audio.addEventListener("loadedmetadata", done, {once: true}));
    }
    audio.currentTime = seconds;
}"""


def lit_at(page: Page, seconds: float) -> list[str]:
    """The words lit once the finished recording's clock reads `seconds`."""
    audio = page.locator(RESULT)
    for _ in range(250):  # until the seek lands (the player may reload its media first); 5 s
        audio.evaluate(SEEK, seconds)
        page.wait_for_timeout(20)
        if abs(audio.evaluate("(a) => a.currentTime") - seconds) < 0.001:
            break
    else:
        raise AssertionError(f"the recording never reached {seconds} s")
    # two animation frames: the highlight's loop, which reads the clock each frame, has run since
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return page.evaluate(LIT)


def speak(page: Page, model: str, text: str) -> None:
    choose(page, "model", model)
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()
    wait_for_state(page, "complete")
    expect(page.locator(RESULT)).to_have_attribute("src", re.compile("^blob:"))


def test_qwen_audio_words_light_up_with_the_recordings_clock(open_page, simulator, screenshots):
    page = live_page(open_page)
    speak(page, QWEN_AUDIO, "Hello wide world. 你好。")
    (session,) = simulator.realtime_sessions
    words = session.word_times
    assert [w["text"] for w in words] == ["Hello", "wide", "world", "你", "好"]
    expect(page.locator("#spoken_words .spoken-words")).to_have_attribute("data-timing", "words")
    for word in words:
        # 20 ms into a word it is the one lit: the highlight follows the clock within 50 ms
        assert lit_at(page, (word["begin_time"] + 20) / 1000) == [word["text"]]
    # and 20 ms before a word begins, the previous one is still lit
    assert lit_at(page, (words[2]["begin_time"] - 20) / 1000) == ["wide"]
    page.locator("#studio").screenshot(path=screenshots / "realtime.png")


def test_without_word_times_sentences_light_on_the_audios_timeline(open_page, simulator):
    page = live_page(open_page)
    speak(page, REALTIME, "Hello there. How are you?")
    expect(page.locator("#spoken_words .spoken-words")).to_have_attribute(
        "data-timing", "sentences"
    )
    (session,) = simulator.realtime_sessions
    seconds = len(session.pcm) / 48_000
    assert lit_at(page, 0.1) == ["Hello there."]
    assert lit_at(page, seconds - 0.1) == [" How are you?"]


def test_speak_as_written_writes_the_reply_out_while_the_voice_follows(open_page, simulator):
    page = live_page(open_page)
    choose(page, "model", REALTIME)
    page.locator("#speak_as_written input").check()
    text = "Sure! Here is how a voice assistant sounds while it writes."
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()
    preview = page.locator("#written_preview")
    # seen part-way: the first words written, not yet the rest
    page.wait_for_function(
        "(text) => { const b = document.getElementById('written_preview');"
        " return b && b.textContent.startsWith('Sure! ') && b.textContent.length < text.length; }",
        arg=text,
    )
    expect(preview).to_have_attribute("data-state", "written", timeout=30_000)
    expect(preview).to_have_text(text)
    wait_for_state(page, "complete")
    (session,) = simulator.realtime_sessions
    assert session.session["mode"] == "commit"  # the app commits phrase by phrase
    assert "".join(session.appended()) == text and len(session.appended()) == 11
    assert session.committed[:3] == ["Sure! ", "Here is ", "how a voice assistant "]


# The live run's played position from the page's own state: the AudioContext's clock since the
# run's first frame, less the silences the player put in where the stream fell behind; and the
# words lit in the live box at that moment.
HEARD_NOW = """() => {
  const run = window.qwenTts.live.current();
  const box = document.getElementById('live_words');
  if (!run || !box || run.firstFrame === null) return null;
  const lit = [...box.querySelectorAll('.spoken.lit')].map(s => s.textContent);
  const heard = window.qwenTtsWords.heardMs(run);
  const litFor = box.dataset.heard === undefined || box.dataset.heard === ''
    ? null : +box.dataset.heard;
  return {heard, litFor, lit, done: run.done};
}"""


def test_qwen_audio_words_light_up_with_the_live_players_clock(open_page, simulator):
    # about real time (a little faster): the stream is still arriving while the words play
    simulator.profile.realtime_factor = 0.8
    page = live_page(open_page)
    choose(page, "model", QWEN_AUDIO)
    text = "Hello wide world. The words light up as they are spoken. Goodbye for now."
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()
    samples = []
    for _ in range(1200):  # every 25 ms, until the stream has ended; 30 s at most
        now = page.evaluate(HEARD_NOW)
        if now is not None and now["done"]:
            break
        if now is not None and now["lit"] and now["litFor"] is not None:
            samples.append(now)
        page.wait_for_timeout(25)
    (session,) = simulator.realtime_sessions
    words = session.word_times
    assert [w["text"] for w in words][:3] == ["Hello", "wide", "world"]
    # before the stream ended, the lit word changed with the player's clock, and each time it
    # was the word whose time span held the played position the page lit it for; that position
    # is the audio clock's, never ahead of what is heard. How many ms a frame lags on a loaded
    # machine is the bench's measure (bench/browser_realtime.py), not a test's.
    assert len({s["lit"][0] for s in samples}) >= 3, samples
    for sample in samples:
        (lit,) = sample["lit"]
        held = [w["text"] for w in words if w["begin_time"] <= sample["litFor"] < w["end_time"]]
        assert held == [lit], (sample, held)
        assert sample["litFor"] <= sample["heard"], sample
    lit_for = [s["litFor"] for s in samples]
    assert lit_for == sorted(lit_for), lit_for
    wait_for_state(page, "complete")


def test_speak_as_i_type_speaks_before_the_typing_ends(open_page, simulator):
    page = live_page(open_page)
    choose(page, "model", REALTIME)
    page.locator("#speak_as_typed input").check()
    box = page.locator("#text textarea")
    box.fill("")
    box.click()
    text = "Hello there. How are you today? I am typing this slowly, one key at a time."
    first_sound = None
    for index, key in enumerate(text):  # a slow keyboard: a key every 60 ms or so
        page.keyboard.type(key)
        page.wait_for_timeout(60)
        if first_sound is None and page.evaluate(SOUNDED):
            first_sound = index
    assert first_sound is not None and first_sound < len(text) - 20, first_sound
    wait_for_state(page, "complete")  # a pause finishes it
    (session,) = simulator.realtime_sessions
    assert "".join(session.appended()) == text  # what was typed, nothing else
    assert session.session["mode"] == "server_commit"
    assert session.committed[0] == "Hello there."
    # every sample sent was heard, in order, none missing (with silences where the voice
    # waited for the typing)
    page.wait_for_function(
        "() => { const run = window.qwenTts.live.current(); return run.done && !run.sources.size; }"
    )
    sounds = lambda samples: [x for x in samples if x]  # noqa: E731
    assert sounds(page.evaluate(HEARD)) == sounds(trimmed(session.pcm))
