"""The Studio tab in Chromium: cards, live generation, voices, errors, shortcuts, counter."""

from __future__ import annotations

import math

import pytest
from playwright.sync_api import expect

from qwen_tts_showcase.audio import duration_s, wav_to_pcm
from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.text import clean_text, estimated_tokens, input_size
from qwen_tts_showcase.ui.widgets import opening_line

from .conftest import OFFICIAL_AUDIO
from .pages import (
    AAC_PADDING_S,
    LIVE_AUDIO,
    choose,
    run_and_wait_for_readout,
    toast,
    wait_for_duration,
    wait_until_playing,
)

CATALOGUE = load_catalogue()


def pcm_seconds(pcm: bytes) -> float:
    return len(pcm) / 48_000


def simulator_billed_tokens(text: str, seconds: float) -> int:
    """What the simulator reports for qwen-tts: text tokens, plus 50 audio tokens per second."""
    return estimated_tokens(text) + max(50, math.ceil(seconds) * 50)


def test_a_cards_official_recording_fills_the_editor_and_plays(open_page, simulator):
    page = open_page()
    sample = CATALOGUE.sample("jada-zh-2")
    page.locator("#card-jada-zh-2").get_by_role("button", name="Official recording").click()
    expect(page.locator("#text textarea")).to_have_value(sample.text)
    expect(page.locator("#voice input")).to_have_value("Jada · 上海话 Shanghainese · ♀")
    in_card = "#card-jada-zh-2 .card-official audio"  # it plays in the card
    expect(page.locator(in_card)).to_have_attribute("src", sample.official_audio)
    wait_until_playing(page, in_card)
    served_s = duration_s(wav_to_pcm(OFFICIAL_AUDIO))  # what the blog's address answered
    wait_for_duration(page, in_card, served_s, 0.01)  # and what plays
    # The Studio keeps it beside the result too, for the line the editor now holds.
    expect(page.locator("#official_audio audio")).to_have_attribute("src", sample.official_audio)
    expect(page.locator("#official_audio figcaption")).to_contain_text("Official recording")
    assert simulator.generation_requests() == [], "the official recording costs no API call"


def test_generate_live_streams_the_cards_line_and_reports_its_numbers(open_page, simulator):
    page = open_page()
    sample = CATALOGUE.sample("dylan-zh-2")
    numbers = run_and_wait_for_readout(
        page, page.locator("#card-dylan-zh-2").get_by_role("button", name="Generate live").click
    )
    expect(page.locator("#text textarea")).to_have_value(sample.text)
    expect(page.locator("#voice input")).to_have_value("Dylan · 北京话 Beijing · ♂")
    (sent,) = simulator.generation_requests()
    assert (sent.body["input"]["voice"], sent.body["input"]["text"]) == ("Dylan", sample.text)
    state = wait_until_playing(page, LIVE_AUDIO)
    assert state["src"].startswith("blob:")
    seconds = pcm_seconds(sent.pcm)
    duration = wait_for_duration(page, LIVE_AUDIO, seconds + AAC_PADDING_S / 2, AAC_PADDING_S / 2)
    assert seconds <= duration <= seconds + AAC_PADDING_S
    assert float(numbers["audio-s"]) == pytest.approx(seconds, abs=0.001)
    assert int(numbers["billed"]) == simulator_billed_tokens(sample.text, seconds)
    assert numbers["billing"] == "tokens" and numbers["cached"] == "false"
    first, total = float(numbers["first-audio-s"]), float(numbers["total-s"])
    assert 0 < first <= total
    assert float(numbers["rtf"]) == pytest.approx(total / seconds, abs=0.002)
    readout = page.locator("#readout")
    for label in ("First audio", "Total time", "Audio length", "Real-time factor", "Billed"):
        expect(readout).to_contain_text(label, use_inner_text=True)


def test_a_dialect_voice_picked_from_the_list_is_the_voice_synthesized(open_page, simulator):
    page = open_page()
    choose(page, "voice", "Sunny · 四川话 Sichuanese · ♀")
    page.locator("#text textarea").fill("今天我们去吃火锅，巴适得板！")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": "今天我们去吃火锅，巴适得板！", "voice": "Sunny"}
    wait_until_playing(page, LIVE_AUDIO)


