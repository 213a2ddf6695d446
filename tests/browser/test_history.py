"""History in Chromium: kept in the visitor's browser, replayed from the cache, loaded back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from qwen_tts_showcase.audio import wav_to_pcm

from ..conftest import BEIJING_KEY
from .pages import choose, open_tab, press_play, run_and_wait_for_readout

FIRST, SECOND = "第一条：今儿个天儿不错。", "Second line: nice weather today."


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def app(launch_app, cache_dir):
    """The app with its result cache on, which history replays from."""
    return launch_app(SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(cache_dir))


def generate(page, text: str, voice: str | None = None) -> None:
    if voice:
        choose(page, "voice", voice)
    page.locator("#text textarea").fill(text)
    run_and_wait_for_readout(page, page.locator("#generate").click)


def cell(page, row: int, column: int):
    return page.locator(f"#history_table [data-testid=cell-{row}-{column}]")


def history_rows(page) -> int:
    return page.locator("#history_table [role=row]").count() - 1  # minus the header


def test_generations_are_listed_newest_first_kept_after_a_reload_and_private(open_page, simulator):
    page = open_page()
    generate(page, FIRST, "Dylan · 北京话 Beijing · ♂")
    generate(page, SECOND, "Cherry · 普通话 Mandarin · ♀")
    open_tab(page, "History")
    expect(cell(page, 0, 3)).to_have_text(SECOND)
    expect(cell(page, 0, 1)).to_have_text("Cherry")
    expect(cell(page, 1, 3)).to_have_text(FIRST)
    expect(cell(page, 1, 2)).to_have_text("qwen3-tts-flash")  # the default model
    seconds = len(simulator.generation_requests()[0].pcm) / 48_000
    expect(cell(page, 1, 4)).to_have_text(f"{seconds:.2f}".rstrip("0").rstrip("."))
    page.reload()
    page.locator("#input_counter .input-counter").wait_for()
    open_tab(page, "History")
    expect(cell(page, 1, 3)).to_have_text(FIRST)
    assert history_rows(page) == 2
    stranger = open_page()
    open_tab(stranger, "History")
    expect(stranger.locator("#history_table")).not_to_contain_text(FIRST)
    assert history_rows(stranger) == 0


def test_a_row_replays_and_downloads_from_the_cache_without_an_api_call(open_page, simulator):
    page = open_page()
    generate(page, FIRST, "Jada · 上海话 Shanghainese · ♀")
    sent_pcm = simulator.generation_requests()[0].pcm
    open_tab(page, "History")
    cell(page, 0, 3).click()
    expect(page.locator("#history_info")).to_contain_text(FIRST)
    expect(page.locator("#history_download")).to_be_enabled()
    assert press_play(page, "history_audio")["duration"] == pytest.approx(
        len(sent_pcm) / 48_000, abs=0.01
    )
    with page.expect_download() as caught:
        page.locator("#history_download").click()
    assert re.fullmatch(r"qwen-tts_Jada_\d{8}-\d{6}\.wav", caught.value.suggested_filename)
    assert wav_to_pcm(Path(caught.value.path()).read_bytes()) == sent_pcm
    assert len(simulator.generation_requests()) == 1, "replay and download cost no API call"


def test_a_row_loads_back_into_the_editor(open_page):
    page = open_page()
    generate(page, FIRST, "Sunny · 四川话 Sichuanese · ♀")
    page.locator("#text textarea").fill("something else")
    choose(page, "voice", "Ethan · 普通话 Mandarin · ♂")
    open_tab(page, "History")
    cell(page, 0, 3).click()
    page.locator("#history_load").click()
    expect(page.locator("#text textarea")).to_be_visible()  # back on the Studio tab
    expect(page.locator("#text textarea")).to_have_value(FIRST)
    expect(page.locator("#voice input")).to_have_value("Sunny · 四川话 Sichuanese · ♀")
    expect(page.locator("#model input")).to_have_value("Qwen3-TTS Flash")


def test_a_row_whose_audio_left_the_cache_says_so(open_page, cache_dir):
    page = open_page()
    generate(page, "这句话的录音会被清掉。")
    for entry in cache_dir.rglob("*.wav"):
        entry.unlink()
    open_tab(page, "History")
    cell(page, 0, 3).click()
    expect(page.locator("#history_info")).to_contain_text("no longer in the server's cache")
    expect(page.locator("#history_download")).to_be_disabled()


def test_history_never_holds_the_key_and_can_be_cleared(open_page):
    page = open_page()
    page.locator("#connection").get_by_text("Connection").click()
    page.locator("#api_key input").fill(BEIJING_KEY)
    generate(page, FIRST)
    stored = page.evaluate("() => Object.values(localStorage).join(' ')")
    assert stored and BEIJING_KEY not in stored
    open_tab(page, "History")
    expect(page.locator("#history_table")).not_to_contain_text(BEIJING_KEY)
    page.locator("#history_clear").click()
    expect(cell(page, 0, 3)).to_have_count(0)
    page.reload()
    page.locator("#input_counter .input-counter").wait_for()
    open_tab(page, "History")
    expect(cell(page, 0, 3)).to_have_count(0)


def test_history_survives_a_restart_of_the_app(open_page, launch_app, cache_dir):
    page = open_page()
    generate(page, FIRST)
    # The row is recorded by an event after the readout; once the table shows it, the browser
    # has stored it (the stored value is encrypted, and holds an empty list before).
    open_tab(page, "History")
    expect(cell(page, 0, 3)).to_have_text(FIRST)
    stored = page.context.storage_state()
    _, restarted = launch_app(SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(cache_dir))
    # The same browser storage, now under the restarted app's address (a new port here).
    origin = restarted.rstrip("/")
    stored["origins"] = [{**entry, "origin": origin} for entry in stored["origins"]]
    again = open_page(storage_state=stored)
    again.goto(restarted)
    again.locator("#input_counter .input-counter").wait_for()
    open_tab(again, "History")
    expect(cell(again, 0, 3)).to_have_text(FIRST)
