"""Compare voices in Chromium: one text, several voices at once, each playable on its own."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qwen_tts_showcase.catalogue import load_catalogue

from .pages import choose, hold_answers, open_tab, poll, press_play, readout, toast

CATALOGUE = load_catalogue()
PRESET_VOICES = ["Cherry", "Dylan", "Jada", "Sunny"]  # data/compare.json


def slot_readouts(page) -> int:
    return page.locator("[id^=compare_status_] .readout").count()


def play_slot(page, index: int) -> dict:
    return press_play(page, f"compare_audio_{index}")


def test_four_voices_speak_the_same_text_each_in_its_own_player(open_page, simulator):
    page = open_page()
    open_tab(page, "Compare voices")
    text = page.locator("#compare_text textarea").input_value()
    page.locator("#compare_run").click()
    expect(page.locator("[id^=compare_status_] .readout")).to_have_count(4)
    sent = {r.body["input"]["voice"]: r for r in simulator.generation_requests()}
    assert sorted(sent) == sorted(PRESET_VOICES)
    assert {r.body["input"]["text"] for r in sent.values()} == {text}
    for index, voice in enumerate(PRESET_VOICES):
        expect(page.locator(f"#compare_heading_{index}")).to_contain_text(voice)
        seconds = len(sent[voice].pcm) / 48_000
        numbers = readout(page, f"#compare_status_{index}")
        assert float(numbers["audio-s"]) == pytest.approx(seconds, abs=0.001)
        media = play_slot(page, index)
        assert media["duration"] == pytest.approx(seconds, abs=0.01)
    rendered = page.locator("[id^=compare_slot_]:visible")
    expect(rendered).to_have_count(4)


def test_voices_run_at_once_and_one_failing_leaves_the_others_playing(open_page, simulator):
    page = open_page()
    open_tab(page, "Compare voices")
    simulator.enqueue_fault("hang")  # whichever request arrives first hangs (read timeout: 2 s)
    page.locator("#compare_run").click()
    # Three finish while the fourth still hangs: they did not wait in line behind it.
    page.wait_for_function(
        """() => document.querySelectorAll('[id^=compare_status_] .readout').length === 3
                 && document.querySelectorAll('[id^=compare_status_] .pending').length === 1"""
    )
    failed = page.locator("[id^=compare_status_] .result-error")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("stopped answering")
    expect(failed).to_be_visible()
    expect(toast(page)).to_have_count(0)  # the others' results stay in view
    hung = next(r for r in simulator.generation_requests() if r.fault == "hang")
    failed_slot = failed.locator("xpath=ancestor::*[starts-with(@id, 'compare_slot_')]")
    expect(failed_slot).to_contain_text(hung.body["input"]["voice"])
    working = next(i for i in range(4) if page.locator(f"#compare_status_{i} .readout").count())
    play_slot(page, working)


def test_fewer_than_two_voices_is_refused_before_any_call(open_page, simulator):
    page = open_page()
    open_tab(page, "Compare voices")
    page.locator("#compare_voices").get_by_title("Clear").click()
    page.locator("#compare_voices input").click()
    page.get_by_role("option", name="Dylan · 北京话 Beijing · ♂", exact=True).click()
    page.keyboard.press("Escape")
    page.locator("#compare_run").click()
    expect(toast(page)).to_contain_text("Pick 2 to 4 voices")
    expect(toast(page)).to_contain_text("请选择 2 到 4 个音色")
    assert simulator.generation_requests() == []


def test_a_press_before_the_new_models_voices_arrive_is_answered_in_words(open_page, simulator):
    """Compare pressed while the new model's voice list is on the server, not yet in the page:
    the visitor reads which voice the model lacks, not Gradio's check; nothing is synthesized."""
    page = open_page(locale="en-US")
    open_tab(page, "Compare voices")
    held = hold_answers(page, "compare_model", "compare_voices")
    choose(page, "compare_model", "Qwen-TTS")  # of the preset's voices, it has only Cherry
    poll(page, lambda: held, "the new model's voices, held")
    page.locator("#compare_run").click()
    expect(toast(page).first).to_contain_text("Voice 'Dylan' is not available for qwen-tts.")
    expect(page.get_by_text("is not in the list of choices")).to_have_count(0)
    assert simulator.generation_requests() == []
    for route, response in held:
        route.fulfill(response=response)
    expect(page.locator("#compare_voices")).to_contain_text("Cherry")
