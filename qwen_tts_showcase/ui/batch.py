"""The Batch tab: a CSV or a table of lines in, a ZIP of WAVs and a manifest of every row out.

An uploaded CSV fills the table, so what runs is always what the visitor sees (and may edit).
The batch uses the visitor's own key or the server's, counts as one request of the visitor
(each row against the owner key's budget), and holds one of the page's DashScope slots.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .. import downloads
from ..batch import (
    MAX_CSV_BYTES,
    BatchResult,
    RowOutcome,
    batch_table,
    read_batch_csv,
    read_batch_table,
    run_batch,
)
from ..datafiles import data_path, load_bytes
from ..errors import InputError
from ..messages import Message, listing, say
from ..synthesis import Synthesizer
from .header import ConnectionControls
from .i18n import I18N, localized_html, prefers_chinese
from .regions import preferred_model
from .runs import PAGE_EVENT, ApiEventOptions, shown_to_visitor, visitor
from .widgets import Updates

SAMPLE_CSV = data_path("batch_sample.csv")
# The manifest's columns the page shows; each heading names the column in both languages.
# The manifest's columns the page shows, and the message naming each (in both languages).
MANIFEST_VIEW = {
    "row": "batch_column_row",
    "status": "batch_column_status",
    "file": "batch_column_file",
    "voice": "batch_column_voice",
    "model": "batch_column_model",
    "language": "batch_column_language",
    "audio_s": "batch_column_audio_s",
    "billed": "batch_column_billed",
    "error": "batch_column_error",
}
STATUS_NAMES = {
    "ok": "batch_status_ok",
    "failed": "batch_status_failed",
    "skipped": "batch_status_skipped",
}


def heading(column: str, language: str = "en") -> str:
    """A column of the manifest as the page heads it, in the visitor's language."""
    return say(MANIFEST_VIEW[column]).text(language)


def status_name(status: str) -> Message:
    return say(STATUS_NAMES[status])


def manifest_view(outcomes: tuple[RowOutcome, ...], language: str = "en") -> pd.DataFrame:
    """The manifest as the page shows it: one line per row, in the visitor's language (the
    manifest.csv in the ZIP keeps both)."""
    lines = []
    for outcome in outcomes:
        line = {name: getattr(outcome, name) for name in MANIFEST_VIEW}
        line["billed"] = (
            f"{outcome.billed} {outcome.billing_unit}" if outcome.status == "ok" else ""
        )
        line["error"] = outcome.error_zh if language == "zh" else outcome.error
        lines.append(line)
    frame = pd.DataFrame(lines, columns=list(MANIFEST_VIEW))
    return frame.rename(columns={column: heading(column, language) for column in MANIFEST_VIEW})


def summary_html(result: BatchResult) -> str:
    """How many rows were made, failed and skipped (also as data attributes, for tests)."""
    counts = {status: sum(o.status == status for o in result.outcomes) for status in STATUS_NAMES}
    parts = [
        say("batch_count", count=counts[status], status=status_name(status))
        for status in STATUS_NAMES
        if counts[status]
    ]
    summary = say("batch_summary", total=len(result.outcomes), counts=listing(parts))
    data = " ".join(f'data-{status}="{count}"' for status, count in counts.items())
    state = "all-ok" if counts["ok"] == len(result.outcomes) else "some-failed"
    return f'<div class="batch-summary {state}" {data}>{localized_html(summary)}</div>'


