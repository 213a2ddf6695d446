"""A card plays where it is: the blog's recording and the live result side by side on the card,
each with its own progress, and the page never moves under the visitor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import pcm_to_wav
from qwen_tts_showcase.catalogue import load_catalogue

from .conftest import DESKTOP, PHONE
from .pages import HEARD, SOUNDED, TAP, trimmed

CATALOGUE = load_catalogue()
LAPTOP = {"width": 1280, "height": 800}
SIZES = {
    "laptop": dict(viewport=LAPTOP),
    "phone": dict(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True),
}
WORDS = {
    "en-US": {"official": "Official recording", "live": "Generate live", "played": "Played"},
    "zh-CN": {"official": "官方录音", "live": "实时生成", "played": "已播放"},
}
FAILED = {"en-US": "could not be loaded", "zh-CN": "无法加载"}
LONG_RECORDING = pcm_to_wav(render_speech("blog", "blog", "official", seconds=8.0))
SPOT = """(selector) => [scrollY, document.querySelector(selector).getBoundingClientRect().top]"""


def card_in_the_middle(page, sample: str) -> str:
    """Scroll as a visitor would, so the card sits in the middle of the window."""
    card = f"#card-{sample}"
    page.locator(card).evaluate("(c) => c.scrollIntoView({block: 'center'})")
    return card


def stays_put(page, card: str, before: list[float]) -> None:
    scroll_y, top = page.evaluate(SPOT, card)
    assert scroll_y == before[0], "the page must not scroll"
    assert abs(top - before[1]) <= 1, "the card must not move"


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("locale", list(WORDS))
def test_a_card_plays_both_recordings_in_place_side_by_side(open_page, simulator, locale, size):
    page = open_page(locale=locale, player="live", **SIZES[size])
    page.evaluate(TAP)  # what the live player sounds, as the audio thread hears it
    words = WORDS[locale]
    sample = "jada-zh-1" if size == "laptop" else "sunny-zh-1"  # on a phone: the fifth card
    recording = CATALOGUE.sample(sample).official_audio  # long enough to be heard when paused
    page.route(recording, lambda r: r.fulfill(content_type="audio/wav", body=LONG_RECORDING))
    card = card_in_the_middle(page, sample)
    before = page.evaluate(SPOT, card)
    if size == "phone":
        assert before[0] > 0, "the test scrolled"

    page.locator(card).get_by_role("button", name=words["official"]).click()
    official = page.locator(f"{card} .card-progress")
    expect(official).to_have_attribute("data-state", "playing")
    expect(official.locator(".card-status")).to_contain_text(" 8.0 ")  # of the 8 s served
    stays_put(page, card, before)
    page.wait_for_function(
        "(c) => document.querySelector(c + ' .card-official audio').currentTime > 0.2", arg=card
    )

    page.locator(card).get_by_role("button", name=words["live"]).click()
    panel = page.locator(f"#card-live-{sample} .live-panel")
    page.wait_for_function(SOUNDED)
    expect(panel).to_have_attribute("data-state", "complete")
    expect(panel.locator(".live-status")).to_contain_text(words["played"])
    (sent,) = simulator.generation_requests()
    assert sent.body["input"]["text"] == CATALOGUE.sample(sample).text
    assert page.evaluate(HEARD) == trimmed(sent.pcm)  # what the card played is what was made
    assert page.evaluate(
        "(c) => document.querySelector(c + ' .card-official audio').paused", arg=card
    ), "one voice at a time: the live click paused the recording"
    expect(official).to_have_attribute("data-state", "paused")
    expect(page.locator("#live_player .live-panel")).to_have_count(0)  # not in the Studio
    expect(page.locator("#readout .readout")).to_be_visible()  # its numbers are there
    stays_put(page, card, before)

    # The A/B: the recording and the live result side by side on the card.
    sides = [
        page.locator(f"{card} {side}").bounding_box() for side in (".card-official", ".card-live")
    ]
    assert abs(sides[0]["y"] - sides[1]["y"]) <= 1
    assert sides[0]["x"] + sides[0]["width"] <= sides[1]["x"]
    card_box = page.locator(card).bounding_box()
    assert sides[1]["x"] + sides[1]["width"] <= card_box["x"] + card_box["width"]


def test_a_card_below_the_studio_stays_where_it_is_on_the_screen(open_page, simulator):
    """The Studio above it grows as the line is filled and spoken: the page follows, so the
    card does not move on the screen (the scroll position changes by just as much)."""
    page = open_page(player="live", viewport=DESKTOP)
    card = card_in_the_middle(page, "ours-li-nanjing")  # below the Studio
    before = page.evaluate(SPOT, card)
    page.locator(card).get_by_role("button", name="Generate live").click()
    expect(page.locator("#card-live-ours-li-nanjing .live-panel")).to_have_attribute(
        "data-state",
        "complete",
        timeout=45_000,  # a long line, on a busy machine
    )
    expect(page.locator("#readout .readout")).to_be_visible()
    assert abs(page.evaluate(SPOT, card)[1] - before[1]) <= 1, "the card must not move"


@pytest.mark.parametrize("locale", list(WORDS))
def test_an_official_recording_that_cannot_load_says_so_on_the_card(open_page, locale):
    page = open_page(locale=locale, player="live", viewport=PHONE)
    sample = CATALOGUE.sample("dylan-zh-2")
    page.route(sample.official_audio, lambda route: route.fulfill(status=404, body="gone"))
    card = card_in_the_middle(page, sample.id)
    before = page.evaluate(SPOT, card)
    page.locator(card).get_by_role("button", name=WORDS[locale]["official"]).click()
    progress = page.locator(f"{card} .card-progress")
    expect(progress).to_have_attribute("data-state", "failed")
    expect(progress.locator(".card-status")).to_contain_text(FAILED[locale], use_inner_text=True)
    other = "zh-CN" if locale == "en-US" else "en-US"
    expect(progress.locator(".card-status")).not_to_contain_text(FAILED[other], use_inner_text=True)
    expect(progress.locator(".card-status")).to_be_in_viewport()
    stays_put(page, card, before)
    # The other cards' recordings still play.
    page.locator("#card-dylan-zh-1").get_by_role("button", name=WORDS[locale]["official"]).click()
    expect(page.locator("#card-dylan-zh-1 .card-progress")).to_have_attribute(
        "data-state", "playing"
    )
