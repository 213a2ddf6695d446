"""The data tabs at 375×812 in Chromium: benchmark charts one per row at full width; the
History and Batch tables keep every column at least as wide as its words and scroll inside
themselves, never the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE
from .pages import open_tab, run_and_wait_for_readout

# Every cell of a table: its width, and the widest word in it as the cell's font draws it.
CELLS_JS = """(root) => {
  const canvas = document.createElement('canvas').getContext('2d');
  const cells = [];
  for (const cell of document.querySelector(root).querySelectorAll('th, td')) {
    const text = cell.innerText.trim();
    if (!text) continue;
    const style = getComputedStyle(cell.querySelector('span, div') || cell);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const widest = Math.max(...text.split(/\\s+/).map((word) => canvas.measureText(word).width));
    const box = cell.getBoundingClientRect();
    const padding = parseFloat(getComputedStyle(cell).paddingLeft) +
      parseFloat(getComputedStyle(cell).paddingRight);
    cells.push({ text, width: box.width - padding, widest, height: box.height });
  }
  return cells;
}"""
SCROLLS_JS = """(root) => {
  const table = document.querySelector(root + ' table');
  let box = table.parentElement;
  while (box && box.scrollWidth <= box.clientWidth) box = box.parentElement;
  return { table: table.getBoundingClientRect().width,
           scroller: box ? box.clientWidth : null, inside: !!box && box !== document.documentElement
             && box !== document.body && !!document.querySelector(root).contains(box),
           page: document.documentElement.scrollWidth };
}"""


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app()


def phone(open_page, locale: str = "en-US") -> Page:
    return open_page(locale=locale, viewport=PHONE)


def assert_readable(page: Page, root: str) -> None:
    cells = page.evaluate(CELLS_JS, root)
    assert cells, f"{root} shows no cells"
    squeezed = [c for c in cells if c["widest"] > c["width"] + 1]
    assert squeezed == []  # no word wider than its column: nothing broken inside a word
    scrolls = page.evaluate(SCROLLS_JS, root)
    assert scrolls["page"] <= PHONE["width"]  # the page itself never scrolls sideways
    if scrolls["table"] > PHONE["width"]:
        assert scrolls["inside"], "a wide table scrolls inside itself"


def test_benchmark_charts_one_per_row_at_full_width(open_page):
    page = phone(open_page)
    open_tab(page, "Benchmarks")
    charts = page.locator("[id^=bench_wer_], [id^=bench_sim_]")
    expect(charts.first).to_be_visible()
    boxes = [charts.nth(i).bounding_box() for i in range(charts.count())]
    assert len(boxes) == 6
    for box in boxes:
        assert box["width"] >= 0.9 * (PHONE["width"] - 20)  # the page's width, less its margins
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for above, below in zip(boxes, boxes[1:], strict=False):
        assert below["y"] >= above["y"] + above["height"] - 1  # one per row, none beside another
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_history_table_is_readable_on_a_phone(open_page, simulator, locale):
    page = phone(open_page, locale)
    page.locator("#text textarea").fill("A phone-sized history row, please.")
    run_and_wait_for_readout(page, page.locator("#generate").click)
    open_tab(page, "History")
    expect(page.locator("#history_table")).to_contain_text("A phone-sized history row")
    assert_readable(page, "#history_table")


def test_batch_tables_are_readable_on_a_phone(open_page, simulator):
    page = phone(open_page)
    open_tab(page, "Batch")
    expect(page.locator("#batch_table [role=row]:not(:has(th))").first).to_be_visible()
    assert_readable(page, "#batch_table")
    page.locator("#batch_run").click()
    summary = page.locator("#batch_summary .batch-summary")
    expect(summary).to_be_visible(timeout=60_000)
    assert_readable(page, "#batch_manifest")
