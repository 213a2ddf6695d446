"""The History tab: the visitor's generations, kept in their browser, replayable from the cache."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import gradio as gr
from gradio.events import Dependency

from ..audio import pcm_to_wav
from ..downloads import write_download
from ..errors import DemoError, InputError, LimitReachedError
from ..history_log import COLUMN_WIDTHS, COLUMNS, add_rows, row_time, table_rows, valid_rows
from ..live_tickets import LiveTickets
from ..messages import say
from ..synthesis import Synthesizer
from .alerts import as_gradio_error
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT, shown_to_visitor, visitor
from .widgets import Studio, Updates, download_button, voice_picker

STORAGE_KEY = "qwen-tts-showcase-history"
# Gradio sends BrowserState's secret to the page in its config, so it keeps nothing secret; a
# fixed one lets the history survive a restart of the app (a random one per start would lose it).
STORAGE_SECRET = "qwen-tts-showcase-history-v1"

# The browser's language and time zone, asked once the page has loaded (for the table's headings
# and times: the visitor's own, not the server's UTC).
LOCALE_JS = """() => JSON.stringify({language: document.documentElement.lang || navigator.language,
  zone: Intl.DateTimeFormat().resolvedOptions().timeZone})"""
LOCALE_MAX_CHARS = 200  # what the browser sends is the visitor's to make up: a short string only
SHOWN_TIME = "%Y-%m-%d %H:%M:%S"

HistoryRow = dict[str, str | float | int]  # one generation, as history_log.history_row makes it
# What the browser sends back: normally a list of rows, but anything at all is cleaned first.
StoredRows = list[HistoryRow] | None


@dataclass(frozen=True)
class History:
    """The tab's components: the stored rows, their table, and the selected row's player."""

    rows: gr.BrowserState
    table: gr.Dataframe
    selected: gr.State  # the index of the selected row, or None
    audio: gr.Audio
    download: gr.DownloadButton
    info: gr.HTML
    replay: gr.Textbox | None = None  # the live player's ticket for the selected row (hidden)
    live: gr.HTML | None = None  # the live player's panel (page.js)
    locale: gr.Textbox | None = None  # the browser's language and time zone (LOCALE_JS)

    def recorded(
        self, rows: StoredRows, new_rows: list[HistoryRow] | None, locale: str | None = None
    ) -> Updates:
        """The history with an event's new rows on top, and its table."""
        rows = add_rows(rows, new_rows or [])
        return {self.rows: rows, self.table: history_table(rows, locale)}


@dataclass(frozen=True)
class PageLocale:
    """The visitor's language ("en" or "zh") and time zone."""

    language: str = "en"
    zone: tzinfo = timezone.utc


def page_locale(sent: str | None) -> PageLocale:
    """What LOCALE_JS sent, read with care: anything odd means English and UTC."""
    try:
        told = json.loads(sent or "{}") if len(sent or "") <= LOCALE_MAX_CHARS else {}
        told = told if isinstance(told, dict) else {}
    except ValueError:
        told = {}
    language = str(told.get("language") or "")
    try:
        zone: tzinfo = ZoneInfo(str(told.get("zone") or "UTC"))
    except Exception:  # an unknown, malformed or hostile zone name
        zone = timezone.utc
    return PageLocale("zh" if language.lower().startswith("zh") else "en", zone)


def history_table(rows: list[HistoryRow], locale: str | None = None) -> dict[str, list]:
    """The rows under headings in the visitor's language, times in their time zone, as the
    Dataframe takes them (plain lists: a pandas DataFrame cost the finish more than its rows)."""
    where = page_locale(locale)
    shown = table_rows(rows)
    for line, row in zip(shown, rows, strict=True):
        line[0] = row_time(row).astimezone(where.zone).strftime(SHOWN_TIME)
    headings = [say(key).text(where.language) for key in COLUMNS.keys]
    return {"headers": headings, "data": shown}


def selection_html(row: HistoryRow, replayable: bool, refusal: DemoError | None = None) -> str:
    """The row's text, and why it does not play when it does not."""
    text = f'<p class="history-text">{html.escape(row["text"])}</p>'
    if refusal is not None:  # outside the queue no toast shows: it is said here
        return text + f'<p class="history-refused">{localized_html(refusal.msg)}</p>'
    if replayable:
        return text
    return text + f'<p class="history-gone">{localized_html(say("history_gone"))}</p>'


