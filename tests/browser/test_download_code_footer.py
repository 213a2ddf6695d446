"""Around the result: the download (WAV or MP3, well named), the code panel and the footer."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.snippets import curl_snippet, python_snippet

from ..conftest import BEIJING_KEY, decode_mp3
from .pages import choose, run_and_wait_for_readout

CATALOGUE = load_catalogue()
NAME = r"qwen-tts_Dylan_\d{8}-\d{6}"


def download(page) -> tuple[str, bytes]:
    with page.expect_download() as caught:
        page.locator("#download").click()
    return caught.value.suggested_filename, Path(caught.value.path()).read_bytes()


def test_the_result_downloads_as_a_named_wav_or_mp3(open_page, simulator):
    page = open_page()
    choose(page, "voice", "Dylan · 北京话 Beijing · ♂")
    page.locator("#text textarea").fill("得嘞，您就瞧好吧！")
    expect(page.locator("#download")).to_be_disabled()
    run_and_wait_for_readout(page, page.locator("#generate").click)
    sent_pcm = simulator.generation_requests()[0].pcm
    expect(page.locator("#download_info")).to_contain_text(".wav")
    name, data = download(page)
    assert re.fullmatch(NAME + r"\.wav", name)
    expect(page.locator("#download_info")).to_contain_text(name)
    assert wav_to_pcm(data) == sent_pcm
    page.get_by_label("MP3").check()
    expect(page.locator("#download_info")).to_contain_text(".mp3")
    name, data = download(page)
    assert re.fullmatch(NAME + r"\.mp3", name)
    assert abs(len(decode_mp3(data)) - len(sent_pcm)) / 48_000 < 0.08
    assert len(simulator.generation_requests()) == 1, "a format change costs no API call"


def copied(page, code_id: str) -> str:
    page.locator(f"#{code_id}").get_by_role("button", name="Copy").click()
    return page.evaluate("() => navigator.clipboard.readText()")


def test_the_code_panel_reproduces_the_current_call_and_never_the_key(open_page):
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    text = 'He said "hi"\n\tand left: $HOME \\ 你好'
    page.locator("#text textarea").fill(text)
    choose(page, "model", "Qwen-TTS latest")
    choose(page, "voice", "Jada · 上海话 Shanghainese · ♀")
    page.locator("#connection").get_by_text("Connection").click()
    page.locator("#api_key input").fill(BEIJING_KEY)
    page.get_by_text("Use it in your app").click()
    beijing = CATALOGUE.region("beijing").base_url
    expected = python_snippet(text, "Jada", "qwen-tts-latest", beijing)
    expect(page.locator("#code_python")).to_contain_text('voice="Jada"')
    assert copied(page, "code_python") == expected
    page.get_by_role("tab", name="cURL").click()
    assert copied(page, "code_curl") == curl_snippet(text, "Jada", "qwen-tts-latest", beijing)
    page.get_by_label("Singapore (International) · 新加坡（国际）").check()
    singapore = CATALOGUE.region("singapore").base_url
    expect(page.locator("#code_curl")).to_contain_text(singapore)
    # qwen-tts is not offered in Singapore: the model follows the region, the code the model.
    expect(page.locator("#model input")).not_to_have_value("Qwen-TTS latest")
    shown = page.locator("#model input").input_value()  # the readable name; the code says the id
    model = next(m for m in CATALOGUE.models if m.name == shown)
    assert model.offered_in("singapore") and "qwen3" in model.id
    voice = page.locator("#voice input").input_value().split(" · ")[0]
    page.get_by_role("tab", name="Python (dashscope)").click()
    expect(page.locator("#code_python")).to_contain_text("MultiModalConversation")
    assert copied(page, "code_python") == python_snippet(
        text, voice, model.id, singapore, sdk=model.sdk
    )
    assert BEIJING_KEY not in page.content()


def test_the_footer_carries_the_notice_in_the_pages_language_the_model_and_the_links(open_page):
    page = open_page()
    footer = page.locator("#page_footer")
    expect(footer.locator(".ai-notice p[lang=en]")).to_contain_text("AI-generated audio")
    expect(footer.locator(".ai-notice p[lang=en]")).to_be_visible()
    expect(footer.locator(".ai-notice p[lang=zh]")).to_be_hidden()  # one language per visitor
    expect(footer.locator("#footer_model")).to_have_text(CATALOGUE.default_model)
    choose(page, "model", "Qwen-TTS 2025-04-10")
    expect(footer.locator("#footer_model")).to_have_text("qwen-tts-2025-04-10")
    hrefs = footer.locator("a").evaluate_all("(links) => links.map(a => a.href)")
    assert "https://qwenlm.github.io/blog/qwen-tts/" in hrefs
    assert "https://www.alibabacloud.com/help/en/model-studio/qwen-tts-api" in hrefs
    assert "https://help.aliyun.com/zh/model-studio/qwen-tts-api" in hrefs
