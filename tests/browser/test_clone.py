"""The Clone tab in Chromium: upload or record with a (fake) microphone, checks before sending,
consent, speaking the cloned voice, and the recording not left on the server's disk."""

from __future__ import annotations

import base64
import io
import os
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from .conftest import CHROMIUM_ARGS
from .pages import toast

CLONE_TAB = re.compile("^(Clone|音色复刻)$")
VC = "qwen3-tts-vc-2026-01-22"


def tone_wav(seconds: float, rate: int = 48_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 60 * np.sin(2 * np.pi * 0.5 * t)
    pcm = (9000 * np.sin(2 * np.pi * pitch * t)).astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def app(launch_app):
    """The app with the Space's key allowed to clone voices."""
    return launch_app(SHOWCASE_ALLOW_CLONING="1", SHOWCASE_VOICES_PER_VISITOR_DAY="0")


def open_clone(page):
    page.get_by_role("tab", name=CLONE_TAB, exact=True).click()
    return page


def upload(page, path: Path) -> None:
    page.locator("#clone_audio").get_by_role("button", name="Upload file").click()
    page.locator("#clone_audio input[type=file]").set_input_files(str(path))
    expect(page.locator("#clone_audio").get_by_role("button", name="Clear")).to_be_visible()


def files_holding(data: bytes) -> list[Path]:
    """Files in Gradio's temporary folder (where uploads land) with exactly these bytes."""
    root = Path(os.environ["GRADIO_TEMP_DIR"])
    return [p for p in root.rglob("*") if p.is_file() and p.read_bytes() == data]


def test_an_uploaded_recording_clones_a_voice_that_then_speaks(
    open_page, simulator, tmp_path, screenshots
):
    recording = tmp_path / "me.wav"
    recording.write_bytes(tone_wav(12.0))
    page = open_clone(open_page())
    upload(page, recording)
    page.locator("#clone_name textarea").fill("me_upload")
    page.locator("#clone_consent input").check()
    page.locator("#clone_run").click()
    expect(page.locator("#clone_status")).to_contain_text("Voice me_upload is cloned")
    sent = simulator.customization_requests()[-1].body["input"]
    assert base64.b64decode(sent["audio"]["data"].split(",", 1)[1]) == recording.read_bytes()
    assert files_holding(recording.read_bytes()) == [], "the upload is not kept"
    expect(page.locator("#clone_mine input")).to_have_value(f"me_upload · {VC}")

    page.locator("#clone_text textarea").fill("Hello in my own voice.")
    page.locator("#clone_speak").click()
    page.locator("#clone_readout .readout").wait_for()
    spoken = simulator.generation_requests()[-1].body
    assert spoken["model"] == VC and spoken["input"]["voice"] == sent_voice(simulator)
    page.screenshot(path=screenshots / "clone.png", full_page=True)


def sent_voice(simulator) -> str:
    return next(iter(simulator.voice_store.voices))


@pytest.mark.parametrize(
    ("seconds", "consent", "words"),
    [
        (12.0, False, "Tick the box to confirm this is your voice"),
        (2.0, True, "at least 3.0 s of continuous speech"),
    ],
)
def test_checks_before_anything_is_sent(open_page, simulator, tmp_path, seconds, consent, words):
    recording = tmp_path / "take.wav"
    recording.write_bytes(tone_wav(seconds))
    page = open_clone(open_page())
    upload(page, recording)
    page.locator("#clone_name textarea").fill("me")
    if consent:
        page.locator("#clone_consent input").check()
    page.locator("#clone_run").click()
    expect(toast(page)).to_contain_text(words)
    assert simulator.customization_requests() == []
    assert files_holding(recording.read_bytes()) == []


@pytest.fixture(scope="module")
def microphone_browser(browser, chromium, tmp_path_factory):
    """Chromium whose microphone plays a WAV file."""
    voice = tmp_path_factory.mktemp("microphone") / "voice.wav"
    voice.write_bytes(tone_wav(8.0))
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={voice}",
    ]
    launched = browser.browser_type.launch(executable_path=str(chromium), headless=True, args=args)
    yield launched
    launched.close()


def test_a_voice_cloned_from_the_microphone(microphone_browser, app, simulator):
    _, url = app
    context = microphone_browser.new_context(permissions=["microphone"])
    try:
        page = context.new_page()
        page.goto(url)
        open_clone(page)
        audio = page.locator("#clone_audio")
        audio.locator("button.record-button").click()
        page.wait_for_timeout(5_000)  # five seconds of speech, as a visitor would record
        audio.locator("button.stop-button").click()
        expect(audio.get_by_role("button", name="Clear")).to_be_visible()
        page.locator("#clone_name textarea").fill("me_mic")
        page.locator("#clone_consent input").check()
        page.locator("#clone_run").click()
        expect(page.locator("#clone_status")).to_contain_text("me_mic")
        sent = simulator.customization_requests()[-1].body["input"]["audio"]["data"]
        with wave.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1]))) as recorded:
            assert recorded.getnframes() / recorded.getframerate() >= 3.0
    finally:
        context.close()


def test_with_the_switch_off_the_page_says_to_bring_a_key(browser, launch_app, simulator, tmp_path):
    _, url = launch_app()  # SHOWCASE_ALLOW_CLONING unset: the Space's key may not clone
    recording = tmp_path / "take.wav"
    recording.write_bytes(tone_wav(12.0))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        open_clone(page)
        upload(page, recording)
        page.locator("#clone_name textarea").fill("me")
        page.locator("#clone_consent input").check()
        page.locator("#clone_run").click()
        expect(toast(page)).to_contain_text("turned off by its owner")
        assert simulator.customization_requests() == []
    finally:
        context.close()
