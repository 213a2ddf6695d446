"""The realtime models' controls in the Studio: speech rate, pitch, volume, sample rate, format.

They show only for the WebSocket models (the catalogue's `realtime`); for those every value shown
is sent, defaults included, and for any other model none is: what the page shows is what DashScope
receives. The sample rates and formats offered are the model's own.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import gradio as gr

from ..catalogue import Catalogue
from ..realtime import (
    DEFAULT_FORMAT,
    DEFAULTS,
    RATE_RANGE,
    VOLUME_RANGE,
    WRITTEN_PACE,
    finished_timeline,
)
from ..speech import SpeechResult
from .i18n import I18N
from .runs import PAGE_EVENT
from .widgets import Updates


@dataclass(frozen=True)
class RealtimeControls:
    box: gr.Column
    speech_rate: gr.Slider
    pitch_rate: gr.Slider
    volume: gr.Slider
    sample_rate: gr.Dropdown
    response_format: gr.Dropdown
    written: gr.Checkbox  # speak as it is written: the text sent word by word, like a chatbot's
    typed: gr.Checkbox  # speak as I type: the page sends the text box's words as they come
    typed_go: gr.Button  # hidden: realtime.js asks here for a typing session's ticket

    @property
    def inputs(self) -> dict[str, gr.components.Component]:
        """The values an order takes, by sent_controls' names."""
        return {
            "speech_rate": self.speech_rate,
            "pitch_rate": self.pitch_rate,
            "volume": self.volume,
            "sample_rate": self.sample_rate,
            "response_format": self.response_format,
            "written": self.written,
        }


def _rates(catalogue: Catalogue, model: str | None) -> list[tuple[str, int]]:
    """The model's sample rates; with no model, every realtime model's (the opening choices)."""
    rates = _offered(catalogue, model, "sample_rates")
    return [(f"{rate // 1000} kHz", rate) for rate in sorted(rates)]


def _formats(catalogue: Catalogue, model: str | None) -> list[tuple[str, str]]:
    return [(fmt.upper(), fmt) for fmt in _offered(catalogue, model, "formats")]


def _offered(catalogue: Catalogue, model: str | None, name: str) -> list:
    if model is not None:
        return list(getattr(catalogue.model(model), name))
    every = catalogue.models + catalogue.custom_models
    return list(dict.fromkeys(value for m in every for value in getattr(m, name)))


# The sliders, in the page's order: name (the elem_id and the DEFAULTS key), range, step, label.
_SLIDERS = (
    ("speech_rate", RATE_RANGE, 0.1, "ui_realtime_speech_rate"),
    ("pitch_rate", RATE_RANGE, 0.1, "ui_realtime_pitch"),
    ("volume", VOLUME_RANGE, 1, "ui_realtime_volume"),
)


def build_realtime_controls(catalogue: Catalogue, model: str) -> RealtimeControls:
    info = catalogue.model(model)
    with gr.Column(visible=info.realtime, elem_id="realtime_controls") as box:
        with gr.Row(equal_height=False):
            speech_rate, pitch_rate, volume = [
                gr.Slider(
                    *value_range,
                    value=DEFAULTS[name],
                    step=step,
                    label=I18N(label),
                    elem_id=name,
                    min_width=140,
                )
                for name, value_range, step, label in _SLIDERS
            ]
        with gr.Row(equal_height=False):
            sample_rate = gr.Dropdown(
                _rates(catalogue, model if info.realtime else None),
                value=DEFAULTS["sample_rate"],
                label=I18N("ui_realtime_sample_rate"),
                elem_id="sample_rate",
                min_width=140,
            )
            response_format = gr.Dropdown(
                _formats(catalogue, model if info.realtime else None),
                value=DEFAULT_FORMAT,
                label=I18N("ui_realtime_format"),
                elem_id="response_format",
                min_width=140,
            )
        written = gr.Checkbox(
            value=False,
            label=I18N("ui_realtime_written"),
            info=I18N("ui_realtime_written_info"),
            elem_id="speak_as_written",
        )
        typed = gr.Checkbox(
            value=False,
            label=I18N("ui_realtime_typed"),
            info=I18N("ui_realtime_typed_info"),
            elem_id="speak_as_typed",
        )
        typed_go = gr.Button(elem_id="typed_live", size="sm", elem_classes=["live-hidden"])
    return RealtimeControls(
        box, speech_rate, pitch_rate, volume, sample_rate, response_format, written, typed, typed_go
    )


def sent_controls(
    catalogue: Catalogue,
    model: str,
    speech_rate: float | None,
    pitch_rate: float | None,
    volume: float | None,
    sample_rate: int | None,
    response_format: str | None,
    written: bool = False,
    typed: bool = False,
) -> dict:
    """The controls as SpeechOrder takes them: all of them for a realtime model, none otherwise
    (speak-as-written is the reading pace, or nothing; speak as I type is the page's text)."""
    if not catalogue.model(model).realtime:
        return {}
    return dict(
        speech_rate=speech_rate,
        pitch_rate=pitch_rate,
        volume=volume,
        sample_rate=sample_rate,
        response_format=response_format,
        written_pace=WRITTEN_PACE if written else None,
        typed=bool(typed),
    )


class RealtimeControlHandlers:
    def __init__(self, catalogue: Catalogue, controls: RealtimeControls) -> None:
        self.catalogue, self.controls = catalogue, controls

    def follow_model(
        self, model: str, sample_rate: int | None, response_format: str | None
    ) -> Updates:
        """Shown for the realtime models, with the model's own rates and formats (a value the
        model lacks goes back to the default)."""
        info, controls = self.catalogue.model(model), self.controls
        if not info.realtime:
            return {controls.box: gr.Column(visible=False)}
        rate = sample_rate if sample_rate in info.sample_rates else DEFAULTS["sample_rate"]
        fmt = response_format if response_format in info.formats else DEFAULT_FORMAT
        return {
            controls.box: gr.Column(visible=True),
            controls.sample_rate: gr.Dropdown(choices=_rates(self.catalogue, model), value=rate),
            controls.response_format: gr.Dropdown(
                choices=_formats(self.catalogue, model), value=fmt
            ),
        }


def wire_realtime_controls(
    catalogue: Catalogue, model: gr.Dropdown, controls: RealtimeControls
) -> None:
    handlers = RealtimeControlHandlers(catalogue, controls)
    model.change(
        handlers.follow_model,
        [model, controls.sample_rate, controls.response_format],
        [controls.box, controls.sample_rate, controls.response_format],
        show_progress="hidden",
        **PAGE_EVENT,
    )


# --- Words lit as they are spoken ---------------------------------------------------------------


def spoken_words_html(result: SpeechResult | None) -> str:
    """The text of a realtime model's result, each word (or sentence) a span with its times, for
    realtime.js to light in step with the recording's clock; "" for the HTTP models."""
    if result is None or result.request.speech_rate is None and not result.words:
        return ""
    told = finished_timeline(result)
    timing, parts = told["timing"], []
    for span in told["spans"]:
        text = span["text"]
        space = " " if timing == "words" and not _HAN_END.search(text) else ""
        parts.append(
            f'<span class="spoken" data-begin="{span["begin"]}" data-end="{span["end"]}">'
            f"{html.escape(text)}</span>" + space
        )
    return f'<div class="spoken-words" data-timing="{timing}">{"".join(parts)}</div>'


_HAN_END = re.compile("[\u3400-\u9fff]$")
