"""The blog's samples as cards: hear the official recording, or generate the same line live.

The cards are plain HTML in one component per group, so twenty cards cost the page two
components and one event, not a hundred: a click on a card's button sends the sample and
the action, the server fills the editor, then the browser plays or generates.
"""

from __future__ import annotations

import html

import gradio as gr

from ..catalogue import AUTO_LANGUAGE, Catalogue, Sample
from ..history_log import preview
from ..messages import say
from .fragments import dialect_badge, voice_heading
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT
from .widgets import Studio, Updates, voice_picker

GROUPS = (("dialect", "ui_gallery_dialects"), ("bilingual", "ui_gallery_bilingual"))
CARD_TEXT_CHARS = 60
LANGUAGES = {"zh": "sample_language_zh", "en": "sample_language_en"}  # a sample's language
# In the browser: a card's button names its sample and action; after the editor is filled,
# the page plays the official recording or presses Generate.
CARD_CLICKS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-sample]');
  if (!button) return;
  window.qwenTts.cardAction = button.dataset.action;
  trigger('click', {sample: button.dataset.sample});
});
"""
AFTER_CARD_JS = "() => window.qwenTts.afterCard()"


def card_html(sample: Sample, catalogue: Catalogue) -> str:
    """A card: voice, dialect or language, the start of the text, and its two actions."""
    voice = catalogue.voices[sample.voice]
    language = localized_html(say(LANGUAGES[sample.language]))
    badge = dialect_badge(voice) if sample.group == "dialect" else language
    our_line = localized_html(say("gallery_our_line"))
    note = "" if sample.has_official_audio else f'<p class="card-note">{our_line}</p>'
    sample_id = html.escape(sample.id)
    official = (
        f'<button class="card-button secondary" data-sample="{sample_id}" data-action="official">'
        f"{localized_html(say('gallery_play_official'))}</button>"
        if sample.has_official_audio
        else ""
    )
    return (
        f'<div class="sample-card" id="card-{sample_id}">'
        + voice_heading(voice, badge)
        + note
        + f'<p class="card-text" lang="{sample.language}" title="{html.escape(sample.text)}">'
        f"{html.escape(preview(sample.text, CARD_TEXT_CHARS))}</p>"
        f'<div class="card-actions">{official}'
        f'<button class="card-button primary" data-sample="{sample_id}" data-action="live">'
        f"{localized_html(say('gallery_generate_live'))}</button></div></div>"
    )


def official_player(sample: Sample, catalogue: Catalogue) -> str:
    """The blog's recording: the browser fetches it when played, the server never does."""
    if not sample.has_official_audio:
        return ""
    voice = catalogue.voices[sample.voice]
    caption = localized_html(say("gallery_official_caption"))
    return (
        f'<figure class="official-player" data-sample="{html.escape(sample.id)}"><figcaption>'
        f"{caption} · {html.escape(voice.name)} · {html.escape(voice.variety_zh)}</figcaption>"
        f'<audio controls preload="none" src="{html.escape(sample.official_audio)}"></audio>'
        "</figure>"
    )


class GalleryHandlers:
    def __init__(self, catalogue: Catalogue, studio: Studio) -> None:
        self.catalogue = catalogue
        self.studio = studio  # a card fills the Studio's editor

    def pick(self, region: str, event: gr.EventData) -> Updates:
        """Fill the editor with the clicked sample and put its official recording beside it.

        The language goes back to Auto. Where the region lacks the sample's model, the line is
        spoken by the region's first model with the same voice (the dialect voices of qwen-tts
        live on in qwen3-tts-flash)."""
        sample = self.catalogue.sample(str(event._data.get("sample", "")))
        model = self.model_for(sample, region)
        studio = self.studio
        return {
            studio.text: sample.text,
            studio.model: model,
            studio.voice: voice_picker(self.catalogue, model, sample.voice),
            studio.language: AUTO_LANGUAGE,
            studio.official: official_player(sample, self.catalogue),
        }

    def model_for(self, sample: Sample, region: str) -> str:
        return self.catalogue.sample_model(sample, region)  # as the showcase pack renders it


def build_gallery(catalogue: Catalogue, studio: Studio) -> None:
    """Two groups of cards, dialects first: the blog's in its order, then our Qwen3 lines."""
    handlers = GalleryHandlers(catalogue, studio)
    samples = catalogue.samples + catalogue.extra_samples
    fills = [studio.text, studio.model, studio.voice, studio.language, studio.official]
    with gr.Column(elem_id="gallery"):
        gr.Markdown(I18N("ui_gallery_title"))
        for group, heading in GROUPS:
            gr.Markdown(I18N(heading), elem_classes="gallery-heading")
            cards = "".join(card_html(s, catalogue) for s in samples if s.group == group)
            grid = gr.HTML(
                f'<div class="card-grid">{cards}</div>',
                js_on_load=CARD_CLICKS_JS,
                elem_id=f"gallery-{group}",
                elem_classes="gallery-cards",
            )
            grid.click(handlers.pick, studio.region, fills, **PAGE_EVENT).then(
                None, js=AFTER_CARD_JS
            )
