"""The Benchmarks tab: the blog's SeedTTS-Eval table and a small chart per metric and test set."""

from __future__ import annotations

import gradio as gr
from pandas.io.formats.style import Styler

from ..seedtts_eval import METRICS, TEST_SETS, chart_data, load_scores, score_table, title
from .i18n import I18N, prefers_chinese
from .runs import PAGE_EVENT

CHART_HEIGHT_PX = 220
HEADINGS = {"wer": "ui_bench_wer", "sim": "ui_bench_sim"}  # metric -> its heading's message key


def build_benchmarks() -> None:
    scores = load_scores()
    gr.Markdown(I18N("ui_bench_intro"))
    table = gr.Dataframe(
        score_table(scores), label=I18N("ui_bench_table"), interactive=False, elem_id="bench_table"
    )

    def in_visitors_language(request: gr.Request) -> Styler:
        return score_table(scores, "zh" if prefers_chinese(request) else "en")

    gr.on(None, in_visitors_language, None, table, **PAGE_EVENT)  # once, when the page loads
    for metric in METRICS:
        gr.Markdown(I18N(HEADINGS[metric]), elem_classes="bench-heading")
        with gr.Row(elem_id=f"bench_{metric}", elem_classes="bench-row"):
            for test_set in TEST_SETS:
                gr.BarPlot(
                    chart_data(scores, metric, test_set),
                    x="voice",
                    y="value",
                    title=title(metric, test_set),
                    x_title=" ",
                    y_title=METRICS[metric][0],
                    y_lim=[0, None],  # bars from zero, so small differences look small
                    show_label=False,
                    height=CHART_HEIGHT_PX,
                    min_width=220,
                    elem_id=f"bench_{metric}_{test_set}",
                    buttons=[],
                )
