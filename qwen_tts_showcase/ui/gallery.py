"""The blog's samples as cards that play where they are: the official recording and the same
line generated live, side by side, each with its own progress.

The cards are plain HTML in one component per group, so twenty cards cost the page three
components and one event each, not a hundred: a click on a card's button plays the official
recording at once in the card (cards.js), or aims the live player at the card; the server
fills the editor with the card's line either way, then a live click presses Generate.

The page reads top-down: the blog's six dialect lines first (`build_gallery`, above the
Studio), the Studio, then the other lines (`build_more_samples`); `wire_gallery` connects them
all to the Studio's editor once it exists.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from ..catalogue import AUTO_LANGUAGE, Catalogue, Sample
from ..history_log import preview
from ..messages import say
from .fragments import dialect_badge, voice_heading
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT
from .widgets import Studio, Updates, voice_picker

CARD_TEXT_CHARS = 60
LANGUAGES = {"zh": "sample_language_zh", "en": "sample_language_en"}  # a sample's language
# In the browser: the official recording starts inside the click (browsers let audio start only
# from a gesture) and a live click aims the live player at the card (cards.js); then the server
# fills the editor with the card's sample.
CARD_CLICKS_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-sample]');
  if (!button) return;
  window.qwenTtsCards.clicked(button);
  trigger('click', {sample: button.dataset.sample});
});
"""
AFTER_CARD_JS = "() => window.qwenTtsCards.afterFill()"


@dataclass(frozen=True)
class Gallery:
    """The card grids, in page order."""

    grids: tuple[gr.HTML, ...]


def card_html(sample: Sample, catalogue: Catalogue) -> str:
    """A card: voice, dialect or language, the start of the text, and its two players side by
    side: the blog's recording (the browser fetches it when played, the server never does) and
    the live result (page.js's live player draws its progress in the card's box)."""
    voice = catalogue.voices[sample.voice]
    language = localized_html(say(LANGUAGES[sample.language]))
    badge = dialect_badge(voice) if sample.group == "dialect" else language
    our_line = localized_html(say("gallery_our_line"))
    note = "" if sample.has_official_audio else f'<p class="card-note">{our_line}</p>'
    sample_id = html.escape(sample.id)
    official = (
        '<div class="card-side card-official">'
        f'<button class="card-button secondary" data-sample="{sample_id}" data-action="official">'
        f"{localized_html(say('gallery_play_official'))}</button>"
        f'<audio preload="none" src="{html.escape(sample.official_audio)}"></audio>'
        '<div class="card-progress" data-state="idle"><div class="card-bar">'
        '<div class="card-played"></div></div><div class="card-status"></div></div></div>'
        if sample.has_official_audio
        else ""
    )
    return (
        f'<div class="sample-card" id="card-{sample_id}">'
        + voice_heading(voice, badge)
        + note
        + f'<p class="card-text" lang="{sample.language}" title="{html.escape(sample.text)}">'
        f"{html.escape(preview(sample.text, CARD_TEXT_CHARS))}</p>"
        f'<div class="card-ab">{official}<div class="card-side card-live">'
        f'<button class="card-button primary" data-sample="{sample_id}" data-action="live">'
        f"{localized_html(say('gallery_generate_live'))}</button>"
        f'<div class="card-live-box" id="card-live-{sample_id}"></div></div></div></div>'
    )


def official_player(sample: Sample, catalogue: Catalogue) -> str:
    """The blog's recording beside the Studio's result too, for the line the editor now holds."""
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


def _grid(samples: list[Sample], catalogue: Catalogue, name: str) -> gr.HTML:
    cards = "".join(card_html(sample, catalogue) for sample in samples)
    return gr.HTML(
        f'<div class="card-grid card-grid-{name}">{cards}</div>',
        js_on_load=CARD_CLICKS_JS,
        elem_id=f"gallery-{name}",
        elem_classes="gallery-cards",
    )


def build_gallery(catalogue: Catalogue) -> Gallery:
    """Hear it: the blog's dialect lines in its order, first on the page, every one playable in
    one click."""
    blog_dialects = [s for s in catalogue.samples if s.group == "dialect"]
    with gr.Column(elem_id="gallery"):
        gr.Markdown(I18N("ui_gallery_title"), elem_classes="gallery-title")
        gr.Markdown(I18N("ui_gallery_dialects"), elem_classes="gallery-heading")
        grid = _grid(blog_dialects, catalogue, "dialect")
    return Gallery((grid,))


def build_more_samples(catalogue: Catalogue) -> Gallery:
    """Below the Studio: our Qwen3 dialect lines, then the blog's bilingual lines."""
    ours = [s for s in catalogue.extra_samples if s.group == "dialect"]
    bilingual = [s for s in catalogue.samples + catalogue.extra_samples if s.group == "bilingual"]
    with gr.Column(elem_id="more_samples"):
        gr.Markdown(I18N("ui_more_samples"), elem_classes="gallery-title")
        gr.Markdown(I18N("ui_gallery_ours"), elem_classes="gallery-heading")
        ours_grid = _grid(ours, catalogue, "ours")
        gr.Markdown(I18N("ui_gallery_bilingual"), elem_classes="gallery-heading")
        bilingual_grid = _grid(bilingual, catalogue, "bilingual")
    return Gallery((ours_grid, bilingual_grid))


def wire_gallery(catalogue: Catalogue, studio: Studio, *galleries: Gallery) -> None:
    """Every card fills the Studio's editor, then (for a live click) presses Generate."""
    handlers = GalleryHandlers(catalogue, studio)
    fills = [studio.text, studio.model, studio.voice, studio.language, studio.official]
    for gallery in galleries:
        for grid in gallery.grids:
            grid.click(handlers.pick, studio.region, fills, **PAGE_EVENT).then(
                None, js=AFTER_CARD_JS
            )
