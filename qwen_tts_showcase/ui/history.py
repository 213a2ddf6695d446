"""The History tab: the visitor's generations, kept in their browser, replayable from the cache."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr
import pandas as pd

from ..audio import pcm_to_wav
from ..downloads import write_download
from ..history_log import COLUMN_WIDTHS, COLUMNS, add_rows, row_time, table_rows, valid_rows
from ..synthesis import Synthesizer
from .alerts import refusal
from .i18n import I18N, bilingual
from .runs import PAGE_EVENT, shown_to_visitor
from .studio import Studio, download_button, voice_picker

STORAGE_KEY = "qwen-tts-showcase-history"
# Gradio sends BrowserState's secret to the page in its config, so it keeps nothing secret; a
# fixed one lets the history survive a restart of the app (a random one per start would lose it).
STORAGE_SECRET = "qwen-tts-showcase-history-v1"
GONE = bilingual(
    "This recording is no longer in the server's cache, so it cannot be replayed or downloaded. "
    "Load it into the editor and generate it again.",
    "服务器缓存中已没有这段录音，无法重播或下载。请载入编辑器后重新生成。",
)


@dataclass(frozen=True)
class History:
    rows: gr.BrowserState
    table: gr.Dataframe


def history_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(table_rows(rows), columns=COLUMNS)


def record(rows: object, new_rows: list[dict]) -> tuple:
    """The history with an event's new rows on top, and its table."""
    rows = add_rows(rows, new_rows or [])
    return rows, history_table(rows)


def selection_html(row: dict, replayable: bool) -> str:
    text = f'<p class="history-text">{html.escape(row["text"])}</p>'
    return text if replayable else text + f'<p class="history-gone">{GONE}</p>'


class HistoryHandlers:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue

    def show(self, rows: object) -> tuple:
        """The stored rows, cleaned of anything malformed, and the table of them."""
        rows = valid_rows(rows)
        return rows, history_table(rows)

    def clear(self) -> tuple:
        return [], history_table([]), None, None, download_button(None), ""

    def select(self, rows: object, event: gr.SelectData, request: gr.Request) -> tuple:
        """The chosen row: its audio from the cache (no API call), a download, its full text."""
        rows = valid_rows(rows)
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(index, int) or not 0 <= index < len(rows):
            return None, None, download_button(None), ""
        row = rows[index]
        with shown_to_visitor(request):
            result = self.synthesizer.cached_result(row["cache_key"])
            if result is None:
                return index, None, download_button(None), selection_html(row, replayable=False)
            path = write_download(result.pcm, row["voice"], row_time(row).astimezone())
        # WAV bytes for the player: a file path would make Gradio probe it with ffprobe.
        return (
            index,
            pcm_to_wav(result.pcm),
            download_button(path),
            selection_html(row, replayable=True),
        )

    def load_into_editor(self, rows: object, index: int | None, request: gr.Request) -> tuple:
        """The row's text, model and voice back in the Studio editor, which comes to the front."""
        rows = valid_rows(rows)
        if index is None or not 0 <= index < len(rows):
            raise refusal(
                "Select a row of the history first.", "请先在历史记录中选择一行。", request
            )
        row = rows[index]
        # The catalogue may have changed since the row was stored.
        known_models = {model.id for model in self.catalogue.models}
        model = row["model"] if row["model"] in known_models else self.catalogue.default_model
        return (
            row["text"],
            model,
            voice_picker(self.catalogue, model, row["voice"]),
            gr.Tabs(selected="studio"),
        )


def build_history_storage() -> gr.BrowserState:
    """The rows in the browser's localStorage; Gradio only keeps it there from outside any tab."""
    return gr.BrowserState([], storage_key=STORAGE_KEY, secret=STORAGE_SECRET)


def build_history(
    demo: gr.Blocks, synthesizer: Synthesizer, studio: Studio, tabs: gr.Tabs, rows: gr.BrowserState
) -> History:
    """The table, the selected row's player and actions, and their events."""
    handlers = HistoryHandlers(synthesizer)
    selected = gr.State(None)
    gr.Markdown(I18N("ui_history_intro"))
    table = gr.Dataframe(
        history_table([]),
        label=I18N("ui_history_table"),
        interactive=False,
        wrap=True,
        column_widths=COLUMN_WIDTHS,
        elem_id="history_table",
    )
    with gr.Row(elem_id="history_selection"):
        with gr.Column(scale=3):
            audio = gr.Audio(
                interactive=False,
                label=I18N("ui_history_audio"),
                buttons=[],
                elem_id="history_audio",
            )
            info = gr.HTML(elem_id="history_info")
        with gr.Column(scale=2):
            load = gr.Button(I18N("ui_history_load"), variant="primary", elem_id="history_load")
            download = gr.DownloadButton(
                I18N("ui_history_download"), interactive=False, elem_id="history_download"
            )
            clear = gr.Button(
                I18N("ui_history_clear"), variant="stop", size="sm", elem_id="history_clear"
            )
    demo.load(handlers.show, rows, [rows, table], **PAGE_EVENT)
    table.select(handlers.select, rows, [selected, audio, download, info], **PAGE_EVENT)
    load.click(
        handlers.load_into_editor,
        [rows, selected],
        [studio.text, studio.model, studio.voice, tabs],
        api_visibility="private",
    )  # queued: it may refuse
    clear.click(handlers.clear, None, [rows, table, selected, audio, download, info], **PAGE_EVENT)
    return History(rows, table)


def record_after(event, history: History, new_rows: gr.State) -> None:
    """Add an event's results to the history once it succeeded."""
    event.success(record, [history.rows, new_rows], [history.rows, history.table], **PAGE_EVENT)
