"""The Gradio page: the only package that imports gradio, one module per panel.

header      title, key notice, connection settings (region, streaming, own key)
guard       before Gradio: the socket's address, deep links closed, inputs bounded, idle sessions
studio      editor (text, counter, model, voice) and player (live audio, numbers, download)
widgets     what panels share: voice pickers, download buttons, updates keyed by component
runs        who is asking, progress toasts, failures as toasts, the events' concurrency
options     language and instructions for the qwen3 models; regions  models by region
code_panel  the Python and cURL calls for what is on the editor
gallery     the blog's samples as cards that play in place: official recording beside the live
share       a link that opens the page with the editor filled, and the button that makes it
compare     one text by 2 to 4 voices at once
history     the visitor's generations, kept in their browser
batch       a CSV or a table of lines in, a ZIP of WAVs and a manifest out
benchmarks  the blog's SeedTTS-Eval results
footer      AI-audio notice, model in use, links
api         the public /synthesize endpoint, also the app's MCP tool
voices      the Design and Clone tabs: voices from words or a recording, the visitor's own
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from gradio.utils import get_upload_folder
from starlette.middleware import Middleware

from ..audio import ensure_ffmpeg
from ..catalogue import Catalogue, load_catalogue
from ..config import Settings
from ..disk import keep_bounded
from ..live import routes
from ..live_tickets import LiveTickets
from ..synthesis import Synthesizer
from ..voice_maker import VOICE_SWEEP_S, VoiceMaker
from .api import build_api
from .batch import build_batch
from .benchmarks import build_benchmarks
from .compare import build_compare
from .footer import build_footer
from .gallery import build_gallery, build_more_samples, wire_gallery
from .guard import RequestGuard, serve_socket_address
from .header import build_header
from .history import build_history, build_history_storage, record_after
from .i18n import I18N
from .runs import api_event_options
from .share import build_share, wire_share
from .studio import build_studio
from .theme import THEME, page_css, page_head
from .voices import Context, build_voice_storage, build_voice_tabs

__all__ = ["I18N", "build_demo", "launch_options", "worker_threads"]


MAX_BODY_BYTES = 4_000_000  # a request other than an upload: a full batch table fits many times
UPLOAD_OVERHEAD_BYTES = 64 * 1024  # an upload request's form fields and boundaries, one file
MAX_STRING_CHARS = 100_000  # any one string of it: far over a text the app accepts (it says so)
MAX_CHOICE_CHARS = 1_000  # a dropdown's or radio's value: the longest choice is a few dozen
GRADIO_FILES_SWEEP_S = 60  # how often Gradio's own folder is brought under its size
MB = 1024 * 1024
GRADIO_DEFAULT_THREADS = 40
SPARE_THREADS = 8  # for the page's other events and Gradio's processing while every slot is busy
# Gradio's queue looks for work every millisecond while it is idle (Queue.sleep_when_free), and
# for progress to send every 10 ms: about 55 ms of CPU a second in an idle app, taken from the
# live streams and page events that share the process (bench: docs/performance.md). Every 20 ms
# instead: a queued event (Generate with the fallback player, Compare, Batch) may start up to
# 20 ms later, and its progress is sent up to 50 times a second.
QUEUE_IDLE_POLL_S = 0.02


def launch_options(settings: Settings | None = None) -> dict[str, Any]:
    """What demo.launch() needs besides host and port (tests launch with these too)."""
    settings = settings or Settings.from_env(load_catalogue())
    # run_history off: Gradio would keep every run's inputs, a visitor's own key included,
    # in the browser's storage. The MCP server offers /synthesize to agents (ui/api.py).
    # max_file_size: Gradio refuses a larger upload as it streams in, before it is kept or read.
    # state_session_capacity: the sessions Gradio keeps (the oldest go); the guard forgets idle
    # ones. The guard (ui/guard.py) bounds every other request before Gradio reads it.
    max_file_size = int(settings.max_upload_mb * 1024 * 1024)
    guard = Middleware(
        RequestGuard,
        max_body_bytes=MAX_BODY_BYTES,
        max_upload_bytes=max_file_size + UPLOAD_OVERHEAD_BYTES,
        max_string_chars=max(MAX_STRING_CHARS, 20 * settings.max_text_chars),
        max_choice_chars=MAX_CHOICE_CHARS,
        session_idle_s=settings.session_idle_s,
        trusted_proxy_hops=settings.trusted_proxy_hops,
    )
    return dict(
        i18n=I18N,
        theme=THEME,
        css=page_css(),
        head=page_head(),
        run_history=False,
        show_error=False,
        max_threads=worker_threads(settings.concurrency_limit),
        mcp_server=True,
        max_file_size=max_file_size,
        state_session_capacity=settings.max_sessions,
        app_kwargs={"middleware": [guard]},
    )


def worker_threads(concurrency_limit: int) -> int:
    """Gradio's worker threads: one per running synthesis, plus room for everything else.

    A synthesis holds a thread for as long as it waits on DashScope (the SDK is synchronous),
    and Gradio's pre- and postprocessing of every event draw on the same pool, so the default
    of 40 would make visitors beyond it wait for a thread, not for DashScope. A comparison runs
    its voices on threads of its own.
    """
    return max(GRADIO_DEFAULT_THREADS, concurrency_limit + SPARE_THREADS)


class ShowcaseBlocks(gr.Blocks):
    """gr.Blocks whose FastAPI app also serves the live player's routes (live.py), on the page's
    own origin, before Gradio's routes; and whose server gives the app the socket's client
    address (ui/guard.py)."""

    def __init__(self, *args: Any, routes: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own_routes = list(routes or [])

    def launch(self, *args: Any, app_kwargs: dict[str, Any] | None = None, **kwargs: Any):
        app_kwargs = dict(app_kwargs or {})
        app_kwargs["routes"] = [*self.own_routes, *app_kwargs.get("routes", [])]
        launched = super().launch(*args, app_kwargs=app_kwargs, **kwargs)
        serve_socket_address(getattr(self, "server", None))
        return launched

    def queue(self, *args: Any, **kwargs: Any):
        blocks = super().queue(*args, **kwargs)
        queue = getattr(self, "_queue", None)
        for poll in ("sleep_when_free", "progress_update_sleep_when_free"):
            if hasattr(queue, poll):  # private attributes: left alone if they go
                setattr(queue, poll, QUEUE_IDLE_POLL_S)
        return blocks


def build_demo(settings: Settings | None = None, catalogue: Catalogue | None = None) -> gr.Blocks:
    """The whole page, wired to DashScope as the settings say."""
    ensure_ffmpeg()
    catalogue = catalogue or load_catalogue()
    settings = settings or Settings.from_env(catalogue)
    synthesizer = Synthesizer(catalogue, settings)
    maker = VoiceMaker(synthesizer)
    maker.sweep_every(VOICE_SWEEP_S)  # the Space key's voices past their retention
    gradio_files_mb = settings.gradio_files_max_mb
    keep_bounded(lambda: Path(get_upload_folder()), gradio_files_mb * MB, GRADIO_FILES_SWEEP_S)
    api_events = api_event_options(settings.concurrency_limit)
    tickets = LiveTickets()

    with ShowcaseBlocks(
        title="Qwen-TTS Showcase",
        delete_cache=(3600, 3600),
        routes=routes(synthesizer, tickets),
    ) as demo:
        demo.disk_share = synthesizer.disk  # uploads count against it too (ui/guard.py)
        connection = build_header(catalogue, settings)
        history_rows = build_history_storage()
        voice_owner = build_voice_storage()
        owner_token = gr.State("")  # the same token, for the Studio, Compare and Batch
        with gr.Tabs(elem_id="tabs", overflow_behavior="wrap") as tabs:
            # What this is (the header), hear it (the blog's dialects), try your own (the
            # Studio), then the other samples.
            with gr.Tab(I18N("ui_tab_studio"), id="studio", elem_id="tab_studio"):
                dialects = build_gallery(catalogue)
                gr.Markdown(I18N("ui_try_title"), elem_id="try_title")
                share = build_share()
                studio = build_studio(synthesizer, connection, api_events, tickets, owner_token)
                more_samples = build_more_samples(catalogue)
                wire_gallery(catalogue, studio, dialects, more_samples)
                wire_share(demo, catalogue, studio, share, settings.max_text_chars)
            voices = Context(synthesizer, maker, connection, voice_owner, api_events, owner_token)
            own_voices = build_voice_tabs(demo, voices, studio)
            with gr.Tab(I18N("ui_tab_compare"), id="compare", elem_id="tab_compare"):
                compared, compare_rows = build_compare(
                    synthesizer, connection, api_events, tickets, owner_token
                )
            with gr.Tab(I18N("ui_tab_batch"), id="batch", elem_id="tab_batch"):
                build_batch(synthesizer, connection, api_events, owner_token)
            with gr.Tab(I18N("ui_tab_history"), id="history", elem_id="tab_history"):
                history = build_history(demo, synthesizer, studio, tabs, history_rows, tickets)
            with gr.Tab(I18N("ui_tab_benchmarks"), id="benchmarks", elem_id="tab_benchmarks"):
                build_benchmarks()
        build_footer(catalogue, studio.model)
        record_after(studio.generated, history, studio.new_rows)
        studio.finish_live(history)
        for event in compared:  # the Compare button's, and the live players' finish
            record_after(event, history, compare_rows)
        for panel in own_voices:
            record_after(panel.spoke, history, panel.new_rows)
        build_api(synthesizer, api_events)
    demo.queue(max_size=settings.queue_size)
    return demo
