"""The top of the page: title, a notice when no key is set, and the connection settings."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..catalogue import Catalogue
from ..config import Settings
from .i18n import I18N


class _ValueNotKept(dict):
    """A component's properties in which Gradio can never record a value."""

    def __setitem__(self, name: str, value: object) -> None:
        if name != "value":
            super().__setitem__(name, value)

    def update(self, *args, **kwargs) -> None:
        for name, value in dict(*args, **kwargs).items():
            self[name] = value


def value_never_kept(box: gr.Textbox) -> gr.Textbox:
    """The visitor's own key box, made so Gradio never keeps what is typed in it.

    Gradio records every input of an event in the session's copy of the page's config, which its
    deep links write to a served file and which stays in memory for the session's life. The
    box's copy here cannot hold a value, so the key lives only in the browser's field and in the
    one request that uses it. (Patched on the instance: a subclass of a Gradio component makes
    Gradio write a .pyi file next to this module.)
    """
    get_config = box.get_config
    box.get_config = lambda *args, **kwargs: _ValueNotKept(get_config(*args, **kwargs))
    return box


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
                api_key = value_never_kept(
                    gr.Textbox(
                        label=I18N("ui_api_key"),
                        info=I18N("ui_api_key_info"),
                        type="password",
                        elem_id="api_key",
                    )
                )
                streaming = gr.Checkbox(value=True, label=I18N("ui_streaming"), elem_id="streaming")
    return ConnectionControls(region=region, streaming=streaming, api_key=api_key)
