"""The public API endpoint /synthesize(text, voice, model): a finished WAV, no page needed."""

from __future__ import annotations

from datetime import datetime

import gradio as gr

from ..downloads import write_download
from ..synthesis import Synthesizer
from .runs import finish, shown_to_visitor, start_speech


class ApiHandlers:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer

    def synthesize(self, text: str, voice: str, model: str, request: gr.Request) -> str:
        """The public API: a finished 24 kHz mono 16-bit WAV of `text`, spoken by `voice`."""
        region = self.synthesizer.settings.default_region
        with shown_to_visitor(request):
            result = finish(start_speech(self.synthesizer, request, text, voice, model, region))
            return str(write_download(result.pcm, voice, datetime.now()))


def build_api(synthesizer: Synthesizer, api_events: dict) -> None:
    """Hidden inputs and output: the endpoint takes plain strings, so any model's voice can be
    asked for (a dropdown would limit it to one model's voices)."""
    handlers = ApiHandlers(synthesizer)
    text, voice, model = (gr.Textbox(visible=False) for _ in range(3))
    wav = gr.File(visible=False)
    gr.Button(visible=False).click(
        handlers.synthesize, [text, voice, model], wav, api_name="synthesize", **api_events,
    )
