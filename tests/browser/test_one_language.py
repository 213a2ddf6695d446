"""One language per visitor in Chromium: the English page's chrome holds no Chinese, the Chinese
page's no English UI words (content such as voice and dialect names, sample lines and model ids
may carry both); the readout's units, the footer and the history follow the visitor; history
times are in the visitor's time zone."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE
from .pages import choose, open_tab, run_and_wait_for_readout

HAN = re.compile(r"[\u3400-\u9fff]")
# The page's chrome: what names and explains the controls, not what they hold.
CHROME_JS = """() => {
  const selectors = ['label span', '[data-testid="block-info"]', 'button', '[role="tab"]',
    'h1', 'h2', 'h3', 'h4', 'th', '.stat-label', '#page_footer', '#input_counter',
    '#key_notice', '#title', '.prose p'];
  const content = '.sample-card p, .voice-heading, .badge, code, pre, textarea, input,' +
    ' [role="listbox"], .card-note, #footer_model, .cm-editor, #bench_table td,' +
    ' .voice-card strong';  // a voice's own names, both languages
  const seen = new Set();
  const texts = [];
  for (const element of document.querySelectorAll(selectors.join(','))) {
    if (seen.has(element) || !element.checkVisibility() || element.closest(content)) continue;
    seen.add(element);
    const copy = element.cloneNode(true);
    copy.querySelectorAll(content).forEach((c) => c.remove());
    // What CSS hides (the other language's twin) is not read.
    const hidden = [...element.querySelectorAll('*')].filter((c) => !c.checkVisibility());
    let text = element.innerText;
    for (const c of hidden) text = text.replace(c.textContent, '');
    for (const c of element.querySelectorAll(content)) text = text.replace(c.innerText, '');
    text = text.trim();
    if (text) texts.push(text);
  }
  return texts;
}"""
# Words the Chinese page keeps in English: names of things, not UI words.
NAMES = re.compile(
    r"Qwen3?-TTS|Qwen-Audio|Qwen|Flash|Realtime|DashScope|API|Key|token|SeedTTS-Eval|WER|SIM|WAV|MP3|CSV|ZIP|UTF-8|"
    r"Ctrl|Esc|Enter|Python|cURL|dashscope|Hugging Face|Space|DASHSCOPE_API_KEY|"
    r"Beijing|Singapore|Cherry|Ethan|Chelsie|Serena|Dylan|Jada|Sunny|manifest\.csv|"
    r"qwen[\w.-]*|text|voice|model|language|instructions|instruct|Auto|Gradio|MCP|VD|VC|ID|SDK|HTTP|"
    r"zh|en|hard|Settings|Variables and secrets|New secret|MB"
)


def chrome(page: Page) -> list[str]:
    return page.evaluate(CHROME_JS)


def english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", NAMES.sub("", text))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("tab", ["Studio", "Batch", "History", "Benchmarks"])
def test_the_english_page_speaks_english_and_the_chinese_page_chinese(open_page, tab, viewport):
    english = open_page(locale="en-US", viewport=viewport)
    chinese = open_page(locale="zh-CN", viewport=viewport)
    for page in (english, chinese):
        open_tab(page, tab)
        expect(page.get_by_role("tab", selected=True)).to_be_visible()
    han = [text for text in chrome(english) if HAN.search(text)]
    assert han == []
    words = {text: english_words(text) for text in chrome(chinese)}
    assert {text: found for text, found in words.items() if found} == {}


def test_readout_units_and_footer_follow_the_visitor(open_page):
    page = open_page(locale="zh-CN")
    page.locator("#text textarea").fill("今天天气很好。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    billed = page.locator("#readout .stat-billed .stat-value")  # qwen3 bills characters
    expect(billed).to_have_text(re.compile(r"^\d+ 字符$"), use_inner_text=True)
    choose(page, "model", "Qwen-TTS latest")  # and qwen-tts tokens
    run_and_wait_for_readout(page, page.locator("#generate").click)
    expect(billed).to_have_text(re.compile(r"^\d+ 个 token$"), use_inner_text=True)
    notice = page.locator("#page_footer .ai-notice")
    expect(notice).to_have_text(re.compile("^AI 生成的音频"), use_inner_text=True)
    assert not re.search(r"AI-generated", notice.inner_text())


@pytest.mark.parametrize(
    ("locale", "zone", "headings"),
    [
        ("en-US", "America/New_York", ["Time", "Voice", "Model", "Text"]),
        ("zh-CN", "Asia/Shanghai", ["时间", "音色", "模型", "文本"]),
    ],
)
def test_history_speaks_the_visitors_language_and_time_zone(open_page, locale, zone, headings):
    page = open_page(locale=locale, timezone_id=zone)
    page.locator("#text textarea").fill("What time is it?")
    before = datetime.now(timezone.utc)
    run_and_wait_for_readout(page, page.locator("#generate").click)
    open_tab(page, "History")
    table = page.locator("#history_table")
    shown = [h.strip() for h in table.locator("thead th").all_inner_texts() if h.strip()]
    assert shown[:4] == headings
    cell = table.locator("tbody tr").first.locator("td").first
    expect(cell).to_have_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"))
    shown_time = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cell.text_content()).group()
    when = datetime.strptime(shown_time, "%Y-%m-%d %H:%M:%S")
    local = when.replace(tzinfo=ZoneInfo(zone))
    assert abs((local - before).total_seconds()) < 600  # the visitor's clock, not UTC's
