"""The whole family in Chromium: the language list, instructions and presets, marks by region."""

from __future__ import annotations

from playwright.sync_api import expect

from qwen_tts_showcase.catalogue import MAX_INSTRUCTION_TOKENS, load_catalogue

from .pages import LIVE_AUDIO, choose, run_and_wait_for_readout, toast, wait_until_playing

CATALOGUE = load_catalogue()
SINGAPORE = "Singapore (International) · 新加坡（国际）"


def switch_region(page, label: str) -> None:
    page.locator("#connection").get_by_text("Connection").click()
    page.get_by_label(label).check()


def test_the_language_list_shows_for_qwen3_models_and_not_for_qwen_tts(open_page):
    page = open_page()
    language = page.locator("#language")
    expect(language).to_be_visible()  # the page opens on qwen3-tts-flash
    for model in CATALOGUE.models:
        choose(page, "model", model.name)
        if model.language_types:
            expect(language).to_be_visible()
            expect(language.locator("input")).to_have_value("Auto-detect · 自动识别")
        else:
            expect(language).to_be_hidden()


def test_a_cantonese_voice_speaks_with_its_language_on_the_wire(open_page, simulator):
    page = open_page()
    choose(page, "model", "Qwen3-TTS Flash")
    choose(page, "voice", "Rocky · 粤语 Cantonese · ♂")
    choose(page, "language", "Chinese · 中文")
    page.locator("#text textarea").fill("喂，老友！今日去饮茶啦。")
    numbers = run_and_wait_for_readout(page, page.locator("#generate").click)
    (sent,) = simulator.generation_requests()
    assert sent.body["model"] == "qwen3-tts-flash"
    assert sent.body["input"] == {
        "text": "喂，老友！今日去饮茶啦。",
        "voice": "Rocky",
        "language_type": "Chinese",
    }
    assert numbers["billing"] == "characters"
    wait_until_playing(page, LIVE_AUDIO)
    page.get_by_text("Use it in your app").click()  # the code shows the same call
    expect(page.locator("#code_python")).to_contain_text('language_type="Chinese"')


def test_the_instructions_box_shows_only_for_instruct_models(open_page):
    page = open_page()
    box = page.locator("#instructions_box")
    for model in CATALOGUE.models:
        choose(page, "model", model.name)
        if model.instructions:
            expect(box).to_be_visible()
        else:
            expect(box).to_be_hidden()


def test_a_preset_fills_instruction_voice_and_line_and_reaches_the_wire(
    open_page, simulator, screenshots
):
    page = open_page()
    narrator = CATALOGUE.preset("calm-narrator")
    choose(page, "model", "Qwen3-TTS Instruct Flash")
    choose(page, "preset", f"{narrator.en} · {narrator.zh}")
    expect(page.locator("#instructions textarea")).to_have_value(narrator.instructions_en)
    expect(page.locator("#text textarea")).to_have_value(narrator.text_en)
    expect(page.locator("#voice input")).to_have_value("Eldric Sage · 普通话 Mandarin · ♂")
    counter = page.locator("#instructions_counter .input-counter")
    expect(counter).to_have_attribute("data-max", str(MAX_INSTRUCTION_TOKENS))
    run_and_wait_for_readout(page, page.locator("#generate").click)
    (sent,) = simulator.generation_requests()
    assert sent.body["input"] == {"text": narrator.text_en, "voice": "Eldric Sage"}
    assert sent.body["parameters"] == {"instructions": narrator.instructions_en}
    page.get_by_text("Use it in your app").click()
    expect(page.locator("#code_python")).to_contain_text("instructions=")
    page.mouse.move(0, 0)
    page.locator("#studio").screenshot(path=screenshots / "instruct.png")


def test_a_preset_keeps_the_visitors_own_text_and_speaks_chinese_on_a_chinese_page(open_page):
    page = open_page(locale="zh-CN")
    whisper = CATALOGUE.preset("whisper")
    page.locator("#text textarea").fill("这是我自己写的一句话。")
    choose(page, "model", "Qwen3-TTS Instruct Flash")
    choose(page, "preset", f"{whisper.en} · {whisper.zh}")
    expect(page.locator("#instructions textarea")).to_have_value(whisper.instructions_zh)
    expect(page.locator("#text textarea")).to_have_value("这是我自己写的一句话。")


def test_the_instruction_counter_warns_past_the_limit_and_generate_waits_for_shorter(
    open_page, simulator
):
    page = open_page()
    choose(page, "model", "Qwen3-TTS Instruct Flash")
    page.locator("#instructions textarea").fill("慢" * (MAX_INSTRUCTION_TOKENS + 1))
    counter = page.locator("#instructions_counter .input-counter")
    expect(counter).to_have_class("input-counter over")
    expect(counter).to_contain_text(f"{MAX_INSTRUCTION_TOKENS + 1} / {MAX_INSTRUCTION_TOKENS}")
    page.locator("#text textarea").fill("你好。")
    # Beside the field, not in a toast: Generate waits for shorter instructions, and says so.
    generate = page.locator("#generate")
    expect(generate).to_be_disabled()
    expect(generate).to_have_attribute("title", "Shorten the instructions to enable Generate.")
    generate.click(force=True)
    expect(toast(page)).to_have_count(0)
    assert simulator.generation_requests() == []
    page.locator("#instructions textarea").fill("慢" * MAX_INSTRUCTION_TOKENS)
    expect(generate).to_be_enabled()


def test_singapore_marks_the_models_it_lacks_and_offers_to_switch(open_page):
    page = open_page()
    choose(page, "model", "Qwen-TTS latest")  # the page opens on qwen3-tts-flash
    switch_region(page, SINGAPORE)
    expect(page.locator("#model input")).to_have_value("Qwen3-TTS Flash")
    expect(toast(page).first).to_contain_text("qwen-tts-latest is not offered in Singapore")
    note = page.locator("#region_note")
    expect(note).to_be_hidden()
    page.locator("#model input").click()
    options = page.get_by_role("option").all_inner_texts()
    assert "Qwen-TTS latest · Beijing only · 仅北京" in options
    assert "Qwen3-TTS Instruct Flash" in options
    page.get_by_role("option", name="Qwen-TTS latest · Beijing only · 仅北京").click()
    expect(note).to_be_visible()
    expect(note).to_contain_text("offered in Beijing only, not in Singapore")
    switch = page.locator("#region_switch")
    expect(switch).to_have_text("Switch to Beijing · 切换到北京")
    switch.click()
    expect(page.get_by_label("Beijing (China mainland) · 北京（中国内地）")).to_be_checked()
    expect(note).to_be_hidden()
    expect(page.locator("#model input")).to_have_value("Qwen-TTS latest")


def test_a_401_after_switching_region_explains_that_keys_belong_to_one_region(open_page, simulator):
    page = open_page()
    switch_region(page, SINGAPORE)
    expect(page.locator("#model input")).to_have_value("Qwen3-TTS Flash")
    page.locator("#text textarea").fill("新加坡你好。")
    page.locator("#generate").click()
    message = toast(page).filter(has_text="rejected the API key")
    expect(message).to_contain_text("API keys work only in the region where they were created")
    expect(message).to_contain_text("This demo's own key belongs to Beijing")
    expect(message).to_contain_text("本演示自带的 Key 属于北京")
    (sent,) = simulator.generation_requests()
    assert (sent.region, sent.status) == ("singapore", 401)
