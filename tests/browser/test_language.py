"""Both languages in Chromium: the browser's language picks the page's; Settings switches it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .pages import run_and_wait_for_readout, toast


@pytest.mark.parametrize("locale", ["zh-CN", "zh-TW", "zh", "zh-HK", "zh-SG"])
def test_a_chinese_browser_gets_the_page_in_chinese(open_page, locale):
    page = open_page(locale=locale)
    expect(page.locator("#generate")).to_have_text("生成语音")
    expect(page.locator("#card-dylan-zh-1").get_by_role("button", name="实时生成")).to_be_visible()
    # the page opens on qwen3-tts-flash, which counts characters
    expect(page.locator("#input_counter")).to_contain_text("个字符", use_inner_text=True)
    expect(page.locator("#input_counter")).not_to_contain_text("characters", use_inner_text=True)


def test_an_english_browser_gets_the_page_in_english(open_page):
    page = open_page(locale="en-US")
    expect(page.locator("#generate")).to_have_text("Generate speech")
    expect(page.locator("#input_counter")).to_contain_text("characters", use_inner_text=True)
    expect(page.locator("#input_counter")).not_to_contain_text("字符", use_inner_text=True)


def test_settings_switch_the_whole_page_to_chinese_and_back(open_page):
    page = open_page(locale="en-US")
    page.locator("#text textarea").fill("语言切换。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    readout = page.locator("#readout")
    expect(readout).to_contain_text("First audio", use_inner_text=True)
    expect(readout).not_to_contain_text("首个音频", use_inner_text=True)

    def switch_to(language: str) -> None:
        page.get_by_role("button", name=re.compile("^(Settings|设置)")).click()
        # in the Settings dialog: the page's own "Language of the text" picker shows too
        dialog = page.get_by_role("dialog")
        dialog.get_by_role("combobox", name=re.compile("Language|语言")).click()
        page.get_by_role("option", name=language).click()
        settings = page.get_by_role("dialog")
        settings.locator("button").first.click()  # its close button has no name
        expect(settings).to_be_hidden()

    switch_to("简体中文")
    expect(page.locator("#generate")).to_have_text("生成语音")
    expect(readout).to_contain_text("首个音频", use_inner_text=True)  # server-made HTML follows
    expect(readout).not_to_contain_text("First audio", use_inner_text=True)
    expect(page.locator("#input_counter")).to_contain_text("个字符", use_inner_text=True)
    footer = page.locator("#page_footer .footer-meta")
    expect(footer).to_contain_text("当前模型", use_inner_text=True)
    switch_to("English")
    expect(page.locator("#generate")).to_have_text("Generate speech")
    expect(readout).to_contain_text("First audio", use_inner_text=True)
    expect(readout).not_to_contain_text("首个音频", use_inner_text=True)


@pytest.mark.parametrize(
    ("locale", "first", "other"),
    [
        ("zh-CN", "DashScope 的内容安全检查拒绝了这段文本或其生成的音频。", "content safety check"),
        ("en-US", "DashScope's content safety check refused", "内容安全检查"),
    ],
)
def test_messages_come_in_the_visitors_language_the_other_folded_away(
    open_page, simulator, locale, first, other
):
    page = open_page(locale=locale)
    simulator.enqueue_fault("data_inspection")
    page.locator("#text textarea").fill("内容审核测试。")
    page.locator("#generate").click()
    text = toast(page).get_by_test_id("toast-text")
    expect(text).to_contain_text(other)  # in the folded details
    assert text.inner_text().strip().startswith(first)
    assert other not in text.inner_text()  # folded: not shown until opened
