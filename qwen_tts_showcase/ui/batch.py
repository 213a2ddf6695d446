"""The Batch tab: a CSV or a table of lines in, a ZIP of WAVs and a manifest of every row out.

An uploaded CSV fills the table, so what runs is always what the visitor sees (and may edit).
The batch uses the visitor's own key or the server's, counts as one request of the visitor
(each row against the owner key's budget), and holds one of the page's DashScope slots.
"""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from ..batch import (
    BatchResult,
    RowOutcome,
    batch_table,
    read_batch_csv,
    read_batch_table,
    run_batch,
)
from ..datafiles import data_path, load_bytes
from ..synthesis import Synthesizer
from .header import Connection
from .i18n import I18N, bilingual
from .regions import preferred_model
from .runs import shown_to_visitor

SAMPLE_CSV = data_path("batch_sample.csv")
MANIFEST_VIEW = {  # the manifest's columns the page shows, and their headings
    "row": "Row 行",
    "status": "Status 状态",
    "file": "File 文件",
    "voice": "Voice 音色",
    "model": "Model 模型",
    "language": "Language 语言",
    "audio_s": "Audio 时长 s",
    "billed": "Billed 计费",
    "error": "Error 错误",
}
STATUS_NAMES = {
    "ok": ("synthesized", "已合成"),
    "failed": ("failed", "失败"),
    "skipped": ("skipped", "已跳过"),
}


def manifest_view(outcomes: tuple[RowOutcome, ...]) -> pd.DataFrame:
    """The manifest as the page shows it: one line per row, its error in both languages."""
    lines = []
    for outcome in outcomes:
        line = {name: getattr(outcome, name) for name in MANIFEST_VIEW}
        line["billed"] = (
            f"{outcome.billed} {outcome.billing_unit}" if outcome.status == "ok" else ""
        )
        line["error"] = f"{outcome.error}\n{outcome.error_zh}".strip()
        lines.append(line)
    return pd.DataFrame(lines, columns=list(MANIFEST_VIEW)).rename(columns=MANIFEST_VIEW)


def summary_html(result: BatchResult) -> str:
    """How many rows were made, failed and skipped (also as data attributes, for tests)."""
    counts = {status: sum(o.status == status for o in result.outcomes) for status in STATUS_NAMES}
    parts_en = [f"{counts[s]} {STATUS_NAMES[s][0]}" for s in STATUS_NAMES if counts[s]]
    parts_zh = [f"{STATUS_NAMES[s][1]} {counts[s]} 行" for s in STATUS_NAMES if counts[s]]
    data = " ".join(f'data-{status}="{count}"' for status, count in counts.items())
    total = len(result.outcomes)
    en = f"{total} rows: {', '.join(parts_en)}. The ZIP holds a WAV per synthesized row and manifest.csv."
    zh = f"共 {total} 行：{'，'.join(parts_zh)}。ZIP 内含每个已合成行的 WAV 和 manifest.csv。"
    state = "all-ok" if counts["ok"] == total else "some-failed"
    return f'<div class="batch-summary {state}" {data}>{bilingual(html.escape(en), html.escape(zh))}</div>'


def batch_limit(max_rows: int) -> str:
    return bilingual(f"At most {max_rows} rows per batch.", f"每批最多 {max_rows} 行。")


class BatchHandlers:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue
        self.max_rows = synthesizer.settings.batch_max_rows

    def load(self, data: bytes | None, request: gr.Request) -> pd.DataFrame:
        """An uploaded CSV into the table; lines that need fixing are named in a warning."""
        if not data:
            return gr.skip()
        with shown_to_visitor(request):
            rows = read_batch_csv(data, self.max_rows)
        for row in rows:
            if row.problem:
                gr.Warning(f"{row.problem}\n{row.problem_zh}", duration=None)
        return batch_table(rows)

    def run(
        self,
        table: pd.DataFrame,
        region: str,
        api_key: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> tuple:
        """Every row, one after another, with progress; then the summary, manifest and ZIP."""
        synthesizer = self.synthesizer

        def report(done: int, total: int, outcome: RowOutcome) -> None:
            en, zh = STATUS_NAMES[outcome.status]
            progress((done, total), desc=f"Row {outcome.row}: {en} · 第 {outcome.row} 行：{zh}")

        with shown_to_visitor(request):
            rows = read_batch_table(table, self.max_rows)
            progress((0, len(rows)), desc="Starting · 开始")
            result = run_batch(
                rows,
                synthesizer,
                Path(tempfile.mkdtemp(prefix="qwen-tts-batch-")),
                region,
                api_key,
                preferred_model(self.catalogue, region),
                report,
                visitor=synthesizer.visitor(request),
            )
        return (
            summary_html(result),
            manifest_view(result.outcomes),
            gr.DownloadButton(value=str(result.zip_path), interactive=True),
        )


def build_batch(synthesizer: Synthesizer, connection: Connection, api_events: dict) -> None:
    """Upload or edit the lines, run them, read the manifest, download the ZIP."""
    handlers = BatchHandlers(synthesizer)
    sample = read_batch_csv(load_bytes(SAMPLE_CSV))
    gr.Markdown(I18N("ui_batch_intro"))
    gr.HTML(f'<p class="batch-limit">{batch_limit(handlers.max_rows)}</p>')
    with gr.Row(elem_id="batch_inputs", equal_height=True):
        upload = gr.File(
            label=I18N("ui_batch_upload"),
            file_types=[".csv"],
            type="binary",
            elem_id="batch_upload",
            scale=3,
            height=120,
        )
        gr.DownloadButton(
            I18N("ui_batch_sample"),
            value=str(SAMPLE_CSV),
            elem_id="batch_sample",
            variant="secondary",
            scale=1,
            min_width=200,
        )
    table = gr.Dataframe(
        batch_table(sample),
        label=I18N("ui_batch_table"),
        interactive=True,
        wrap=True,
        row_count=len(sample),
        column_count=5,
        elem_id="batch_table",
        column_widths=["40%", "12%", "20%", "10%", "18%"],
    )
    run = gr.Button(I18N("ui_batch_run"), variant="primary", elem_id="batch_run")
    summary = gr.HTML(elem_id="batch_summary")
    manifest = gr.Dataframe(
        pd.DataFrame(columns=list(MANIFEST_VIEW.values())),
        label=I18N("ui_batch_manifest"),
        interactive=False,
        wrap=True,
        elem_id="batch_manifest",
    )
    download = gr.DownloadButton(
        I18N("ui_batch_download"), interactive=False, elem_id="batch_download"
    )
    upload.upload(handlers.load, upload, table, api_visibility="private")  # queued: it warns
    run.click(
        handlers.run,
        [table, connection.region, connection.api_key],
        [summary, manifest, download],
        api_visibility="private",
        **api_events,
    )
