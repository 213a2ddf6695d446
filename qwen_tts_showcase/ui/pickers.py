"""The Studio's pickers, made to help choose: models by readable name with a line of what they
offer (counted from the catalogue), voices grouped by variety or language with their gender,
a card saying how the chosen voice sounds, and a preview of it.

A preview is a line the voice introduces itself with, rendered beforehand by the showcase pack
(pack.py) into the result cache: playing it never costs a synthesis. It counts as one of the
visitor's cached answers (quota.CachedAnswers, like a History replay), not as a synthesis; when
it was not rendered, the card says so and what to do instead.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from ..audio import pcm_to_wav
from ..catalogue import Catalogue
from ..errors import DemoError
from ..messages import Both, Message, say
from ..synthesis import SpeechOrder, Synthesizer
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT, visitor
from .widgets import Updates

# The longest voice label (Radio Gol, its group in both scripts, a sign) fits in this width; a
# row too narrow for two pickers puts each on its own row.
PICKER_MIN_WIDTH = 300
GENDER_WORDS = {"female": "gender_female", "male": "gender_male"}


def model_line(catalogue: Catalogue, model_id: str) -> Message:
    """The model's line ("Qwen3-TTS Flash · 49 voices · 9 Chinese varieties · 10 languages"),
    its numbers counted from the catalogue."""
    model = catalogue.model(model_id)
    languages = (
        say("count_languages", count=len(model.languages))
        if model.languages
        else say("count_languages_none")
    )
    if model.family:  # the VD and VC models speak the visitor's own voices
        return say("model_line_custom", name=model.name, languages=languages)
    count = len(catalogue.varieties_of(model.id))
    varieties = say("count_varieties", count=count) if count > 1 else say("count_variety_one")
    return say(
        "model_line",
        name=model.name,
        voices=len(model.voices),
        varieties=varieties,
        languages=languages,
    )


def model_line_html(catalogue: Catalogue, model_id: str) -> str:
    """The model's line and its raw id (what DashScope is sent), in the page's language."""
    line = localized_html(model_line(catalogue, model_id))
    return f'<p class="model-line">{line} · <code>{html.escape(model_id)}</code></p>'


def voice_card_html(catalogue: Catalogue, voice_name: str | None) -> str:
    """The chosen voice's group, gender and character; empty for a voice of the visitor's own."""
    voice = catalogue.voices.get(voice_name or "")
    if voice is None:
        return ""
    _, group_en, group_zh = voice.group
    card = say(
        "voice_card",
        group=Both(group_en, group_zh),
        gender=say(GENDER_WORDS[voice.gender]),
        character=Both(voice.character_en, voice.character_zh),
    )
    name = f"{html.escape(voice.name)} {html.escape(voice.zh_name)}"
    return (
        f'<p class="voice-card" data-voice="{html.escape(voice.name)}" '
        f'data-gender="{voice.gender}"><strong>{name}</strong> · {localized_html(card)}</p>'
    )


def preview_model(catalogue: Catalogue, voice: str, model: str, region: str) -> str:
    """The model a voice's preview was rendered with: the region's default model (the pack
    renders those), else the chosen one, else the region's first that has the voice."""
    offered = [m for m in catalogue.models_in(region) if voice in m.voices]
    ids = [m.id for m in offered]
    for candidate in (catalogue.default_model_in(region), model):
        if candidate in ids:
            return candidate
    return ids[0] if ids else model


@dataclass(frozen=True)
class VoiceCard:
    """Under the pickers: the model's line, the voice's card (with a note on its preview, once
    asked for), its Preview button, and the preview's player, hidden until something plays."""

    model_line: gr.HTML
    voice: gr.HTML
    preview: gr.Button
    audio: gr.Audio


def build_voice_card(catalogue: Catalogue, model: str, voice: str) -> VoiceCard:
    line = gr.HTML(model_line_html(catalogue, model), elem_id="model_line")
    with gr.Row(elem_id="voice_card_row", equal_height=False):
        card = gr.HTML(voice_card_html(catalogue, voice), elem_id="voice_card", min_width=200)
        preview = gr.Button(
            I18N("ui_voice_preview"),
            size="sm",
            variant="secondary",
            elem_id="voice_preview",
            scale=0,
            min_width=110,
        )
    audio = gr.Audio(
        label=I18N("ui_voice_preview_audio"),
        interactive=False,
        autoplay=True,
        visible=False,
        buttons=[],
        elem_id="voice_preview_audio",
    )
    return VoiceCard(line, card, preview, audio)


class PickerHandlers:
    def __init__(self, synthesizer: Synthesizer, card: VoiceCard) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue
        self.card = card

    def follow_model(self, model: str) -> str:
        return model_line_html(self.catalogue, model) if model else ""

    def follow_voice(self, voice: str) -> Updates:
        """The new voice's card; the previous voice's preview goes. A voice of the visitor's own
        has no card and no preview."""
        card = self.card
        return {
            card.voice: voice_card_html(self.catalogue, voice),
            card.preview: gr.Button(visible=(voice or "") in self.catalogue.voices),
            card.audio: gr.update(value=None, visible=False),
        }

    def preview(self, voice: str, model: str, region: str, request: gr.Request) -> Updates:
        """The voice's ready-made preview from the cache, or a note saying why there is none.
        Never a synthesis: only the cache is read, as one of the visitor's cached answers."""
        card = self.card
        silent = {card.audio: gr.update(value=None, visible=False)}
        if (voice or "") not in self.catalogue.voices:
            return {**silent, card.voice: ""}
        shown = voice_card_html(self.catalogue, voice)
        try:
            speaking = preview_model(self.catalogue, voice, model, region)
            order = SpeechOrder(self.catalogue.preview_text(voice), voice, speaking, region)
            key = self.synthesizer.plan(order).cache_key
            result = self.synthesizer.cached_result(key, visitor(self.synthesizer, request))
        except DemoError as err:  # the cached answers' limit, or a region without the voice
            return {**silent, card.voice: shown + _note(localized_html(err), "problem")}
        if result is None:
            missing = localized_html(say("preview_missing", voice=voice))
            return {**silent, card.voice: shown + _note(missing)}
        ready = localized_html(say("preview_ready", voice=voice))
        return {
            card.audio: gr.update(value=pcm_to_wav(result.pcm), visible=True),
            card.voice: shown + _note(ready, "ready"),
        }


def _note(words: str, kind: str = "missing") -> str:
    return f'<p class="preview-note preview-{kind}">{words}</p>'


def wire_voice_card(
    synthesizer: Synthesizer,
    card: VoiceCard,
    model: gr.Dropdown,
    voice: gr.Dropdown,
    region: gr.Radio,
) -> None:
    """The line follows the model, the card the voice; Preview plays from the cache only."""
    handlers = PickerHandlers(synthesizer, card)
    model.change(
        handlers.follow_model, model, card.model_line, show_progress="hidden", **PAGE_EVENT
    )
    voice.change(
        handlers.follow_voice,
        voice,
        [card.voice, card.preview, card.audio],
        show_progress="hidden",
        **PAGE_EVENT,
    )
    card.preview.click(
        handlers.preview,
        [voice, model, region],
        [card.audio, card.voice],
        show_progress="hidden",
        **PAGE_EVENT,
    )
