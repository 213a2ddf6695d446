"""History rows: what the browser keeps (never the key or audio), newest first, capped."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from qwen_tts_showcase.dashscope_client import SynthesisRequest
from qwen_tts_showcase.history_log import (
    HISTORY_LIMIT,
    ROW_FIELDS,
    add_rows,
    history_row,
    preview,
    row_time,
    table_rows,
    valid_rows,
)
from qwen_tts_showcase.speech import SpeechResult

RESULT = SpeechResult(
    request=SynthesisRequest(text="得嘞，您就瞧好吧！", voice="Dylan", model="qwen-tts-latest"),
    pcm=b"\0\0" * 36_000,
    usage={"total_tokens": 160},
    billing="tokens",
    request_id="req-1",
    first_audio_s=0.41234,
    total_s=1.23456,
    cache_key="ab" * 32,
)
WHEN = datetime(2025, 6, 27, 15, 1, 34, tzinfo=timezone.utc)


def test_a_row_holds_what_was_asked_and_how_it_went_and_nothing_else():
    row = history_row(RESULT, WHEN)
    assert row == {
        "time": "2025-06-27 15:01:34",
        "model": "qwen-tts-latest",
        "voice": "Dylan",
        "text": "得嘞，您就瞧好吧！",
        "audio_s": 1.5,
        "first_audio_s": 0.412,
        "total_s": 1.235,
        "billed": 160,
        "billing": "tokens",
        "cache_key": "ab" * 32,
    }
    assert set(row) == set(ROW_FIELDS)


def test_new_rows_go_on_top_and_the_oldest_fall_off():
    rows = []
    for number in range(HISTORY_LIMIT + 5):
        rows = add_rows(
            rows,
            [
                history_row(replace(RESULT, request_id=str(number)), WHEN)
                | {"text": f"text {number}"}
            ],
        )
    assert len(rows) == HISTORY_LIMIT
    assert rows[0]["text"] == f"text {HISTORY_LIMIT + 4}" and rows[-1]["text"] == "text 5"


def test_rows_from_the_browser_are_checked_and_stripped_of_anything_extra():
    good = history_row(RESULT, WHEN)
    rows = valid_rows(
        [
            good | {"api_key": "sk-leak"},
            {"text": "no other fields"},
            "junk",
            good | {"audio_s": "3"},
            good | {"billed": True},
        ]
    )
    assert rows == [good]
    assert valid_rows("not a list") == [] and valid_rows(None) == []


def test_the_table_shows_the_start_of_the_text_on_one_line():
    row = history_row(
        replace(RESULT, request=replace(RESULT.request, text="line one\n" * 20)), WHEN
    )
    (shown,) = table_rows([row])
    assert shown[3] == preview(row["text"]) and "\n" not in shown[3] and shown[3].endswith("…")
    assert shown[:3] == ["2025-06-27 15:01:34", "Dylan", "qwen-tts-latest"]


def test_a_row_with_a_time_that_is_not_one_is_dropped():
    good = history_row(RESULT, WHEN)
    assert valid_rows([good | {"time": "yesterday"}, good]) == [good]
    assert row_time(good) == WHEN
