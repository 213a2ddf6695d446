"""The blog's samples as cards: hear the official recording, or generate the same line live."""

from __future__ import annotations

import html

import gradio as gr

from ..catalogue import Catalogue, Sample
from ..history_log import preview
from .fragments import dialect_badge, voice_heading
from .i18n import I18N, bilingual
from .studio import Studio, voice_choices

GROUPS = (("dialect", "ui_gallery_dialects"), ("bilingual", "ui_gallery_bilingual"))
OUR_LINE = bilingual("Our line for Qwen3-TTS · no official recording",
                     "本演示为 Qwen3-TTS 撰写 · 无官方录音")
CARD_TEXT_CHARS = 60
LANGUAGES = {"zh": ("Chinese", "中文"), "en": ("English", "英文")}
# Run in the browser after a card fills the editor.
PLAY_OFFICIAL_JS = "() => window.qwenTts.playOfficial()"
GENERATE_LIVE_JS = (
    "() => { window.qwenTts.reveal('#live_audio'); document.querySelector('#generate').click(); }"
)


def card_html(sample: Sample, catalogue: Catalogue) -> str:
    """A card's face: voice, dialect or language, and the start of the text."""
    voice = catalogue.voices[sample.voice]
    language = bilingual(*LANGUAGES[sample.language])
    badge = dialect_badge(voice) if sample.group == "dialect" else language
    note = "" if sample.has_official_audio else f'<p class="card-note">{OUR_LINE}</p>'
    return (
        voice_heading(voice, badge)
        + note
        + f'<p class="card-text" lang="{sample.language}" title="{html.escape(sample.text)}">'
        f"{html.escape(preview(sample.text, CARD_TEXT_CHARS))}</p>"
    )


def official_player(sample: Sample, catalogue: Catalogue) -> str:
    """The blog's recording: the browser fetches it when played, the server never does."""
    if not sample.has_official_audio:
        return ""
    voice = catalogue.voices[sample.voice]
    caption = bilingual("Official recording from the Qwen-TTS blog", "Qwen-TTS 博客官方录音")
    return (
        f'<figure class="official-player" data-sample="{html.escape(sample.id)}"><figcaption>'
        f"{caption} · {html.escape(voice.name)} · {html.escape(voice.variety_zh)}</figcaption>"
        f'<audio controls preload="none" src="{html.escape(sample.official_audio)}"></audio>'
        "</figure>"
    )


class GalleryHandlers:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def pick(self, sample_id: str) -> tuple:
        """Fill the editor with a sample and put its official recording beside the player."""
        sample = self.catalogue.sample(sample_id)
        voices = gr.Dropdown(choices=voice_choices(self.catalogue, sample.model), value=sample.voice)
        return sample.text, sample.model, voices, official_player(sample, self.catalogue)


def build_card(sample: Sample, catalogue: Catalogue, handlers: GalleryHandlers,
               studio: Studio) -> None:
    with gr.Column(variant="panel", min_width=0, elem_id=f"card-{sample.id}",
                   elem_classes="sample-card"):
        gr.HTML(card_html(sample, catalogue), elem_classes="card-face")
        with gr.Row(elem_classes="card-actions"):
            official = gr.Button(I18N("ui_play_official"), size="sm",
                                 elem_id=f"official-{sample.id}",
                                 visible=sample.has_official_audio)
            live = gr.Button(I18N("ui_generate_live"), size="sm", variant="primary",
                             elem_id=f"live-{sample.id}")
    sample_id = gr.State(sample.id)
    fills = [studio.text, studio.model, studio.voice, studio.official]
    if sample.has_official_audio:
        official.click(handlers.pick, sample_id, fills, api_visibility="private").then(
            None, js=PLAY_OFFICIAL_JS
        )
    # Generating goes through the Generate button, so there is one way to synthesize.
    live.click(handlers.pick, sample_id, fills, api_visibility="private").then(
        None, js=GENERATE_LIVE_JS
    )


def build_gallery(catalogue: Catalogue, studio: Studio) -> None:
    """Two groups of cards, dialects first: the blog's in its order, then our Qwen3 lines."""
    handlers = GalleryHandlers(catalogue)
    samples = catalogue.samples + catalogue.extra_samples
    with gr.Column(elem_id="gallery"):
        gr.Markdown(I18N("ui_gallery_title"))
        for group, heading in GROUPS:
            gr.Markdown(I18N(heading), elem_classes="gallery-heading")
            with gr.Row(equal_height=True, elem_classes="card-grid", elem_id=f"gallery-{group}"):
                for sample in (s for s in samples if s.group == group):
                    build_card(sample, catalogue, handlers, studio)
