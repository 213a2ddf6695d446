"""The top of the page: title, a notice when no key is set, and the connection settings."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..catalogue import Catalogue
from ..config import Settings
from .i18n import I18N


@dataclass(frozen=True)
class ConnectionControls:
    """The settings every synthesis on the page uses: region, streaming, the visitor's own key."""

    region: gr.Radio
    streaming: gr.Checkbox
    api_key: gr.Textbox


def build_header(catalogue: Catalogue, settings: Settings) -> ConnectionControls:
    """Title and connection settings, shared by every tab that synthesizes."""
    gr.Markdown(I18N("ui_title"), elem_id="title")
    gr.Markdown(I18N("ui_no_key"), visible=not settings.api_key, elem_id="key_notice")
    with gr.Accordion(I18N("ui_connection"), open=False, elem_id="connection"):
        with gr.Row():
            region = gr.Radio(
                [(f"{r.en} · {r.zh}", r.id) for r in catalogue.regions],
                value=settings.default_region,
                label=I18N("ui_region"),
                info=I18N("ui_region_info"),
                elem_id="region",
            )
            with gr.Column():
                api_key = gr.Textbox(
                    label=I18N("ui_api_key"),
                    info=I18N("ui_api_key_info"),
                    type="password",
                    elem_id="api_key",
                )
                streaming = gr.Checkbox(value=True, label=I18N("ui_streaming"), elem_id="streaming")
    return ConnectionControls(region=region, streaming=streaming, api_key=api_key)
