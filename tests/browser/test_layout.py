"""The page at desktop and phone width, in both languages; saves the README's screenshots."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashscope_sim import UpstreamProfile

from .conftest import DESKTOP, PHONE
from .pages import (
    AAC_PADDING_S,
    LIVE_AUDIO,
    open_tab,
    run_and_wait_for_readout,
    wait_for_duration,
    wait_until_playing,
)

# Timings like the real service's, so the readout in the pictures looks like a real one.
LIFELIKE = UpstreamProfile(first_chunk_delay_s=0.35, realtime_factor=0.2)


@pytest.fixture(scope="module")
def app(launch_app, tmp_path_factory):
    """The app with its result cache on, so the History picture can replay a row."""
    return launch_app(
        SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(tmp_path_factory.mktemp("cache"))
    )


def no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width


def generate_and_hold(page, button) -> None:
    """Generate, let the whole stream arrive and play a second, then hold the player there."""
    numbers = run_and_wait_for_readout(page, button.click)
    wait_until_playing(page, LIVE_AUDIO)
    seconds = float(numbers["audio-s"])
    wait_for_duration(page, LIVE_AUDIO, seconds + AAC_PADDING_S / 2, AAC_PADDING_S / 2)
    page.wait_for_function(f"() => document.querySelector('{LIVE_AUDIO}').currentTime > 1")
    page.evaluate(f"() => document.querySelector('{LIVE_AUDIO}').pause()")


def play_a_card(page, card: str, live_label: str, official_label: str) -> None:
    """The blog's recording, then the same line live: the page's A/B comparison."""
    page.locator(f"#card-{card}").get_by_role("button", name=official_label).click()
    wait_until_playing(page, f"#card-{card} .card-official audio")  # in the card
    generate_and_hold(page, page.locator(f"#card-{card}").get_by_role("button", name=live_label))


def test_desktop_in_english(open_page, simulator, screenshots):
    simulator.profile = LIFELIKE
    page = open_page(locale="en-US")
    play_a_card(page, "dylan-zh-2", "Generate live", "Official recording")
    no_sideways_scroll(page, DESKTOP["width"])
    for part in ("#editor", "#player", "#gallery-dialect", "#gallery-bilingual", "#page_footer"):
        expect(page.locator(part)).to_be_visible()
    page.mouse.move(0, 0)
    page.screenshot(path=screenshots / "desktop-en.png", full_page=True)


def test_desktop_in_chinese(open_page, simulator, screenshots):
    simulator.profile = LIFELIKE
    page = open_page(locale="zh-CN")
    play_a_card(page, "jada-zh-2", "实时生成", "官方录音")
    expect(page.locator("#readout")).to_contain_text("首个音频", use_inner_text=True)
    no_sideways_scroll(page, DESKTOP["width"])
    page.mouse.move(0, 0)
    page.screenshot(path=screenshots / "desktop-zh.png", full_page=True)


def test_phone_width(open_page, simulator, screenshots):
    simulator.profile = LIFELIKE
    page = open_page(
        locale="en-US", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    no_sideways_scroll(page, PHONE["width"])
    cards = page.locator("#gallery-dialect .sample-card")
    lefts = cards.evaluate_all("(cards) => cards.map(c => Math.round(c.getBoundingClientRect().x))")
    assert len(set(lefts)) == 1, "cards stack in one column"
    card = page.locator("#card-sunny-zh-2")
    card.scroll_into_view_if_needed()
    where = page.evaluate("() => scrollY")
    generate_and_hold(page, card.get_by_role("button", name="Generate live"))
    assert page.evaluate("() => scrollY") == where  # the page stays where the visitor is
    no_sideways_scroll(page, PHONE["width"])
    top, bottom = page.evaluate(
        """() => [document.querySelector('#tabs').getBoundingClientRect().top,
                  document.querySelector('#download_info').getBoundingClientRect().bottom]
                 .map(y => y + scrollY)"""
    )
    clip = {"x": 0, "y": top - 8, "width": PHONE["width"], "height": bottom - top + 24}
    page.screenshot(path=screenshots / "phone.png", full_page=True, clip=clip)


def test_the_other_tabs_at_desktop_width(open_page, simulator, screenshots):
    simulator.profile = LIFELIKE
    page = open_page(locale="en-US")
    open_tab(page, "Compare voices")
    page.locator("#compare_run").click()
    expect(page.locator("[id^=compare_status_] .readout")).to_have_count(4)
    page.wait_for_function("() => localStorage.getItem('qwen-tts-showcase-history')")  # all done
    page.screenshot(path=screenshots / "compare.png", full_page=True)
    open_tab(page, "Batch")
    page.locator("#batch_run").click()  # the sample lines the tab opens with
    expect(page.locator("#batch_summary .batch-summary")).to_have_attribute(
        "data-ok", "5", timeout=30_000
    )
    page.mouse.move(0, 0)
    page.screenshot(path=screenshots / "batch.png", full_page=True)
    open_tab(page, "History")
    page.locator("#history_table [data-testid=cell-0-3]").click()
    expect(page.locator("#history_download")).to_be_enabled()
    expect(page.locator("#history_audio")).to_contain_text(re.compile(r"0:0[1-9]"))  # drawn
    page.screenshot(path=screenshots / "history.png", full_page=True)
    open_tab(page, "Benchmarks")
    expect(page.locator("#bench_sim_hard svg [aria-roledescription=bar]")).to_have_count(4)
    page.screenshot(path=screenshots / "benchmarks.png", full_page=True)
