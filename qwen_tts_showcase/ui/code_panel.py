"""The "use it in your app" panel: the Python and cURL calls for what is on the editor."""

from __future__ import annotations

import gradio as gr

from ..catalogue import Catalogue
from ..snippets import curl_snippet, python_snippet, realtime_snippet
from ..text import clean_text
from .i18n import I18N
from .options import snippet_extra
from .runs import PAGE_EVENT


class CodeHandlers:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def snippets(
        self, text: str, voice: str, model: str, region: str, language: str, instructions: str
    ) -> tuple[str, str]:
        """Both snippets; the region's public base URL, never the server's own override."""
        model_info = self.catalogue.model(model)
        base_url = self.catalogue.region(region).base_url
        text = clean_text(text or "")  # what the page itself would send
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
) -> None:
    """A closed accordion that always shows the current call, with copy buttons."""
    handlers = CodeHandlers(catalogue)
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
        [text, voice, model, region, language, instructions],
        [python, curl],
        trigger_mode="always_last",
        show_progress="hidden",
        **PAGE_EVENT,
    )
