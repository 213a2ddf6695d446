"""The public API endpoint /synthesize(text, voice, model): a finished WAV, no page needed.

It is also the app's one MCP tool (launch(mcp_server=True)): every other event is private or
undocumented, so agents see exactly this one, described from the catalogue.
"""

from __future__ import annotations

from datetime import datetime

import gradio as gr

from ..catalogue import Catalogue
from ..downloads import write_download
from ..synthesis import SpeechOrder, Synthesizer
from .runs import ApiEventOptions, shown_to_visitor, visitor

MANDARIN = "mandarin"
KINDS = {"design": "designed", "clone": "cloned"}


class ApiHandlers:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer

    def synthesize(self, text: str, voice: str, model: str, request: gr.Request) -> str:
        """The public API: a finished 24 kHz mono 16-bit WAV of `text`, spoken by `voice`.

        Args:
            text: What to say, as written: Chinese, English or mixed; long text is split at sentence ends and joined.
            voice: The voice name, exact and case-sensitive (e.g. Cherry, Dylan, Rocky, "Eldric Sage"); it must be one the model offers. For a voice designed or cloned on this app's page: its API handle "<voice id>#<secret>", shown to its maker on the page.
            model: The model id, e.g. qwen3-tts-flash (all dialect voices) or qwen-tts-latest; for a designed or cloned voice, its VD or VC model.
        Returns:
            The URL of the WAV file (24 kHz, mono, 16-bit).
        """
        order = SpeechOrder(text, voice, model, self.synthesizer.settings.default_region)
        name = voice
        with shown_to_visitor(request, calm=False):  # API callers get plain text
            # A designed or cloned voice: an API caller has no owner token, so it names the
            # voice by its handle (which holds a secret: never echoed, logged or kept).
            if self.synthesizer.catalogue.model(model).family:
                own = self.synthesizer.voices.check_handle(
                    voice, self.synthesizer.catalogue.model(model)
                )
                order = SpeechOrder(text, own.voice, model, own.region, handle=voice)
                name = own.label
            speech = self.synthesizer.speech(order, visitor=visitor(self.synthesizer, request))
            result = speech.complete()
            return str(write_download(result.pcm, name, datetime.now()))


def tool_description(catalogue: Catalogue, region: str) -> str:
    """What /synthesize does, as API docs and MCP clients show it: the models this server's
    region offers and which voice speaks which Chinese dialect."""
    models = catalogue.models_in(region)
    dialects: dict[str, list[str]] = {}
    for model in models:
        for name in model.voices:
            voice = catalogue.voices[name]
            if voice.variety != MANDARIN and name not in dialects.get(voice.variety_en, []):
                dialects.setdefault(voice.variety_en, []).append(name)
    spoken = "; ".join(f"{variety}: {', '.join(names)}" for variety, names in dialects.items())
    listed = ", ".join(f"{m.id} ({len(m.voices)} voices)" for m in models)
    every_dialect = {name for names in dialects.values() for name in names}
    widest = ", ".join(m.id for m in models if every_dialect <= set(m.voices))
    custom = [m for m in catalogue.custom_models if m.offered_in(catalogue.region(region).id)]
    handles = (
        " A voice designed or cloned on this app's page is spoken by its API handle, "
        '"<voice id>#<secret>" (its maker sees it on the page), given as the voice, with its '
        f"model ({', '.join(f'{m.id} for {KINDS[m.family]} voices' for m in custom)})."
        if custom
        else ""
    )
    return (
        "Speak a text aloud with Alibaba's Qwen-TTS (DashScope) and return the finished "
        "recording as a WAV file (24 kHz, mono, 16-bit): give the text, a voice and a model. "
        "Voices speak Mandarin and English; some speak a Chinese dialect "
        f"({spoken}). Models: {listed}. The voice must be one the model offers; every dialect "
        f"voice is offered by {widest}.{handles} Returns the URL of the WAV file."
    )


def build_api(synthesizer: Synthesizer, api_events: ApiEventOptions) -> None:
    """Hidden inputs and output: the endpoint takes plain strings, so any model's voice can be
    asked for (a dropdown would limit it to one model's voices)."""
    handlers = ApiHandlers(synthesizer)
    text, voice, model = (gr.Textbox(visible=False) for _ in range(3))
    wav = gr.File(visible=False)
    description = tool_description(synthesizer.catalogue, synthesizer.settings.default_region)
    gr.Button(visible=False).click(
        handlers.synthesize,
        [text, voice, model],
        wav,
        api_name="synthesize",
        api_description=description,
        **api_events,
    )
