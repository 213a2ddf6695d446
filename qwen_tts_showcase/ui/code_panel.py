"""The "use it in your app" panel: the Python and cURL calls for what is on the editor.

For a designed or cloned voice the Space's key made, DashScope would refuse the visitor's own
key (the voice lives in the Space owner's account), so the panel shows its maker a call of this
app's /synthesize with the voice's API handle instead; a voice of the visitor's own account is a
DashScope call with their key, like any other voice."""

from __future__ import annotations

import gradio as gr

from ..catalogue import Catalogue
from ..snippets import (
    app_curl_snippet,
    app_python_snippet,
    curl_snippet,
    python_snippet,
    realtime_snippet,
)
from ..text import clean_text
from ..voices import VoiceBook, api_handle
from .i18n import I18N
from .options import snippet_extra
from .runs import PAGE_EVENT

LOCAL_ADDRESS = "http://127.0.0.1:7860/"


def page_address(request: gr.Request | None) -> str:
    """The address the visitor reached this app at, for a gradio_client call of it."""
    headers = request.headers if request is not None else {}
    origin = headers.get("origin", "")
    if origin.startswith(("http://", "https://")):
        return origin.rstrip("/") + "/"
    host = headers.get("x-forwarded-host") or headers.get("host")
    scheme = headers.get("x-forwarded-proto", "http")
    return f"{scheme}://{host}/" if host else LOCAL_ADDRESS


class CodeHandlers:
    def __init__(self, catalogue: Catalogue, book: VoiceBook | None = None) -> None:
        self.catalogue = catalogue
        self.book = book

    def snippets(
        self,
        text: str,
        voice: str,
        model: str,
        region: str,
        language: str,
        instructions: str,
        token: str = "",
        request: gr.Request | None = None,
    ) -> tuple[str, str]:
        """Both snippets; the region's public base URL, never the server's own override."""
        model_info = self.catalogue.model(model)
        base_url = self.catalogue.region(region).base_url
        text = clean_text(text or "")  # what the page itself would send
        own = self.book.get(voice or "") if self.book is not None and model_info.family else None
        handle = api_handle(own, token if isinstance(token, str) else "") if own else None
        if handle is not None:  # the maker's voice in the Space's account: through this app
            address = page_address(request)
            return (
                app_python_snippet(text, handle, model_info.id, address),
                app_curl_snippet(text, handle, model_info.id, address),
            )
        extra = snippet_extra(self.catalogue, model_info.id, language, instructions)
        here = self.catalogue.region(region)
        if model_info.sdk == "task":  # Qwen-Audio TTS 3.x: the task protocol, no SDK class
            line = f"# {model_info.id}: run-task / continue-task / finish-task at {here.task_url}"
            return line, line
        if model_info.realtime:  # a WebSocket: the SDK's realtime client, and no cURL call
            url = here.realtime_url
            python = realtime_snippet(text, voice, model_info.id, url, extra=extra)
            return python, f"# {model_info.id}: WebSocket {url}?model={model_info.id}"
        return (
            python_snippet(text, voice, model_info.id, base_url, sdk=model_info.sdk, extra=extra),
            curl_snippet(text, voice, model_info.id, base_url, extra=extra),
        )


def build_code_panel(
    catalogue: Catalogue,
    text: gr.Textbox,
    voice: gr.Dropdown,
    model: gr.Dropdown,
    region: gr.Radio,
    language: gr.Dropdown,
    instructions: gr.Textbox,
    book: VoiceBook | None = None,
    owner: gr.State | None = None,
) -> None:
    """A closed accordion that always shows the current call, with copy buttons; with the
    `book` and the browser's `owner` token, the maker's own voices by their API handle."""
    handlers = CodeHandlers(catalogue, book)
    owner = owner if owner is not None else gr.State("")  # no token: no voices of one's own
    with gr.Accordion(I18N("ui_code_title"), open=False, elem_id="code_panel"):
        gr.Markdown(I18N("ui_code_note"))
        with gr.Tabs():
            with gr.Tab(I18N("ui_code_python"), elem_id="code_tab_python"):
                python = gr.Code(
                    language="python",
                    interactive=False,
                    buttons=["copy"],
                    show_label=False,
                    elem_id="code_python",
                )
            with gr.Tab(I18N("ui_code_curl"), elem_id="code_tab_curl"):
                curl = gr.Code(
                    language="shell",
                    interactive=False,
                    buttons=["copy"],
                    show_label=False,
                    elem_id="code_curl",
                )
    gr.on(  # every change of the inputs, and the page's load
        None,
        handlers.snippets,
        [text, voice, model, region, language, instructions, owner],
        [python, curl],
        trigger_mode="always_last",
        show_progress="hidden",
        **PAGE_EVENT,
    )
