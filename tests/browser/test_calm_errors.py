"""Calm errors in Chromium: input problems beside the field with Generate unavailable; a service
error as one sentence in the visitor's language with the details folded away; toasts that do not
stack; no red pill left behind; a visitor without a key told what they can do."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import DESKTOP, PHONE
from .pages import run_and_wait_for_readout, toast

VIEWPORTS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app()


def studio(open_page, locale: str = "en-US", viewport: dict = DESKTOP, **options) -> Page:
    return open_page(locale=locale, viewport=viewport, **options)


@VIEWPORTS
@pytest.mark.parametrize(
    ("locale", "hint", "generate"),
    [
        ("en-US", "Type or paste a line to speak", "Generate speech"),
        ("zh-CN", "请输入或粘贴", "生成语音"),
    ],
)
def test_empty_text_disables_generate_with_a_hint_beside_the_field_never_a_toast(
    open_page, simulator, viewport, locale, hint, generate
):
    page = studio(open_page, locale, viewport)
    text = page.locator("#text textarea")
    text.fill("")
    button = page.get_by_role("button", name=generate, exact=True)
    expect(button).to_be_disabled()
    note = page.locator("#input_counter .input-hint")
    expect(note).to_contain_text(hint, use_inner_text=True)
    # Beside the field: just under the text box, inside the editor's column.
    field, box = text.bounding_box(), note.bounding_box()
    assert 0 <= box["y"] - (field["y"] + field["height"]) < 80
    assert box["x"] >= field["x"] - 1 and box["x"] + box["width"] <= field["x"] + field["width"] + 1
    text.press("Control+Enter")  # the shortcut cannot send it either
    button.click(force=True)
    assert page.get_by_test_id("toast-body").count() == 0
    assert simulator.generation_requests() == []

    text.fill("Now there is something to say.")
    expect(button).to_be_enabled()
    expect(note).to_have_count(0)
    run_and_wait_for_readout(page, button.click)
    assert simulator.generation_requests()[-1].body["input"]["text"] == (
        "Now there is something to say."
    )


def test_too_long_text_disables_generate_and_says_how_to_fix_it(open_page, simulator):
    page = studio(open_page)
    page.locator("#text textarea").fill("长" * 5_001)
    expect(page.locator("#generate")).to_be_disabled()
    expect(page.locator("#input_counter .input-hint")).to_contain_text(
        "Shorten the text", use_inner_text=True
    )
    page.locator("#text textarea").fill("长" * 50)
    expect(page.locator("#generate")).to_be_enabled()


@pytest.mark.parametrize(
    ("locale", "first", "title", "other"),
    [
        ("en-US", "DashScope rejected the API key.", "Something went wrong", "拒绝了这个 API Key"),
        ("zh-CN", "DashScope 拒绝了这个 API Key。", "出了点问题", "DashScope rejected the API key"),
    ],
)
def test_a_service_error_is_one_sentence_first_details_folded_and_never_stacks(
    open_page, simulator, locale, first, title, other
):
    page = studio(open_page, locale, player="live")
    page.locator("#text textarea").fill("Keys, again and again.")
    for _ in range(3):
        simulator.enqueue_fault("invalid_key")
        page.locator("#generate").click()
        expect(page.locator("#live_player .live-panel")).to_have_attribute("data-state", "failed")
        expect(toast(page).first).to_be_visible()
    body = toast(page)
    expect(body).to_have_count(1)  # three identical errors: one toast, one message shown
    text = body.locator('[data-testid="toast-text"]:visible')
    expect(text).to_have_count(1)
    assert text.inner_text().strip().splitlines()[0].startswith(first)
    expect(body).to_contain_text(title)
    details = text.locator("details")
    expect(details).not_to_have_attribute("open", re.compile(".*"))
    folded = details.evaluate("(element) => element.textContent")
    assert "InvalidApiKey" in folded and other in folded
    assert re.search(r"(request id|请求 ID) [0-9a-f-]{36}", folded)
    # The folded part takes no room until asked for: the toast stays small.
    assert body.bounding_box()["height"] < 160
    # No red "Error" pill on the Studio's outputs, now or after the next change.
    for output in ("#readout", "#result_audio", "#download"):
        expect(page.locator(f"{output} .error:visible")).to_have_count(0)
    page.locator("#text textarea").fill("Something else.")
    expect(page.locator("#live_player .live-panel")).not_to_have_attribute("data-state", "failed")


def test_informational_toasts_dismiss_themselves(open_page, simulator):
    page = studio(open_page)
    simulator.enqueue_fault("throttling")
    page.locator("#text textarea").fill("重试测试。")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    expect(toast(page).first).to_contain_text("retrying")
    expect(toast(page)).to_have_count(0)  # gone by itself (a bound, not a timing assertion)


@pytest.fixture(scope="module")
def keyless_url(launch_app) -> str:
    """A second app, without a key of its own."""
    return launch_app(DASHSCOPE_API_KEY="")[1]


def keyless_page(open_page, url: str, **options) -> Page:
    page = studio(open_page, **options)
    page.goto(url)
    page.wait_for_function("() => window.qwenTtsStudio && document.querySelector('#generate')")
    page.locator("#input_counter .input-counter").wait_for()
    return page


@VIEWPORTS
def test_without_a_key_the_visitor_is_shown_where_to_paste_theirs(
    open_page, keyless_url, simulator, viewport
):
    page = keyless_page(open_page, keyless_url, viewport=viewport)
    live_button = page.locator(".card-button.primary").first
    expect(live_button).to_have_class(re.compile("keyless"))
    page.wait_for_function(  # dimmed (after the theme's transition)
        "() => Number(getComputedStyle(document.querySelector('.card-button.primary')).opacity)"
        " < 0.6"
    )
    key = page.locator("#api_key input")
    expect(key).to_be_hidden()  # the Connection section starts closed
    page.locator("#key_notice").get_by_role("link").click()
    expect(key).to_be_visible()
    expect(key).to_be_focused()
    box = key.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"]  # on screen
    key.fill("sk-visitor0key")
    expect(live_button).not_to_have_class(re.compile("keyless"))
    page.wait_for_function(  # bright again (after the theme's transition)
        "() => getComputedStyle(document.querySelector('.card-button.primary')).opacity === '1'"
    )


def test_the_missing_key_toast_opens_the_connection_section(open_page, keyless_url, simulator):
    page = keyless_page(open_page, keyless_url)
    page.locator("#text textarea").fill("No key yet.")
    page.locator("#generate").click()
    body = toast(page)
    expect(body).to_contain_text("paste your own DashScope key")
    body.get_by_role("link", name="Paste your own key").click()
    expect(page.locator("#api_key input")).to_be_focused()
    assert simulator.generation_requests() == []
