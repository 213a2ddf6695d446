"""The blog's SeedTTS-Eval results (WER and speaker similarity per voice) as pandas tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from .datafiles import DataFileError, data_path, load_csv
from .messages import say

SEEDTTS_EVAL_FILE = data_path("seedtts_eval.csv")
TEST_SETS = ("zh", "en", "hard")
# metric -> (name, arrow): WER (word error rate, %) is better lower, SIM (similarity) higher.
METRICS = {"wer": ("WER", "↓"), "sim": ("SIM", "↑")}


def column(metric: str, test_set: str) -> str:
    return f"{metric}_{test_set}"


def title(metric: str, test_set: str) -> str:
    """A column's heading, e.g. "WER zh ↓"."""
    name, arrow = METRICS[metric]
    return f"{name} {test_set} {arrow}"


def load_scores(path: Path = SEEDTTS_EVAL_FILE) -> pd.DataFrame:
    """One row per voice in the blog's order, a column per metric and test set (wer_zh…)."""
    columns, rows = load_csv(path)
    metrics = [column(m, t) for m in METRICS for t in TEST_SETS]
    if columns != ["voice", *metrics]:
        raise DataFileError(f"{path}: expected the columns {['voice', *metrics]}, got {columns}")
    for number, row in enumerate(rows, start=1):
        try:
            row.update((name, float(row[name])) for name in metrics)
        except ValueError as exc:
            raise DataFileError(f"{path}: row {number} ({row['voice']}): {exc}") from exc
    if not rows or not all(row["voice"].strip() for row in rows):
        raise DataFileError(f"{path}: every row needs a voice, and there must be one")
    return pd.DataFrame(rows, columns=columns)


def score_table(scores: pd.DataFrame, language: str = "en") -> Styler:
    """The blog's table with readable headings (the voice column's in `language`), the best
    value of each column in bold."""
    headings = {column(m, t): title(m, t) for m in METRICS for t in TEST_SETS}
    table = scores.rename(columns={"voice": say("bench_voice").text(language), **headings})
    lower_better = [title("wer", t) for t in TEST_SETS]
    higher_better = [title("sim", t) for t in TEST_SETS]
    bold = "font-weight: bold"
    return (
        table.style.format("{:.3f}", subset=lower_better + higher_better)
        .highlight_min(subset=lower_better, props=bold)
        .highlight_max(subset=higher_better, props=bold)
    )


def chart_data(scores: pd.DataFrame, metric: str, test_set: str) -> pd.DataFrame:
    """(voice, value) for one metric on one test set: one small bar chart."""
    return scores[["voice", column(metric, test_set)]].rename(
        columns={column(metric, test_set): "value"}
    )
