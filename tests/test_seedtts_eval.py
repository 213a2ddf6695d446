"""The Benchmarks tab's data: the blog's SeedTTS-Eval table, loaded and shaped with pandas."""

from __future__ import annotations

import pytest

from qwen_tts_showcase.seedtts_eval import chart_data, load_scores, score_table

BLOG = {  # the blog's table, row by row
    "Chelsie": (1.256, 2.004, 6.171, 0.658, 0.473, 0.662),
    "Serena": (1.495, 2.206, 7.394, 0.804, 0.508, 0.803),
    "Ethan": (1.489, 1.969, 6.754, 0.777, 0.558, 0.779),
    "Cherry": (1.209, 1.967, 6.069, 0.799, 0.664, 0.801),
}


def test_the_scores_are_the_blogs_in_the_blogs_order():
    scores = load_scores()
    assert list(scores["voice"]) == list(BLOG)
    for _, row in scores.iterrows():
        assert tuple(row.iloc[1:]) == BLOG[row["voice"]]


def test_the_table_names_each_column_and_bolds_the_best_of_each():
    styled = score_table(load_scores())
    assert list(styled.data.columns) == [
        "Voice",
        "WER zh ↓",
        "WER en ↓",
        "WER hard ↓",
        "SIM zh ↑",
        "SIM en ↑",
        "SIM hard ↑",
    ]
    html = styled.to_html()
    bold_cells = html.split("{\n  font-weight: bold;")[0]
    # Cherry (row 3) has the lowest WER everywhere and the best English SIM; Serena (row 1) the
    # best zh and hard SIM.
    for cell in ("row3_col1", "row3_col2", "row3_col3", "row3_col5", "row1_col4", "row1_col6"):
        assert cell in bold_cells
    assert "row0_col1" not in bold_cells


def test_a_chart_gets_one_value_per_voice():
    data = chart_data(load_scores(), "wer", "hard")
    assert list(data.columns) == ["voice", "value"]
    shown = dict(zip(data["voice"], data["value"], strict=True))
    assert shown == {voice: scores[2] for voice, scores in BLOG.items()}


def test_a_damaged_file_fails_naming_it(tmp_path):
    bad = tmp_path / "seedtts_eval.csv"
    bad.write_text("voice,wer_zh\nCherry,1.2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="seedtts_eval.csv"):
        load_scores(bad)
