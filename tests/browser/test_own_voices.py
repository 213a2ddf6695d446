"""A designed voice in the Studio, in Chromium: its maker picks it with the VD model and hears
it through the live player like any other voice; another browser is never offered it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import wav_to_pcm

from .pages import (
    DESIGN_TAB,
    HEARD,
    PANEL,
    SOUNDED,
    TAP,
    VD,
    choose,
    design_voice,
    open_tab,
    readout,
    trimmed,
    wait_for_state,
    wait_until_playing,
)

YOURS = f"Your designed voices · {VD} · 你设计的音色"


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app(SHOWCASE_ALLOW_DESIGN="1", SHOWCASE_VOICES_PER_VISITOR_DAY="0")


def test_a_designed_voice_speaks_in_the_studio_for_its_maker_only(open_page, simulator):
    page = open_page(player="live")
    expect(page.locator("html")).to_have_class("live-player")
    choose(page, "model", YOURS)  # none of one's own yet
    expect(page.locator("#voice input")).to_have_value("")
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    design_voice(page, simulator, name="grandpa")
    voice = next(iter(simulator.voice_store.voices))
    open_tab(page, "Studio")
    expect(page.locator("#voice input")).to_have_value("grandpa")  # offered as soon as made
    page.evaluate(TAP)
    text = "A blog line, in the voice I just designed."
    page.locator("#text textarea").fill(text)
    page.locator("#generate").click()
    page.wait_for_function(SOUNDED)
    wait_for_state(page, "complete")
    expect(page.locator(f"{PANEL} .live-status")).to_contain_text("Played")  # all of it played
    page.locator("#readout .readout").wait_for()
    sent = simulator.generation_requests()[-1]
    assert sent.body["model"] == VD and sent.body["input"]["voice"] == voice
    assert sent.streamed, "streamed like any other voice"
    assert page.evaluate(HEARD) == trimmed(sent.pcm), "every sample the simulator sent, heard"
    assert float(readout(page)["audio-s"]) == pytest.approx(len(sent.pcm) / 48_000, abs=0.001)
    expect(page.locator("#download")).to_be_enabled()
    open_tab(page, "History")
    expect(page.locator("#history_table")).to_contain_text(text)
    expect(page.locator("#history_table")).to_contain_text(VD)
    page.locator("#history_table [data-testid=cell-0-3]").click()  # back into the editor
    page.locator("#history_load").click()
    expect(page.locator("#text textarea")).to_have_value(text)
    expect(page.locator("#model input")).to_have_value(YOURS)
    expect(page.locator("#voice input")).to_have_value("grandpa")

    stranger = open_page(player="live")
    choose(stranger, "model", YOURS)
    expect(stranger.locator("#voice input")).to_have_value("")
    stranger.locator("#voice input").click()
    expect(stranger.get_by_role("option", name="grandpa")).to_have_count(0)
    stranger.locator("#text textarea").fill("Let me try someone else's voice.")
    before = len(simulator.generation_requests())
    stranger.locator("#generate").click()
    expect(stranger.get_by_test_id("toast-body")).to_be_visible()
    assert len(simulator.generation_requests()) == before, "nothing sent for a stranger"


def test_the_design_tab_plays_a_voice_as_it_arrives_then_keeps_the_recording(open_page, simulator):
    page = open_page()
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    design_voice(page, simulator, name="streamed")
    page.locator("#design_text textarea").fill("Played while it is still arriving.")
    page.locator("#design_speak").click()
    wait_until_playing(page, "#design_live audio")  # the streamed player, before the end
    page.locator("#design_readout .readout").wait_for()
    sent = simulator.generation_requests()[-1]
    assert sent.body["model"] == VD and sent.streamed
    recording = page.locator("#design_spoken").get_by_test_id(
        "waveform-Result (finished recording)"
    )
    recording = recording.locator("audio")
    expect(recording).to_have_attribute("src", re.compile("^blob:"))
    wav = page.evaluate(
        "async (src) => [...new Uint8Array(await (await fetch(src)).arrayBuffer())]",
        recording.get_attribute("src"),
    )
    assert wav_to_pcm(bytes(wav)) == sent.pcm


def test_the_maker_reads_the_api_handle_on_the_page_and_the_api_speaks_it(
    open_page, app, simulator
):
    page = open_page()
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    design_voice(page, simulator, name="apivoice")
    voice = next(iter(simulator.voice_store.voices))
    shown = page.locator("#design_details .voice-handle")
    expect(shown).to_contain_text(f"{voice}#")
    handle = shown.inner_text().strip()
    expect(page.locator("#design_details")).to_contain_text("Keep it secret")

    open_tab(page, "Studio")  # the code panel shows the maker the same call
    choose(page, "model", YOURS)
    expect(page.locator("#voice input")).to_have_value("apivoice")
    page.get_by_text("Use it in your app").click()
    expect(page.locator("#code_python")).to_contain_text(handle)
    expect(page.locator("#code_python")).to_contain_text('api_name="/synthesize"')

    client, _ = app
    text = "Spoken through the API by the handle the page showed."
    wav = client.predict(text, handle, VD, api_name="/synthesize")
    sent = simulator.generation_requests()[-1]
    assert sent.body["model"] == VD and sent.body["input"]["voice"] == voice
    with open(wav, "rb") as file:
        assert wav_to_pcm(file.read()) == render_speech(VD, voice, text)

    stranger = open_page()  # another browser never sees it
    stranger.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    expect(stranger.locator("#design_mine input")).to_have_value("")
    assert handle.partition("#")[2] not in stranger.content()
