"""The Benchmarks tab in Chromium: the blog's table, best values in bold, a chart per column."""

from __future__ import annotations

from playwright.sync_api import expect

from qwen_tts_showcase.seedtts_eval import METRICS, TEST_SETS, load_scores, title

from .pages import open_tab


def test_the_table_shows_the_blogs_numbers_with_the_best_in_bold(open_page):
    page = open_page()
    open_tab(page, "Benchmarks")
    table = page.locator("#bench_table")
    for value in load_scores().drop(columns="voice").to_numpy().ravel():
        expect(table).to_contain_text(f"{value:.3f}")
    weight = table.locator("[data-testid^=cell-]", has_text="1.209").evaluate(
        "(cell) => getComputedStyle(cell).fontWeight"
    )
    assert int(weight) >= 600, "Cherry's zh WER is the best and in bold"
    plain = table.locator("[data-testid^=cell-]", has_text="1.256").evaluate(
        "(cell) => getComputedStyle(cell).fontWeight"
    )
    assert int(plain) < 600


def test_each_metric_and_test_set_has_a_chart_of_the_four_voices(open_page):
    page = open_page()
    open_tab(page, "Benchmarks")
    scores = load_scores().set_index("voice")
    for metric in METRICS:
        for test_set in TEST_SETS:
            chart = page.locator(f"#bench_{metric}_{test_set}")
            expect(chart).to_contain_text(title(metric, test_set))
            bars = chart.locator("svg [aria-roledescription=bar]")
            expect(bars).to_have_count(4)
            labels = bars.evaluate_all("(bars) => bars.map(b => b.getAttribute('aria-label'))")
            shown = {
                part.split(";")[0].split(":")[-1].strip(): float(part.split(":")[-1])
                for part in labels
            }
            assert shown == scores[f"{metric}_{test_set}"].to_dict()
