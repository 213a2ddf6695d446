"""The realtime models in Chromium: their controls show only for them, what they show is what the
simulator's WebSocket receives, and the audio plays through the live player."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..conftest import wait_until
from .pages import HEARD, PANEL, SOUNDED, TAP, choose, trimmed, wait_for_state

REALTIME = "qwen3-tts-flash-realtime"


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

    choose(page, "model", "qwen3-tts-flash")
    expect(controls).to_be_hidden()
    page.locator("#generate").click()
    wait_for_state(page, "complete")
    assert len(simulator.realtime_sessions) == 1
    (sent,) = simulator.generation_requests()
    assert not {"speech_rate", "volume", "sample_rate"} & set(sent.body.get("parameters") or {})


def test_the_older_realtime_model_offers_only_24_khz_pcm(open_page, simulator):
    page = live_page(open_page)
    choose(page, "model", "qwen-tts-realtime")
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
