"""The Batch tab in Chromium: upload or edit lines, run with progress, read the manifest, download."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from dashscope_sim import UpstreamProfile
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.batch import MANIFEST_NAME
from qwen_tts_showcase.ui.batch import SAMPLE_CSV

from .pages import open_tab, toast

MAX_ROWS = 4
CSV = """text,voice,model,language
"喂，老友！今日去饮茶啦。",Rocky,qwen3-tts-flash,Chinese
"Who am I?",Nobody,qwen3-tts-flash,
"今儿个天儿不错。",Dylan,,
""".encode()
# Each row takes about a second, so the progress bar can be seen moving.
STEADY = UpstreamProfile(first_chunk_delay_s=0.3, realtime_factor=0.3)


@pytest.fixture(scope="module")
def app(launch_app):
    """The app with a small row cap, so a test can meet it."""
    return launch_app(SHOWCASE_BATCH_MAX_ROWS=str(MAX_ROWS))


def upload(page, data: bytes, name: str = "lines.csv") -> None:
    page.locator("#batch_upload input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )


def downloaded(page, button: str) -> tuple[str, bytes]:
    with page.expect_download() as caught:
        page.locator(button).click()
    return caught.value.suggested_filename, Path(caught.value.path()).read_bytes()


def body_rows(page, table: str):
    """A Gradio table's rows below its header."""
    return page.locator(f"{table} [role=row]:not(:has(th))")


def test_a_csv_with_a_bad_row_runs_with_progress_and_the_zip_holds_the_rest(open_page, simulator):
    page = open_page()
    open_tab(page, "Batch")
    upload(page, CSV)
    expect(body_rows(page, "#batch_table")).to_have_count(3)
    expect(page.locator("#batch_table")).to_contain_text("Nobody")
    simulator.profile = STEADY
    page.locator("#batch_run").click()
    progress = page.locator(
        "#batch_manifest .progress-level-inner, #batch_summary .progress-level-inner"
    )
    expect(progress.first).to_contain_text("Starting")
    # The bar names each row as it is done; the failed one is reported and the batch goes on.
    expect(progress.first).to_contain_text("Row 3: failed")
    summary = page.locator("#batch_summary .batch-summary")
    expect(summary).to_have_attribute("data-ok", "2", timeout=30_000)
    expect(summary).to_have_attribute("data-failed", "1")
    rows = body_rows(page, "#batch_manifest").all_inner_texts()
    assert "failed" in rows[1] and "Voice 'Nobody' is not available" in rows[1]
    assert "ok" in rows[0] and "0002_Rocky.wav" in rows[0]
    name, data = downloaded(page, "#batch_download")
    assert name.startswith("qwen-tts-batch_") and name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {member: archive.read(member) for member in archive.namelist()}
    manifest = pd.read_csv(
        io.BytesIO(files.pop(MANIFEST_NAME)), encoding="utf-8-sig", keep_default_na=False
    )
    rocky, dylan = simulator.generation_requests()
    assert rocky.body["input"] == {
        "text": "喂，老友！今日去饮茶啦。",
        "voice": "Rocky",
        "language_type": "Chinese",
    }
    assert dylan.body["model"] == "qwen3-tts-flash", "a row without a model: the default"
    assert {n: wav_to_pcm(w) for n, w in files.items()} == {
        "0002_Rocky.wav": rocky.pcm,
        "0004_Dylan.wav": dylan.pcm,
    }
    assert manifest["status"].tolist() == ["ok", "failed", "ok"]


def test_the_sample_csv_downloads_and_an_edited_table_is_what_runs(open_page, simulator):
    page = open_page()
    open_tab(page, "Batch")
    name, data = downloaded(page, "#batch_sample")
    assert name == SAMPLE_CSV.name and data == SAMPLE_CSV.read_bytes()
    upload(page, "text,voice\n第一行。,Cherry\n第二行。,Sunny\n".encode())
    expect(body_rows(page, "#batch_table")).to_have_count(2)
    cell = page.locator("#batch_table [data-testid=cell-1-1]")
    cell.dblclick()
    # The cell's own editor, once it has the focus: typing before then (select-all, then
    # keys) sometimes left "Sunny" in front of "Jada", a voice that does not exist.
    editor = page.locator("#batch_table :is(input, textarea):focus")
    editor.fill("Jada")
    page.keyboard.press("Enter")
    expect(cell).to_contain_text("Jada")
    expect(cell).not_to_contain_text("Sunny")
    page.locator("#batch_run").click()
    expect(page.locator("#batch_summary .batch-summary")).to_have_attribute("data-ok", "2")
    assert [r.body["input"]["voice"] for r in simulator.generation_requests()] == ["Cherry", "Jada"]


def test_a_csv_over_the_row_cap_is_refused_naming_the_cap(open_page, simulator):
    page = open_page()
    open_tab(page, "Batch")
    expect(page.locator("#tab_batch")).to_contain_text(f"At most {MAX_ROWS} rows per batch.")
    upload(page, b"text,voice\n" + b"hi,Cherry\n" * (MAX_ROWS + 1))
    expect(toast(page)).to_contain_text(
        f"The CSV has {MAX_ROWS + 1} rows; a batch takes at most {MAX_ROWS}"
    )
    expect(toast(page)).to_contain_text(f"每批最多 {MAX_ROWS} 行")
    assert simulator.generation_requests() == []


def test_a_line_with_commas_unquoted_is_named_at_upload(open_page, simulator):
    page = open_page()
    open_tab(page, "Batch")
    upload(page, b"text,voice\nHello, world,Cherry\n")
    expect(toast(page)).to_contain_text("Row 2 has 3 fields but the header has 2")
    expect(toast(page)).not_to_contain_text("包含逗号")  # the visitor's language only
    assert simulator.generation_requests() == []