@pytest.mark.parametrize("keys", ["Control+Enter", "Meta+Enter"])
def test_ctrl_or_cmd_enter_in_the_text_generates(open_page, simulator, keys):
    page = open_page()
    text = page.locator("#text textarea")
    text.fill("Keyboard first.")
    run_and_wait_for_readout(page, lambda: text.press(keys))
    (sent,) = simulator.generation_requests()
    assert sent.body["input"]["text"] == "Keyboard first."
    expect(text).to_have_value("Keyboard first.")  # the shortcut added no new line


def test_a_second_generation_replaces_the_first_and_plays(open_page, simulator):
    page = open_page()
    page.locator("#text textarea").fill("第一句。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    first = wait_until_playing(page, LIVE_AUDIO)
    page.locator("#text textarea").fill("第二句要长一些，才能听出区别。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    wait_until_playing(page, LIVE_AUDIO, src_not=first["src"])
    seconds = pcm_seconds(simulator.generation_requests()[-1].pcm)
    wait_for_duration(page, LIVE_AUDIO, seconds + AAC_PADDING_S / 2, AAC_PADDING_S / 2)


def test_a_failure_shows_its_message_in_both_languages_and_the_page_recovers(open_page, simulator):
    page = open_page()
    simulator.enqueue_fault("data_inspection")
    page.locator("#text textarea").fill("内容审核测试。")
    page.locator("#generate").click()
    message = toast(page)
    expect(message).to_contain_text("content safety check refused this text")
    expect(message).to_contain_text("内容安全检查拒绝了这段文本")
    expect(message).not_to_contain_text("Traceback")
    expect(page.locator("#download")).to_be_disabled()
    page.get_by_test_id("toast-close").first.click()
    run_and_wait_for_readout(page, page.locator("#generate").click)
    wait_until_playing(page, LIVE_AUDIO)


def test_a_retried_request_tells_the_visitor_and_still_plays(open_page, simulator):
    page = open_page()
    simulator.enqueue_fault("throttling")
    page.locator("#text textarea").fill("重试测试。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    expect(toast(page).first).to_contain_text("retrying")
    expect(toast(page).first).not_to_contain_text("重试")  # the visitor's language only
    wait_until_playing(page, LIVE_AUDIO)
    assert len(simulator.generation_requests()) == 2


def test_empty_text_leaves_generate_unavailable_with_a_hint_and_no_call(open_page, simulator):
    page = open_page()
    page.locator("#text textarea").fill("")  # it opens with a blog line
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#input_counter .input-hint")).to_contain_text(
        "Type or paste a line to speak", use_inner_text=True
    )
    expect(toast(page)).to_have_count(0)
    assert simulator.generation_requests() == []


def counter_numbers(page) -> tuple[int, int, str]:
    counter = page.locator("#input_counter .input-counter")
    size, limit = counter.get_attribute("data-size"), counter.get_attribute("data-max")
    return int(size), int(limit), counter.get_attribute("class")


def test_the_counter_follows_the_text_and_the_models_limit(open_page):
    page = open_page()
    choose(page, "model", "Qwen-TTS latest")  # counted in tokens; the page opens on qwen3
    counter = page.locator("#input_counter .input-counter")
    expect(counter).to_have_attribute("data-max", "512")
    text = page.locator("#text textarea")
    opening = estimated_tokens(clean_text(opening_line(CATALOGUE)))  # it opens with a blog line
    assert counter_numbers(page)[:2] == (opening, 512)
    text.fill("今儿个天儿不错，咱们出去遛遛弯儿吧。Nice weather!")
    expected = estimated_tokens(clean_text(text.input_value()))
    expect(page.locator("#input_counter")).to_contain_text(f"{expected} / 512")
    text.fill("长" * 600)  # more than one request takes: split, and said so
    counter = page.locator("#input_counter .input-counter")
    expect(counter).to_have_class("input-counter split")
    expect(counter).to_contain_text("split at sentence ends", use_inner_text=True)
    text.fill("长" * 5_001)  # more than the page accepts at all
    expect(counter).to_have_class("input-counter over")
    expect(counter).to_contain_text("at most 5000 characters", use_inner_text=True)
    text.fill("长" * 600)
    for model in CATALOGUE.models:
        choose(page, "model", model.name)
        expect(page.locator("#input_counter .input-counter")).to_have_attribute(
            "data-max", str(model.max_input)
        )
        assert counter_numbers(page)[0] == input_size(clean_text("长" * 600), model.input_unit)