class HistoryHandlers:
    def __init__(
        self,
        synthesizer: Synthesizer,
        history: History,
        studio: Studio,
        tabs: gr.Tabs,
        tickets: LiveTickets | None = None,
    ) -> None:
        self.synthesizer, self.tickets = synthesizer, tickets
        self.catalogue = synthesizer.catalogue
        self.history, self.studio, self.tabs = history, studio, tabs

    def show(self, rows: StoredRows, locale: str | None = None) -> Updates:
        """The stored rows, cleaned of anything malformed, and the table of them."""
        rows = valid_rows(rows)
        return {self.history.rows: rows, self.history.table: history_table(rows, locale)}

    def clear(self, locale: str | None = None) -> Updates:
        return {
            self.history.rows: [],
            self.history.table: history_table([], locale),
            **self._selection(None, None, None, ""),
        }

    def select(self, rows: StoredRows, event: gr.SelectData, request: gr.Request) -> Updates:
        """The chosen row: its audio from the cache (no API call, one of the visitor's cached
        answers), the download of the recording's one file, its full text."""
        rows = valid_rows(rows)
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(index, int) or not 0 <= index < len(rows):
            return self._selection(None, None, None, "")
        row = rows[index]
        with shown_to_visitor(request):
            try:
                who = visitor(self.synthesizer, request)
                result = self.synthesizer.cached_result(row["cache_key"], who)
            except LimitReachedError as refused:
                return self._selection(index, None, None, selection_html(row, False, refused))
            if result is None:
                return self._selection(index, None, None, selection_html(row, replayable=False))
            path = write_download(result.pcm, row["voice"], row_time(row).astimezone())
        # WAV bytes for the player: a file path would make Gradio probe it with ffprobe.
        wav = pcm_to_wav(result.pcm)
        updates = self._selection(index, wav, path, selection_html(row, replayable=True))
        if self.tickets is not None:  # the live player plays it at once, from this recording
            updates[self.history.replay] = self.tickets.issue_ready(result, who)
        return updates

    def load_into_editor(
        self, rows: StoredRows, index: int | None, owner: str, request: gr.Request
    ) -> Updates:
        """The row's text, model and voice back in the Studio editor, which comes to the front."""
        rows = valid_rows(rows)
        if index is None or not 0 <= index < len(rows):
            raise as_gradio_error(InputError(say("history_no_selection")), request)
        row = rows[index]
        # The catalogue may have changed since the row was stored.
        catalogue = self.catalogue
        known_models = {model.id for model in catalogue.models + catalogue.custom_models}
        model = row["model"] if row["model"] in known_models else catalogue.default_model
        voices = self.synthesizer.voices  # a VD or VC row: the browser's own voice, if it still is
        return {
            self.studio.text: row["text"],
            self.studio.model: model,
            self.studio.voice: voice_picker(catalogue, model, row["voice"], voices, owner),
            self.tabs: gr.Tabs(selected="studio"),
        }

    def _selection(
        self, index: int | None, wav: bytes | None, path: Path | None, info: str
    ) -> Updates:
        """The selected row's index, player, download and text."""
        history = self.history
        updates = {
            history.selected: index,
            history.audio: wav,
            history.download: download_button(path),
            history.info: info,
        }
        if history.replay is not None:
            updates[history.replay] = ""
        return updates


def build_history_storage() -> gr.BrowserState:
    """The rows in the browser's localStorage; Gradio only keeps it there from outside any tab."""
    return gr.BrowserState([], storage_key=STORAGE_KEY, secret=STORAGE_SECRET)


def build_history(
    demo: gr.Blocks,
    synthesizer: Synthesizer,
    studio: Studio,
    tabs: gr.Tabs,
    rows: gr.BrowserState,
    tickets: LiveTickets | None = None,
) -> History:
    """The table, the selected row's player and actions, and their events."""
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
            live = gr.HTML(elem_id="history_live") if tickets is not None else None
            info = gr.HTML(elem_id="history_info")
        with gr.Column(scale=2):
            load = gr.Button(I18N("ui_history_load"), variant="primary", elem_id="history_load")
            download = gr.DownloadButton(
                I18N("ui_history_download"), interactive=False, elem_id="history_download"
            )
            clear = gr.Button(
                I18N("ui_history_clear"), variant="stop", size="sm", elem_id="history_clear"
            )
    replay = None
    with gr.Row(elem_classes=["live-hidden"]):
        if tickets is not None:
            replay = gr.Textbox(elem_id="history_replay", show_label=False, container=False)
        locale = gr.Textbox(elem_id="history_locale", show_label=False, container=False)
    history = History(rows, table, selected, audio, download, info, replay, live, locale)
    handlers = HistoryHandlers(synthesizer, history, studio, tabs, tickets)
    selection = [selected, audio, download, info] + ([replay] if replay is not None else [])
    demo.load(None, None, locale, js=LOCALE_JS, **PAGE_EVENT).then(
        handlers.show, [rows, locale], [rows, table], **PAGE_EVENT
    )
    selected_row = table.select(handlers.select, rows, selection, **PAGE_EVENT)
    if replay is not None:  # played at once by the live player where it can play
        selected_row.then(
            None,
            [replay],
            None,
            js="(ticket) => { if (ticket) window.qwenTts.live.replay(ticket, '#history_live'); }",
        )
    load.click(
        handlers.load_into_editor,
        [rows, selected, studio.owner],
        [studio.text, studio.model, studio.voice, tabs],
        api_visibility="private",
    )  # queued: it may refuse
    clear.click(handlers.clear, locale, [rows, table, *selection], **PAGE_EVENT)
    return history


def record_after(event: Dependency, history: History, new_rows: gr.State) -> None:
    """Add an event's results to the history once it succeeded."""
    event.success(
        history.recorded,
        [history.rows, new_rows, history.locale],
        [history.rows, history.table],
        **PAGE_EVENT,
    )
