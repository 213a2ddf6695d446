"""A link to share: it opens the page with the editor filled, Share makes it for what the editor
holds, and values that do not fit are left out with a note, never an error page."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect

from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.ui.widgets import opening_line

from .conftest import PHONE
from .pages import toast

CATALOGUE = load_catalogue()
INSTRUCT = next(m for m in CATALOGUE.models if m.instructions and m.language_types)
LAPTOP = {"width": 1280, "height": 800}
SIZES = {
    "laptop": dict(viewport=LAPTOP),
    "phone": dict(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True),
}
LINE = "侬好，今朝天气老好额！"
CLIPBOARD = dict(permissions=["clipboard-read", "clipboard-write"])


def open_link(open_page, app, query: str, **options):
    page = open_page(**options)
    page.goto(f"{app[1].rstrip('/')}/?{query}")
    page.wait_for_function("() => window.qwenTts && document.querySelector('#generate')")
    return page


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_link_opens_the_page_with_the_editor_filled(open_page, app, simulator, locale, size):
    query = f"voice=Jada&model=qwen-tts-latest&text={quote(LINE)}"
    page = open_link(open_page, app, query, locale=locale, **SIZES[size])
    expect(page.locator("#text textarea")).to_have_value(LINE)
    expect(page.locator("#voice input")).to_have_value("Jada · 上海话 Shanghainese · ♀")
    expect(page.locator("#model input")).to_have_value("Qwen-TTS latest")  # its readable name
    expect(page.locator("#share_note .share-note")).to_have_count(0)
    assert page.evaluate("() => scrollY") == 0  # the dialects still come first
    page.locator("#generate").click()  # and it speaks what the link said
    expect(page.locator("#readout .readout")).to_be_visible()
    (sent,) = simulator.generation_requests()
    assert (sent.body["input"]["voice"], sent.body["input"]["text"]) == ("Jada", LINE)


@pytest.mark.parametrize(
    ("locale", "words", "other"),
    [("en-US", "is not a voice of", "不是"), ("zh-CN", "不是", "is not a voice of")],
)
def test_bad_values_are_left_out_with_a_note_in_the_visitors_language(
    open_page, app, locale, words, other
):
    query = "voice=Nobody&model=qwen-tts-latest&language=French&instructions=loud&text=hello"
    page = open_link(open_page, app, query, locale=locale, viewport=PHONE)
    note = page.locator("#share_note .share-note")
    expect(note).to_contain_text(words, use_inner_text=True)
    expect(note).not_to_contain_text(other, use_inner_text=True)
    expect(note.locator("p")).to_have_count(3)  # the voice, the language, the instructions
    expect(page.locator("#text textarea")).to_have_value("hello")
    expect(page.locator("#voice input")).to_have_value("Cherry · 普通话 Mandarin · ♀")
    expect(toast(page)).to_have_count(0)  # a note, not an error
    expect(page.locator("#gallery-dialect .sample-card")).to_have_count(6)


def test_an_unknown_model_and_a_bare_address_are_no_error(open_page, app):
    page = open_link(open_page, app, "model=%3Cscript%3E&deep_link=x")
    expect(page.locator("#share_note .share-note")).to_contain_text("'<script>'")
    opening = CATALOGUE.model(CATALOGUE.default_model).name  # the model the page opens with
    expect(page.locator("#model input")).to_have_value(opening)
    expect(toast(page)).to_have_count(0)


@pytest.mark.parametrize("size", list(SIZES))
def test_share_copies_the_link_for_the_editor_and_the_link_brings_it_back(open_page, app, size):
    language = INSTRUCT.language_types[-1]
    query = (
        f"model={INSTRUCT.id}&voice=Cherry&language={language}"
        f"&instructions={quote('Whisper, slowly.')}&text={quote(LINE)}"
    )
    page = open_link(open_page, app, query, **SIZES[size], **CLIPBOARD)
    expect(page.locator("#instructions textarea")).to_have_value("Whisper, slowly.")
    page.locator("#text textarea").fill("A line of my own & more?")
    page.locator("#share").click()
    made = page.locator("#share_link .share-made")
    expect(made).to_have_attribute("data-copied", "true")
    link = page.locator("#share_link .share-url").input_value()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    fields = {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}
    assert fields == {
        "model": INSTRUCT.id,
        "voice": "Cherry",
        "language": language,
        "instructions": "Whisper, slowly.",
        "text": "A line of my own & more?",
    }
    again = open_page(**SIZES[size])
    again.goto(link)
    expect(again.locator("#text textarea")).to_have_value("A line of my own & more?")
    expect(again.locator("#instructions textarea")).to_have_value("Whisper, slowly.")
    expect(again.locator("#model input")).to_have_value(INSTRUCT.name)


def test_share_leaves_out_what_the_model_does_not_take(open_page):
    page = open_page(**CLIPBOARD)
    page.locator("#share").click()
    link = page.locator("#share_link .share-url").input_value()
    fields = parse_qs(urlsplit(link).query)
    assert set(fields) == {"model", "voice", "text"}  # language Auto, and no instructions
    assert fields["voice"] == [CATALOGUE.default_voice]
    assert fields["text"] == [opening_line(CATALOGUE)]
