"""Busy and Stop in Chromium: Generate turns into Stop (and Esc) while the page speaks (the live
player, or Gradio's streamed one where the browser lacks it),
the progress shows inline, and a long text says what it will take before it starts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..conftest import wait_until
from ..helpers import connections_to
from .conftest import PHONE
from .pages import choose, hold_answers, wait_for_state

SENTENCE = "今天天气很好，我们一起去公园散步吧。"


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app()


def live_page(open_page, **options) -> Page:
    page = open_page(player="live", **options)
    expect(page.locator("html")).to_have_class("live-player")
    return page


def long_text(page: Page) -> str:
    """A text a little over two requests' worth for Qwen-TTS (counted in tokens)."""
    choose(page, "model", "Qwen-TTS latest")
    counter = page.locator("#input_counter .input-counter")
    page.locator("#text textarea").fill("")  # the page opens with a blog line: measure ours
    expect(counter).to_have_attribute("data-size", "0")
    page.locator("#text textarea").fill(SENTENCE)
    expect(counter).to_have_attribute("data-size", re.compile(r"[1-9]"))
    per_sentence = int(counter.get_attribute("data-size"))
    most = int(counter.get_attribute("data-max"))
    return SENTENCE * (2 * most // per_sentence + 2)


@pytest.mark.parametrize("viewport", [None, PHONE])
def test_generate_becomes_stop_with_progress_and_stop_or_esc_end_the_stream(
    open_page, simulator, viewport
):
    simulator.profile.realtime_factor = 1.0  # real time, two minutes a part: only Stop ends it
    simulator.profile.fixed_audio_seconds = 120.0
    simulator.profile.chunk_seconds = 0.1
    before = connections_to(simulator.port)
    page = live_page(open_page, **({"viewport": viewport} if viewport else {}))
    text = long_text(page)
    generate = page.locator("#generate")
    for number, stop in enumerate(
        (lambda: generate.click(), lambda: page.keyboard.press("Escape"))
    ):
        page.locator("#text textarea").fill(f"{number}{text}")
        expect(page.get_by_role("button", name="Generate speech")).to_be_enabled()
        generate.click()
        wait_for_state(page, "playing")
        stop_button = page.get_by_role("button", name="Stop (Esc)", exact=True)
        expect(stop_button.first).to_be_visible()
        expect(generate).to_have_class(re.compile("studio-busy"))
        progress = page.locator("#studio_progress")
        expect(progress).to_contain_text(re.compile(r"Part 1 of [3-9] · \d+ s so far"))
        # Inline: right under the button, not in a toast.
        button_box, progress_box = generate.bounding_box(), progress.bounding_box()
        assert 0 <= progress_box["y"] - (button_box["y"] + button_box["height"]) < 40
        assert page.get_by_test_id("toast-body").count() == 0
        stop()
        wait_for_state(page, "stopped")
        wait_until(lambda: connections_to(simulator.port) == before, "DashScope's stream to close")
        expect(generate).not_to_have_class(re.compile("studio-busy"))
        expect(page.get_by_role("button", name="Generate speech")).to_be_enabled()
        expect(progress).to_be_empty()
    assert len(simulator.generation_requests()) == 2  # one part each, then nothing more


def test_a_long_text_says_what_it_will_take_before_it_starts(open_page, simulator):
    page = live_page(open_page)
    text = long_text(page)
    page.locator("#text textarea").fill(text)
    estimate = page.locator("#input_counter .studio-estimate")
    expect(estimate).to_be_visible()
    expect(estimate).to_contain_text(
        re.compile(r"about \d+ requests, about [\d,]+ tokens billed"), use_inner_text=True
    )
    parts, billed = (
        int(estimate.get_attribute("data-parts")),
        int(estimate.get_attribute("data-billed")),
    )
    assert simulator.generation_requests() == []  # said before anything is sent
    page.locator("#generate").click()
    wait_for_state(page, "complete")
    sent = simulator.generation_requests()
    assert abs(len(sent) - parts) <= 1
    actual = int(page.locator("#readout .readout").get_attribute("data-billed"))
    assert 0.5 * actual <= billed <= 2 * actual  # "about": within a factor of two

    page.locator("#text textarea").fill(SENTENCE)  # one request: nothing to announce
    expect(estimate).to_have_count(0)


def test_the_chinese_page_says_it_in_chinese(open_page, simulator):
    page = live_page(open_page, locale="zh-CN")
    text = long_text(page)
    page.locator("#text textarea").fill(text)
    estimate = page.locator("#input_counter .studio-estimate")
    expect(estimate).to_contain_text(re.compile(r"长文本：约 \d+ 次请求"), use_inner_text=True)
    # "token" is the word Chinese documentation uses too.
    assert not re.search(r"[A-Za-z]{3,}", estimate.inner_text().replace("token", ""))


@pytest.mark.parametrize("first_stop", ["answered", "answer on its way"])
def test_with_gradios_streamed_player_generate_becomes_stop_too(open_page, simulator, first_stop):
    """Where the browser lacks the live player, Stop (and Esc) ends the Generate event: the
    stream to DashScope closes, nothing plays on, no error, and the button is Generate again.
    Also when the first Stop's answer has not reached the page yet (Gradio dropped the second
    press then, and the stream ran on to its deadline: seen in CI)."""
    simulator.profile.realtime_factor = 1.0  # real time, two minutes: only Stop ends it
    simulator.profile.fixed_audio_seconds = 120.0
    before = connections_to(simulator.port)
    page = open_page(player="stream")
    expect(page.locator("html")).to_have_class("stream-player")
    # The server acts on the first Stop; its answer reaches the page only at the end.
    held = hold_answers(page, "stream_stop", most=1) if first_stop == "answer on its way" else []
    generate = page.locator("#generate")
    for stop in (lambda: generate.click(), lambda: page.keyboard.press("Escape")):
        generate.click()
        wait_until(lambda: connections_to(simulator.port) > before, "DashScope's stream to open")
        expect(generate).to_have_class(re.compile("studio-busy"))
        expect(page.get_by_role("button", name="Stop (Esc)", exact=True)).to_be_visible()
        expect(page.locator("#studio_progress")).to_contain_text(re.compile(r"\d+ s so far"))
        stop()
        wait_until(lambda: connections_to(simulator.port) == before, "DashScope's stream to close")
        expect(generate).not_to_have_class(re.compile("studio-busy"))
        expect(page.get_by_role("button", name="Generate speech")).to_be_enabled()
        expect(page.locator("#studio_progress")).to_be_empty()
        page.wait_for_function(  # nothing plays on
            "() => [...document.querySelectorAll('#live_audio audio')].every((a) => a.paused)"
        )
    for route, response in held:
        route.fulfill(response=response)
    assert len(simulator.generation_requests()) == 2
    toasts = page.get_by_test_id("toast-body")
    assert toasts.count() == 0, toasts.all_inner_texts()  # a stop is no error