def read_upload(path: str, max_rows: int) -> bytes:
    """An uploaded CSV's bytes, read in one bounded piece: a file over MAX_CSV_BYTES is refused
    in words after reading one byte more than that, however large it is."""
    with open(path, "rb") as file:
        data = file.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InputError(say("csv_too_large", mb=MAX_CSV_BYTES // 1_000_000, max_rows=max_rows))
    return data


def language_of(request: gr.Request | None) -> str:
    """The visitor's language, for words Gradio shows as they are (progress, warnings)."""
    return "zh" if prefers_chinese(request) else "en"


@dataclass(frozen=True)
class BatchOutputs:
    """What a run fills: the summary, the manifest and the ZIP's download."""

    summary: gr.HTML
    manifest: gr.Dataframe
    download: gr.DownloadButton


class BatchHandlers:
    def __init__(self, synthesizer: Synthesizer, outputs: BatchOutputs) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue
        self.max_rows = synthesizer.settings.batch_max_rows
        self.outputs = outputs

    def load(self, path: str | None, request: gr.Request) -> pd.DataFrame | dict[str, str]:
        """An uploaded CSV into the table (a skip without one); lines that need fixing are
        named in a warning."""
        if not path:
            return gr.skip()
        with shown_to_visitor(request):
            rows = read_batch_csv(read_upload(path, self.max_rows), self.max_rows)
        for row in rows:
            if row.problem:
                gr.Warning(row.problem.text(language_of(request)), duration=None)
        return batch_table(rows)

    def run(
        self,
        table: pd.DataFrame,
        region: str,
        api_key: str,
        owner: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),
    ) -> Updates:
        """Every row, one after another, with progress; then the summary, manifest and ZIP."""
        synthesizer = self.synthesizer
        language = language_of(request)

        def report(done: int, total: int, outcome: RowOutcome) -> None:
            row = say("batch_progress_row", row=outcome.row, status=status_name(outcome.status))
            progress((done, total), desc=row.text(language))

        with shown_to_visitor(request):
            rows = read_batch_table(table, self.max_rows)
            progress((0, len(rows)), desc=say("batch_starting").text(language))
            # Among the downloads: bounded in size with them, and removed with them.
            result = run_batch(
                rows,
                synthesizer,
                downloads.new_folder("qwen-tts-batch-"),
                region,
                api_key,
                preferred_model(self.catalogue, region),
                report,
                visitor=visitor(synthesizer, request),
                owner=owner or "",
            )
            downloads.added(result.zip_path.stat().st_size)
        return {
            self.outputs.summary: summary_html(result),
            self.outputs.manifest: manifest_view(result.outcomes, language),
            self.outputs.download: gr.DownloadButton(value=str(result.zip_path), interactive=True),
        }


def build_batch(
    synthesizer: Synthesizer,
    connection: ConnectionControls,
    api_events: ApiEventOptions,
    owner: gr.State | None = None,
) -> None:
    """Upload or edit the lines, run them, read the manifest, download the ZIP. With `owner`
    (the browser's owner token, ui/voices.py) a row may name the visitor's own voices."""
    sample = read_batch_csv(load_bytes(SAMPLE_CSV))
    gr.Markdown(I18N("ui_batch_intro"))
    limit = say("batch_limit", max_rows=synthesizer.settings.batch_max_rows)
    gr.HTML(f'<p class="batch-limit">{localized_html(limit)}</p>')
    with gr.Row(elem_id="batch_inputs", equal_height=True):
        upload = gr.File(
            label=I18N("ui_batch_upload"),
            file_types=[".csv"],
            type="filepath",  # read in one bounded piece (read_upload), not whole
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
        manifest_view(()),
        label=I18N("ui_batch_manifest"),
        interactive=False,
        wrap=True,
        elem_id="batch_manifest",
    )

    def headed_in_visitors_language(request: gr.Request) -> pd.DataFrame:
        return manifest_view((), language_of(request))

    gr.on(None, headed_in_visitors_language, None, manifest, **PAGE_EVENT)  # once, on load
    download = gr.DownloadButton(
        I18N("ui_batch_download"), interactive=False, elem_id="batch_download"
    )
    handlers = BatchHandlers(synthesizer, BatchOutputs(summary, manifest, download))
    upload.upload(handlers.load, upload, table, api_visibility="private")  # queued: it warns
    run.click(
        handlers.run,
        [table, connection.region, connection.api_key, owner or gr.State("")],
        [summary, manifest, download],
        api_visibility="private",
        **api_events,
    )
