"""The Design tab in Chromium: describe a voice, hear its preview, speak with it, delete it; only
its maker sees it; failures in words."""

from __future__ import annotations

import base64
import re

import pytest
from playwright.sync_api import expect

from dashscope_sim import render_speech
from qwen_tts_showcase.datafiles import load_voice_designs

from .pages import DESIGN_TAB, VD, design_voice, readout, toast


@pytest.fixture(scope="module")
def app(launch_app):
    """The app with the Space's key allowed to design voices (every context here shares one
    address, so the per-visitor cap is off; tests/test_voices.py tests it)."""
    return launch_app(SHOWCASE_ALLOW_DESIGN="1", SHOWCASE_VOICES_PER_VISITOR_DAY="0")


def open_design(open_page):
    page = open_page()
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    return page


def test_describe_preview_and_speak_with_a_designed_voice(open_page, simulator, screenshots):
    page = open_design(open_page)
    sent = design_voice(page, simulator)
    description = page.locator("#design_description textarea").input_value()
    preview_text = page.locator("#design_preview_text textarea").input_value()
    assert sent.body["input"]["voice_prompt"] == description
    assert sent.body["input"]["preview_text"] == preview_text
    assert description in [d["description"] for d in load_voice_designs()]
    voice = next(iter(simulator.voice_store.voices))
    preview_s = len(render_speech(VD, voice, preview_text)) / 48_000
    # autoplay: the preview starts as soon as it arrives (Gradio's player keeps its element
    # out of the DOM, so ask the page's record of media that played)
    page.wait_for_function(
        """(seconds) => window.__played.some(a => Math.abs(a.duration - seconds) < 0.05
                                                 && a.currentTime > 0)""",
        arg=preview_s,
    )
    expect(page.locator("#design_mine input")).to_have_value(f"grandpa · {VD}")

    page.locator("#design_text textarea").fill("A line from the blog, in my own voice.")
    page.locator("#design_speak").click()
    page.locator("#design_readout .readout").wait_for()
    spoken = simulator.generation_requests()[-1]
    assert spoken.body["model"] == VD and spoken.body["input"]["voice"] == voice
    assert float(readout(page, "#design_readout")["audio-s"]) == pytest.approx(
        len(spoken.pcm) / 48_000, abs=0.001
    )
    page.screenshot(path=screenshots / "design.png", full_page=True)
    page.get_by_role("tab", name=re.compile("^(History|历史)$")).click()
    expect(page.locator("#history_table")).to_contain_text("A line from the blog, in my own voice.")
    expect(page.locator("#history_table")).to_contain_text(VD)


def test_only_the_maker_sees_a_voice_and_deleting_removes_it(open_page, simulator):
    page = open_design(open_page)
    design_voice(page, simulator, name="mine_only")
    stranger = open_design(open_page)
    stranger.locator("#design_mine input").click()
    expect(stranger.get_by_role("option", name=f"mine_only · {VD}")).to_have_count(0)

    page.locator("#design_delete").click()
    expect(page.locator("#design_status")).to_contain_text("Voice mine_only is deleted")
    assert simulator.voice_store.voices == {}
    page.reload()
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    expect(page.locator("#design_mine input")).to_have_value("")


def test_the_voice_list_survives_a_reload(open_page, simulator):
    page = open_design(open_page)
    design_voice(page, simulator, name="kept")
    page.reload()
    page.get_by_role("tab", name=DESIGN_TAB, exact=True).click()
    expect(page.locator("#design_mine input")).to_have_value(f"kept · {VD}")
    stored = page.evaluate("() => JSON.stringify(window.localStorage)")
    assert "sk-sim" not in stored and "voice" not in base64.b64encode(stored.encode()).decode()


def test_a_failure_is_said_in_words(open_page, simulator):
    page = open_design(open_page)
    simulator.enqueue_voice_fault("voice_limit")
    page.locator("#design_shuffle").click()
    page.locator("#design_run").click()
    expect(toast(page)).to_contain_text("as many custom voices as it may")
    expect(page.locator("#design_mine input")).to_have_value("")
