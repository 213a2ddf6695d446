"""Batch synthesis: a CSV in, a ZIP of WAVs and a manifest out, against the simulator."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile

import pandas as pd
import pytest

from qwen_tts_showcase import downloads, errors
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.batch import (
    MANIFEST_COLUMNS,
    MANIFEST_NAME,
    MAX_BATCH_ROWS,
    MAX_CSV_BYTES,
    BatchRow,
    batch_table,
    read_batch_csv,
    read_batch_table,
    run_batch,
)
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import Synthesizer
from qwen_tts_showcase.text import billed_characters

from .conftest import RETRIES, SINGAPORE_KEY, simulator_settings

CSV = """\ufeffText,Voice,Model,Language_Type,Notes
"今儿个天儿不错，咱们出去遛遛弯儿吧。",Dylan,,,the default model
"Hello, Qwen!",Cherry,qwen3-tts-flash,english,
"喂，老友！
今日去饮茶啦。",Rocky,qwen3-tts-flash-2025-09-18,Chinese,two lines in one cell

,,,,
Too,many,fields,here,for,this,header
"""


def run(synthesizer, tmp_path, rows, **kwargs):
    calls = []
    result = run_batch(
        rows,
        synthesizer,
        tmp_path,
        kwargs.pop("region", "beijing"),
        progress=lambda done, total, outcome: calls.append((done, total, outcome)),
        visitor=Visitor("session", "198.51.100.1"),
        **kwargs,
    )
    return result, calls


def zipped(result) -> tuple[dict[str, bytes], pd.DataFrame]:
    with zipfile.ZipFile(result.zip_path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    manifest = pd.read_csv(
        io.BytesIO(files.pop(MANIFEST_NAME)), encoding="utf-8-sig", keep_default_na=False
    )
    return files, manifest


# --- Reading the CSV ----------------------------------------------------------------------------


def test_a_csv_becomes_rows_numbered_as_a_spreadsheet_shows_them():
    rows = read_batch_csv(CSV.encode("utf-8"))
    assert [row.row for row in rows] == [2, 3, 4, 7]  # the blank and empty lines are skipped
    assert rows[0] == BatchRow(2, "今儿个天儿不错，咱们出去遛遛弯儿吧。", "Dylan")
    assert rows[1] == BatchRow(3, "Hello, Qwen!", "Cherry", "qwen3-tts-flash", "english")
    assert rows[2].text == "喂，老友！\n今日去饮茶啦。" and rows[2].language == "Chinese"
    assert "has 7 fields but the header has 5" in rows[3].problem.en and rows[3].problem.zh


def test_a_csv_saved_by_a_chinese_excel_in_gbk_is_read():
    rows = read_batch_csv("text,voice\n你好，世界,Cherry\n".encode("gbk"))
    assert rows == [BatchRow(2, "你好，世界", "Cherry")]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b" \n\n", "empty"),
        (b"text,voice\n", "no rows"),
        (b"words,speaker\nhi,Cherry\n", "Found: words, speaker"),
        (b"text\nhi\n", "text and voice"),
        (b"text,voice\n" + b"hi,Cherry\n" * (MAX_BATCH_ROWS + 1), f"at most {MAX_BATCH_ROWS}"),
        (b"\xff\xfe\xff text", "Save the spreadsheet as CSV"),
        (b"x" * (MAX_CSV_BYTES + 1), "larger than"),
    ],
)
def test_a_file_that_cannot_be_a_batch_is_refused_with_what_to_do(data, words):
    with pytest.raises(errors.InputError, match=words) as caught:
        read_batch_csv(data)
    assert caught.value.zh


def test_the_row_cap_can_be_set_lower_and_is_named_in_the_refusal():
    data = b"text,voice\n" + b"hi,Cherry\n" * 6
    assert len(read_batch_csv(data, max_rows=6)) == 6
    with pytest.raises(errors.InputError, match="The CSV has 6 rows; a batch takes at most 5"):
        read_batch_csv(data, max_rows=5)


def test_a_table_edited_on_the_page_is_read_exactly_as_its_csv_would_be():
    rows = read_batch_csv(CSV.encode("utf-8"))
    table = batch_table(rows)
    assert list(table.columns) == ["text", "voice", "model", "language", "instructions"]
    again = read_batch_table(table)
    assert [(r.text, r.voice, r.model, r.language) for r in again] == [
        (r.text, r.voice, r.model, r.language) for r in rows
    ]
    assert [r.row for r in again] == [2, 3, 4, 5], "numbered as the table's own CSV"
    edited = table.copy()
    edited.loc[len(edited)] = [float("nan")] * 5  # a row added and left empty
    edited.loc[0, "language"] = float("nan")  # a cell cleared
    assert len(read_batch_table(edited)) == 4 and read_batch_table(edited)[0].language == ""


def test_the_page_reports_a_table_with_no_voice_column_like_a_csv():
    with pytest.raises(errors.InputError, match="text and voice"):
        read_batch_table(pd.DataFrame({"text": ["hi"]}))


# --- Running it ---------------------------------------------------------------------------------


def test_each_row_is_synthesized_or_reported_and_the_zip_holds_exactly_the_audio_sent(
    synthesizer, simulator, tmp_path
):
    rows = read_batch_csv(
        "text,voice,model,language,instructions\n"
        "先来一句普通话。,Cherry,,,\n"  # 2: ok, default model
        ",Cherry,qwen3-tts-flash,,\n"  # 3: empty text
        "Who am I?,Nobody,qwen3-tts-flash,,\n"  # 4: unknown voice
        "Vivian is newer.,Vivian,qwen3-tts-flash-2025-09-18,,\n"  # 5: not in snapshot
        "Hello there.,Cherry,qwen-tts-latest,English,\n"  # 6: no language
        "Once upon a time.,Eldric Sage,qwen3-tts-instruct-flash,English,Speak slowly.\n"  # 7
        "靓仔，饮茶未呀？,Rocky,qwen3-tts-flash,Chinese,\n"  # 8: ok
        "Whisper.,Cherry,qwen3-tts-flash,,Whisper this.\n"  # 9: no instructions
        "a,b,c,d,e,f\n".encode()  # 10: malformed
    )
    result, calls = run(synthesizer, tmp_path, rows)

    statuses = {o.row: o.status for o in result.outcomes}
    assert statuses == {
        2: "ok",
        3: "failed",
        4: "failed",
        5: "failed",
        6: "failed",
        7: "ok",
        8: "ok",
        9: "failed",
        10: "failed",
    }
    errors_by_row = {o.row: o.error for o in result.outcomes}
    assert "no text to speak" in errors_by_row[3]
    assert "Voice 'Nobody' is not available" in errors_by_row[4]
    assert "not available for qwen3-tts-flash-2025-09-18" in errors_by_row[5]
    assert "takes no language" in errors_by_row[6]
    assert "does not follow instructions" in errors_by_row[9]
    assert "has 6 fields" in errors_by_row[10]
    assert [(done, total) for done, total, _ in calls] == [(n, 9) for n in range(1, 10)]
    assert [outcome for *_, outcome in calls] == list(result.outcomes)

    sent = simulator.generation_requests()
    assert len(sent) == 3, "refused rows never reach DashScope"
    assert sent[1].body["input"]["language_type"] == "English"
    assert sent[1].body["parameters"] == {"instructions": "Speak slowly."}
    files, manifest = zipped(result)
    ok = [o for o in result.outcomes if o.status == "ok"]
    assert (
        list(files)
        == [o.file for o in ok]
        == ["0002_Cherry.wav", "0007_Eldric-Sage.wav", "0008_Rocky.wav"]
    )
    for outcome, request in zip(ok, sent, strict=True):
        assert wav_to_pcm(files[outcome.file]) == request.pcm
        assert outcome.audio_s == pytest.approx(len(request.pcm) / 48_000, abs=1e-3)
        assert outcome.request_id and outcome.error == ""

    assert tuple(manifest.columns) == MANIFEST_COLUMNS
    assert manifest["status"].tolist() == [statuses[r] for r in manifest["row"]]
    assert manifest.to_dict("records") == result.manifest.to_dict("records")
    rocky = manifest[manifest["row"] == 8].iloc[0]
    assert (rocky["billing_unit"], rocky["billed"]) == (
        "characters",
        billed_characters("靓仔，饮茶未呀？"),
    )
    cherry = manifest[manifest["row"] == 2].iloc[0]
    assert cherry["model"] == "qwen3-tts-flash"  # the default: the most dialects
    assert (cherry["billing_unit"], cherry["billed"]) == (
        "characters",
        billed_characters("先来一句普通话。"),
    )
    assert "没有可朗读的文本" in manifest[manifest["row"] == 3].iloc[0]["error_zh"]


@pytest.mark.parametrize(
    ("fault", "times", "words"),
    [
        ("internal_error", RETRIES + 1, "internal error"),
        ("throttling", RETRIES + 1, "Wait a minute"),
        ("bad_gateway_html", RETRIES + 1, "unreadable error"),
        ("data_inspection", 1, "content safety"),
        ("cut_stream", 1, "ended before it was complete"),
    ],
)
def test_a_row_that_dashscope_fails_is_reported_and_the_batch_goes_on(
    synthesizer, simulator, tmp_path, fault, times, words
):
    simulator.enqueue_fault(fault, times=times, after_chunks=1)  # every try of the first row
    rows = [
        BatchRow(2, "第一行。", "Kiki", "qwen3-tts-flash"),
        BatchRow(3, "第二行。", "Kiki", "qwen3-tts-flash"),
        BatchRow(4, "第三行。", "Peter", "qwen3-tts-flash"),
    ]
    result, calls = run(synthesizer, tmp_path, rows)
    first, *rest = result.outcomes
    assert first.status == "failed" and words in first.error and first.file == ""
    assert [o.status for o in rest] == ["ok", "ok"] and len(calls) == 3
    files, manifest = zipped(result)
    answered = [r for r in simulator.generation_requests() if r.fault is None]
    assert [wav_to_pcm(files[o.file]) for o in rest] == [r.pcm for r in answered]
    assert manifest["status"].tolist() == ["failed", "ok", "ok"]
    assert words in manifest["error"][0]


def test_a_row_that_fails_once_is_retried_and_succeeds(synthesizer, simulator, tmp_path):
    simulator.enqueue_fault("throttling")
    result, _ = run(synthesizer, tmp_path, [BatchRow(2, "你好。", "Cherry", "qwen3-tts-flash")])
    assert [o.status for o in result.outcomes] == ["ok"]
    assert [r.status for r in simulator.generation_requests()] == [429, 200]


def test_a_row_already_made_is_served_from_the_cache_and_billed_nothing(
    simulator, catalogue, tmp_path
):
    cached = Synthesizer(
        catalogue,
        simulator_settings(
            simulator, catalogue, SHOWCASE_CACHE_MAX_MB="50", SHOWCASE_CACHE_DIR=str(tmp_path / "c")
        ),
    )
    rows = [BatchRow(number, "你好。", "Cherry", "qwen3-tts-flash") for number in (2, 3)]
    result, _ = run(cached, tmp_path / "out", rows)
    assert [(o.status, o.cached, o.billed) for o in result.outcomes] == [
        ("ok", False, billed_characters("你好。")),
        ("ok", True, 0),
    ]
    files, manifest = zipped(result)
    assert files["0002_Cherry.wav"] == files["0003_Cherry.wav"]
    assert len(simulator.generation_requests()) == 1
    assert manifest["cached"].tolist() == [False, True]


def test_once_the_key_is_refused_the_remaining_rows_are_not_sent(synthesizer, simulator, tmp_path):
    rows = [BatchRow(n, f"第{n}行。", "Cherry", "qwen3-tts-flash") for n in range(2, 6)]
    result, _ = run(synthesizer, tmp_path, rows, api_key=SINGAPORE_KEY)  # a key of the other region
    assert [o.status for o in result.outcomes] == ["failed", "skipped", "skipped", "skipped"]
    assert "region where they were created" in result.outcomes[0].error
    assert "earlier row" in result.outcomes[1].error and result.outcomes[1].request_id == ""
    assert len(simulator.generation_requests()) == 1
    files, manifest = zipped(result)
    assert files == {} and len(manifest) == 4


def test_the_demos_own_key_sent_to_the_other_region_is_explained_in_the_manifest(
    synthesizer, simulator, tmp_path
):
    rows = [BatchRow(2, "你好。", "Cherry", "qwen3-tts-flash")]
    result, _ = run(synthesizer, tmp_path, rows, region="singapore")  # the Beijing key of the demo
    (outcome,) = result.outcomes
    assert outcome.status == "failed" and "This demo's own key belongs to Beijing" in outcome.error
    assert "属于北京" in outcome.error_zh and len(simulator.generation_requests()) == 1


def test_a_singapore_batch_refuses_the_models_singapore_lacks(synthesizer, simulator, tmp_path):
    rows = [
        BatchRow(2, "你好。", "Cherry", "qwen-tts-latest"),
        BatchRow(3, "你好。", "Cherry", "qwen3-tts-flash"),
    ]
    result, _ = run(synthesizer, tmp_path, rows, region="singapore", api_key=SINGAPORE_KEY)
    assert [o.status for o in result.outcomes] == ["failed", "ok"]
    assert "not offered in the Singapore" in result.outcomes[0].error
    assert simulator.generation_requests()[0].region == "singapore"


def test_without_any_key_the_batch_is_refused_before_any_row(simulator, catalogue, tmp_path):
    keyless = Synthesizer(catalogue, simulator_settings(simulator, catalogue, DASHSCOPE_API_KEY=""))
    with pytest.raises(errors.MissingKeyError):
        run_batch(
            [BatchRow(2, "你好。", "Cherry")], keyless, tmp_path, "beijing", visitor=Visitor()
        )
    assert simulator.generation_requests() == [] and list(tmp_path.iterdir()) == []


def test_the_batch_module_does_not_import_gradio():
    code = "import sys, qwen_tts_showcase.batch; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- Hardening (issue 14, items 2, 12 and 13) ------------------------------------------------------


def test_a_batch_stops_adding_rows_once_its_zip_holds_the_cap(simulator, catalogue, tmp_path):
    rows = [BatchRow(n, "今儿个天儿不错，咱们出去遛遛弯儿吧。", "Dylan") for n in range(2, 6)]
    one_row, _ = run(
        Synthesizer(catalogue, simulator_settings(simulator, catalogue)), tmp_path / "a", rows[:1]
    )
    row_mb = zipped(one_row)[0]["0002_Dylan.wav"].__len__() / 1024 / 1024
    capped = Synthesizer(
        catalogue,
        simulator_settings(simulator, catalogue, SHOWCASE_BATCH_MAX_MB=str(row_mb * 1.5)),
    )
    simulator.clear()
    result, _ = run(capped, tmp_path / "b", rows)
    assert [o.status for o in result.outcomes] == ["ok", "ok", "skipped", "skipped"]
    assert "reached" in result.outcomes[2].error and "单批上限" in result.outcomes[2].error_zh
    assert len(simulator.generation_requests()) == 2, "rows past the cap are never sent"
    files, manifest = zipped(result)
    assert sorted(files) == ["0002_Dylan.wav", "0003_Dylan.wav"] and len(manifest) == 4


def test_batch_zips_live_among_the_downloads_and_go_with_them(synthesizer, tmp_path):
    """The Batch tab writes each ZIP into a folder of the downloads (ui/batch.py): bounded by
    SHOWCASE_DOWNLOADS_MAX_MB with them, least recently used first, and swept by age."""
    rows = [BatchRow(2, "你好。", "Cherry", "qwen3-tts-flash")]
    first, _ = run(synthesizer, downloads.new_folder("qwen-tts-batch-"), rows)
    downloads.added(first.zip_path.stat().st_size)
    second, _ = run(synthesizer, downloads.new_folder("qwen-tts-batch-"), rows)
    assert first.zip_path.parent.parent == downloads.downloads_dir()
    downloads.set_max_bytes(second.zip_path.stat().st_size + 100)
    try:
        downloads.added(second.zip_path.stat().st_size)
    finally:
        downloads.set_max_bytes(downloads.DEFAULT_MAX_BYTES)
    assert not first.zip_path.exists() and second.zip_path.exists()


FORMULAS = ['=HYPERLINK("http://example.com","click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


def test_manifest_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(
    synthesizer, tmp_path
):
    rows = [BatchRow(n, text, "Cherry", "qwen3-tts-flash") for n, text in enumerate(FORMULAS, 2)]
    rows.append(BatchRow(6, "\t=1+1", "=Cherry", "qwen3-tts-flash", instructions="\r=2"))
    result, _ = run(synthesizer, tmp_path, rows)
    _, manifest = zipped(result)
    with zipfile.ZipFile(result.zip_path) as archive:
        text = archive.read(MANIFEST_NAME).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert len(lines) == 1 + len(rows), "no cell starts a line of its own"
    for cell in [cell for line in lines for cell in line]:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert manifest["text"].tolist()[:4] == [f"'{text}" for text in FORMULAS]
    assert manifest["voice"].tolist()[-1] == "'=Cherry"
    assert result.outcomes[0].text == FORMULAS[0], "the page's manifest shows the text as it is"


def test_a_cell_over_the_csv_field_limit_is_refused_in_words():
    data = ("text,voice\nhi,Cherry\n" + '"' + "长" * 500_000 + '",Cherry\n').encode("utf-8")
    assert 1_400_000 < len(data) < MAX_CSV_BYTES
    with pytest.raises(errors.InputError) as caught:
        read_batch_csv(data)
    assert "Line 3 of the CSV holds a cell longer than" in caught.value.en
    assert "第 3 行" in caught.value.zh


def test_a_csv_with_old_mac_line_ends_is_read():
    """A lone carriage return used to raise csv.Error ("new-line character seen in unquoted
    field") out of the upload."""
    rows = read_batch_csv(b'text,voice\rhi,Cherry\r"two\rlines",Dylan\r')
    assert [(row.row, row.text, row.voice) for row in rows] == [
        (2, "hi", "Cherry"),
        (3, "two\nlines", "Dylan"),
    ]
