"""The first screen, as a new visitor meets it: what this is, the blog's six dialect lines
ready to play without scrolling, and an editor that already holds a blog line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from qwen_tts_showcase.catalogue import load_catalogue
from qwen_tts_showcase.ui.widgets import opening_line

from .conftest import PHONE
from .pages import run_and_wait_for_readout

CATALOGUE = load_catalogue()
BLOG_DIALECTS = [s.id for s in CATALOGUE.samples if s.group == "dialect"]
LAPTOP = {"width": 1280, "height": 800}
PHONE_OPTIONS = dict(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
LOCALES = ["en-US", "zh-CN"]

BOX_JS = """(element) => { const b = element.getBoundingClientRect();
  return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; }"""


def box(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(BOX_JS)


def on_first_screen(page, selector: str, viewport: dict) -> None:
    """The element lies wholly inside the window as the page opened (no scrolling)."""
    where = box(page, selector)
    assert where["top"] >= 0 and where["left"] >= 0, (selector, where)
    assert where["bottom"] <= viewport["height"], (selector, where)
    assert where["right"] <= viewport["width"], (selector, where)


def test_the_blog_has_six_dialect_lines():
    assert len(BLOG_DIALECTS) == 6


@pytest.mark.parametrize("locale", LOCALES)
def test_at_1280_by_800_the_six_dialect_lines_are_on_the_first_screen(open_page, locale):
    page = open_page(locale=locale, viewport=LAPTOP)
    assert page.evaluate("() => scrollY") == 0
    cards = page.locator("#gallery-dialect .sample-card")
    expect(cards).to_have_count(6)
    assert cards.evaluate_all("(cards) => cards.map(c => c.id)") == [
        f"card-{sample}" for sample in BLOG_DIALECTS
    ]
    for sample in BLOG_DIALECTS:
        for action in ("official", "live"):  # each playable in one click, where it is seen
            on_first_screen(page, f"#card-{sample} button[data-action={action}]", LAPTOP)
        on_first_screen(page, f"#card-{sample}", LAPTOP)
    reads_top_down(page)


@pytest.mark.parametrize("locale", LOCALES)
def test_on_a_phone_the_first_dialect_card_is_on_the_first_screen(open_page, locale):
    page = open_page(locale=locale, **PHONE_OPTIONS)
    first = f"#card-{BLOG_DIALECTS[0]}"
    on_first_screen(page, first, PHONE)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    reads_top_down(page)


def reads_top_down(page) -> None:
    """What this is (the title), hear it (the dialects), try your own (the editor), in order."""
    title, dialects, editor = (box(page, s)["top"] for s in ("#title", "#gallery", "#editor"))
    assert title < dialects < editor
    expect(page.locator("#title")).to_be_visible()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_editor_opens_with_a_blog_line_and_the_first_generate_speaks_it(
    open_page, simulator, locale
):
    page = open_page(locale=locale, viewport=LAPTOP)
    line = opening_line(CATALOGUE)
    assert line in {sample.text for sample in CATALOGUE.samples}
    expect(page.locator("#text textarea")).to_have_value(line)
    numbers = run_and_wait_for_readout(page, page.locator("#generate").click)
    (sent,) = simulator.generation_requests()
    assert sent.body["input"]["text"] == line
    assert sent.body["input"]["voice"] == CATALOGUE.default_voice
    assert float(numbers["audio-s"]) > 0
