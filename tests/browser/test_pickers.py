"""Pickers that help choose (issue 11, point 6), in Chromium at desktop and phone width, in both
languages: readable model names with a counted line, voices grouped with their gender and a
character line, searchable, a preview from the showcase pack, nothing truncated, and the raw
model id and voice name sent to DashScope."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import BYTES_PER_SECOND
from qwen_tts_showcase.pack import preview_items, render
from qwen_tts_showcase.synthesis import Synthesizer

from ..conftest import simulator_settings
from .conftest import DESKTOP, PHONE
from .pages import choose, hold_answers, played, poll, run_and_wait_for_readout, toast

UNRENDERED = "Kiki"  # the one voice whose preview the pack is not given, to see it said
# Whether an element's words fit it whole: an <input> or a line that overflows scrolls inside.
OVERFLOWING_JS = """(selectors) => selectors.flatMap((selector) =>
  [...document.querySelectorAll(selector)]
    .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map((e) => `${selector}: ${e.value || e.textContent} (${e.scrollWidth} > ${e.clientWidth})`))"""
PICKED = ["#model input", "#voice input", "#language input", "#model_line p", "#voice_card p"]
OPTIONS = ["ul[role=listbox] li"]


@pytest.fixture(scope="module")
def app(launch_app, simulator_server, catalogue, tmp_path_factory):
    """The app on a cache the showcase pack filled with every voice preview but one."""
    cache_dir = str(tmp_path_factory.mktemp("pack"))
    cache = {"SHOWCASE_CACHE_MAX_MB": "50", "SHOWCASE_CACHE_DIR": cache_dir}
    packer = Synthesizer(catalogue, simulator_settings(simulator_server, catalogue, **cache))
    items = [i for i in preview_items(catalogue, "beijing") if i.voice != UNRENDERED]
    outcome = render(packer, items, "beijing")
    assert outcome.failed == [] and outcome.rendered == len(items)
    return launch_app(**cache)


def overflowing(page, selectors: list[str]) -> list[str]:
    return page.evaluate(OVERFLOWING_JS, selectors)


def longest(labels: list[str]) -> str:
    return max(labels, key=len)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_nothing_in_the_pickers_is_truncated(open_page, catalogue, viewport, locale, screenshots):
    page = open_page(locale=locale, viewport=viewport)
    chinese = locale.startswith("zh")
    # The page opens on the model with the most dialects, named, with its counted line.
    expect(page.locator("#model input")).to_have_value("Qwen3-TTS Flash")
    line = (
        "49 种音色 · 9 种汉语方言 · 10 种语言"
        if chinese
        else ("Qwen3-TTS Flash · 49 voices · 9 Chinese varieties · 10 languages")
    )
    expect(page.locator("#model_line")).to_contain_text(line, use_inner_text=True)
    expect(page.locator("#model_line code")).to_have_text("qwen3-tts-flash")
    expect(page.locator("#voice_card")).to_contain_text(
        "女声" if chinese else "female", use_inner_text=True
    )
    assert overflowing(page, PICKED) == []
    # Every option of the open lists fits; so do the longest names, chosen.
    for picker, labels in (
        ("voice", [v.label for v in catalogue.voices_of("qwen3-tts-flash")]),
        ("model", [m.name for m in catalogue.models]),
    ):
        page.locator(f"#{picker} input").click()
        expect(page.locator(OPTIONS[0]).first).to_be_visible()
        assert overflowing(page, OPTIONS) == []
        page.locator(f"#{picker} input").blur()
        choose(page, picker, longest(labels))
        page.locator(f"#{picker} input").blur()
    # The line and the card follow: the instruct model lacks the voice, so the default comes.
    chosen = max(catalogue.models, key=lambda m: len(m.name))
    expect(page.locator("#model_line code")).to_have_text(chosen.id)
    expect(page.locator("#voice_card .voice-card")).to_have_attribute("data-voice", "Cherry")
    assert overflowing(page, PICKED) == []
    # The instruct model's presets: on a row of their own, every name whole.
    page.locator("#preset input").click()
    expect(page.locator(OPTIONS[0]).first).to_be_visible()
    assert overflowing(page, OPTIONS + ["#preset input"]) == []
    page.locator("#preset input").blur()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    name = f"pickers-{'phone' if viewport is PHONE else 'desktop'}-{locale}.png"
    page.locator("#editor").screenshot(path=screenshots / name)


def search(page, words: str) -> None:
    """Type into the voice picker, as a visitor does, to filter its list."""
    box = page.locator("#voice input")
    box.click()
    box.press("ControlOrMeta+a")
    box.press("Backspace")
    box.press_sequentially(words)


def option_labels(page) -> list[str]:
    return page.locator(OPTIONS[0]).evaluate_all(
        "(items) => items.map((i) => i.getAttribute('aria-label'))"
    )


def test_voices_are_grouped_dialects_first_and_searchable(open_page, catalogue):
    page = open_page(locale="en-US")
    page.locator("#voice input").click()
    expect(page.locator(OPTIONS[0]).first).to_be_visible()
    labels = option_labels(page)
    voices = catalogue.voices_of("qwen3-tts-flash")
    assert sorted(labels) == sorted(v.label for v in voices)
    groups = [catalogue.voices[label.split(" · ")[0]].group[0] for label in labels]
    dialects = sum(v.variety != "mandarin" for v in voices)
    assert all(g not in ("mandarin", "English") for g in groups[:dialects]), "dialects first"
    assert groups == sorted(groups, key=groups.index), "each group in one run"
    assert "Ono Anna · 日语 Japanese · ♀" in labels  # not "Mandarin": the language it was made for
    search(page, "Cantonese")
    expect(page.locator(OPTIONS[0])).to_have_count(2)
    assert option_labels(page) == ["Rocky · 粤语 Cantonese · ♂", "Kiki · 粤语 Cantonese · ♀"]
    search(page, "Japan")
    expect(page.locator(OPTIONS[0])).to_have_count(1)
    page.locator(OPTIONS[0]).first.click()
    expect(page.locator("#voice_card .voice-card")).to_have_attribute("data-voice", "Ono Anna")
    expect(page.locator("#voice_card")).to_contain_text(
        "Japanese · female · a playful Japanese childhood friend", use_inner_text=True
    )


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_preview_plays_ready_made_audio_and_never_costs_a_synthesis(
    open_page, simulator, catalogue, locale
):
    page = open_page(locale=locale, viewport=PHONE if locale == "zh-CN" else DESKTOP)
    chinese = locale == "zh-CN"
    choose(page, "voice", catalogue.voices["Dylan"].label)
    expect(page.locator("#voice_card .voice-card")).to_have_attribute("data-voice", "Dylan")
    before = len(played(page))
    page.locator("#voice_preview").click()
    expect(page.locator("#voice_card .preview-ready")).to_contain_text(
        "现成的录音" if chinese else "ready-made recording", use_inner_text=True
    )
    page.wait_for_function(
        "(before) => window.__played.length > before && window.__played.at(-1).currentTime > 0",
        arg=before,
    )
    # What plays is the pack's recording of the voice's own line, whole.
    item = next(i for i in preview_items(catalogue, "beijing") if i.voice == "Dylan")
    assert item.text == catalogue.preview_text("Dylan")
    expected_s = len(render_speech(item.model, item.voice, item.text)) / BYTES_PER_SECOND
    assert abs(played(page)[-1]["duration"] - expected_s) < 0.05
    # A voice whose preview was not rendered says so, and what to do; nothing is synthesized.
    choose(page, "voice", catalogue.voices[UNRENDERED].label)
    expect(page.locator("#voice_preview_audio")).to_be_hidden()
    page.locator("#voice_preview").click()
    expect(page.locator("#voice_card .preview-missing")).to_contain_text(
        "还没有准备好" if chinese else f"No preview of {UNRENDERED} is ready yet",
        use_inner_text=True,
    )
    expect(page.locator("#voice_preview_audio")).to_be_hidden()
    assert simulator.generation_requests() == []


def test_the_raw_model_id_and_voice_name_are_sent(open_page, simulator, catalogue):
    page = open_page(locale="zh-CN")
    choose(page, "model", "Qwen3-TTS Instruct Flash")
    choose(page, "voice", catalogue.voices["Eldric Sage"].label)
    page.locator("#text textarea").fill("山高水长，后会有期。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    sent = simulator.generation_requests()[-1].body
    assert (sent["model"], sent["input"]["voice"]) == ("qwen3-tts-instruct-flash", "Eldric Sage")


def test_a_press_before_the_new_models_voices_arrive_is_answered_in_words(
    open_page, simulator, catalogue
):
    """The new model's voice list is on the server, not yet in the page: Generate still carries
    the voice before it. The visitor reads which voices the model has, not Gradio's check."""
    page = open_page(locale="en-US")
    choose(page, "voice", catalogue.voices["Ono Anna"].label)  # Qwen3-TTS Flash's, not Qwen-TTS's
    held = hold_answers(page, "model", "voice")
    choose(page, "model", "Qwen-TTS")
    poll(page, lambda: held, "the new model's voices, held")
    page.locator("#text textarea").fill("这句话等不到新的音色。")
    page.locator("#generate").click()
    expect(toast(page).first).to_contain_text("Voice 'Ono Anna' is not available for qwen-tts.")
    expect(page.get_by_text("is not in the list of choices")).to_have_count(0)
    assert simulator.generation_requests() == []  # refused before DashScope was asked
    for route, response in held:
        route.fulfill(response=response)
    expect(page.locator("#voice input")).to_have_value(catalogue.voices["Cherry"].label)
