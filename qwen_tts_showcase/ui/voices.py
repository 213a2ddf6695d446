"""The Design tab: a voice from a description, its preview, then any text in it; the visitor's
own voices (listed, spoken, deleted) by the owner token kept in their browser."""

from __future__ import annotations

import random
from dataclasses import dataclass

import gradio as gr

from ..audio import pcm_to_wav
from ..datafiles import load_voice_designs
from ..errors import InputError
from ..messages import say
from ..synthesis import SpeechOrder, Synthesizer
from ..voices import MAX_DESCRIPTION_CHARS, OwnedVoice, VoiceMaker, new_owner_token
from .fragments import readout_html
from .header import ConnectionControls
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT, ApiEventOptions, shown_to_visitor, visitor
from .widgets import Updates

# BrowserState sends its secret to the page, so it protects nothing; the token it holds is the
# secret, and only its hash is kept on the server (voices.py).
STORAGE_KEY = "qwen-tts-showcase-voices"
STORAGE_SECRET = "qwen-tts-showcase-voices-v1"


def build_voice_storage() -> gr.BrowserState:
    """The browser's owner token; like the history, kept from outside any tab."""
    return gr.BrowserState("", storage_key=STORAGE_KEY, secret=STORAGE_SECRET)


def voice_list(voices: list[OwnedVoice]) -> list[tuple[str, str]]:
    """(label, DashScope name) of the visitor's voices, for a picker."""
    return [(f"{v.label} · {v.model}", v.voice) for v in voices]


@dataclass(frozen=True)
class DesignTab:
    owner: gr.BrowserState
    description: gr.Textbox
    preview_text: gr.Textbox
    name: gr.Textbox
    preview: gr.Audio
    status: gr.HTML
    mine: gr.Dropdown
    text: gr.Textbox
    spoken: gr.Audio
    readout: gr.HTML


class DesignHandlers:
    def __init__(self, synthesizer: Synthesizer, maker: VoiceMaker, tab: DesignTab) -> None:
        self.synthesizer = synthesizer
        self.maker = maker
        self.tab = tab
        self.designs = load_voice_designs()

    def start(self, token: str | None) -> Updates:
        """A token for a browser that has none; the voices it made."""
        token = token if isinstance(token, str) and token else new_owner_token()
        return {self.tab.owner: token, self.tab.mine: self._picker(token)}

    def shuffle(self) -> Updates:
        design = random.choice(self.designs)
        tab = self.tab
        return {
            tab.description: design["description"],
            tab.preview_text: design["preview_text"],
            tab.name: design["name"],
        }

    def design(
        self,
        token: str,
        description: str,
        preview_text: str,
        name: str,
        region: str,
        api_key: str,
        request: gr.Request,
    ) -> Updates:
        """Make the voice; its preview plays at once and it is the one chosen to speak."""
        with shown_to_visitor(request):
            voice, preview = self.maker.design(
                description,
                preview_text,
                name,
                region=region,
                token=token,
                visitor=visitor(self.synthesizer, request),
                api_key=api_key,
            )
        tab = self.tab
        return {
            tab.preview: preview,
            tab.status: localized_html(say("voice_designed", name=voice.label)),
            tab.mine: self._picker(token, voice.voice),
        }

    def speak(self, token: str, voice: str, text: str, api_key: str, request: gr.Request):
        """The text in the visitor's own voice, through the one synthesis path."""
        with shown_to_visitor(request):
            found = self.maker.book.get(voice or "")
            if found is None:
                raise InputError(say("voice_pick_own"))
            order = SpeechOrder(text, found.voice, found.model, found.region, owner=token)
            speech = self.synthesizer.speech(
                order, visitor=visitor(self.synthesizer, request), api_key=api_key
            )
            result = speech.complete()
        return {self.tab.spoken: pcm_to_wav(result.pcm), self.tab.readout: readout_html(result)}

    def delete(self, token: str, voice: str, api_key: str, request: gr.Request) -> Updates:
        with shown_to_visitor(request):
            if not voice:
                raise InputError(say("voice_pick_own"))
            gone = self.maker.delete(voice, token=token, api_key=api_key)
        tab = self.tab
        return {
            tab.status: localized_html(say("voice_deleted", name=gone.label)),
            tab.mine: self._picker(token),
        }

    def _picker(self, token: str, chosen: str | None = None) -> gr.Dropdown:
        choices = voice_list(self.maker.book.mine(token))
        names = [name for _, name in choices]
        value = chosen if chosen in names else (names[-1] if names else None)
        return gr.Dropdown(choices=choices, value=value)


def build_design(
    demo: gr.Blocks,
    synthesizer: Synthesizer,
    maker: VoiceMaker,
    connection: ConnectionControls,
    owner: gr.BrowserState,
    api_events: ApiEventOptions,
) -> DesignTab:
    """The tab: describe, preview and keep a voice; speak with it; delete it."""
    gr.Markdown(I18N("ui_design_intro"))
    with gr.Row():
        with gr.Column(scale=3):
            description = gr.Textbox(
                label=I18N("ui_design_description"),
                lines=4,
                max_lines=10,
                max_length=MAX_DESCRIPTION_CHARS,
                elem_id="design_description",
            )
            preview_text = gr.Textbox(
                label=I18N("ui_design_preview_text"), lines=1, elem_id="design_preview_text"
            )
        with gr.Column(scale=2):
            name = gr.Textbox(
                label=I18N("ui_design_name"),
                info=I18N("ui_design_name_info"),
                elem_id="design_name",
            )
            shuffle = gr.Button(I18N("ui_design_shuffle"), elem_id="design_shuffle")
            make = gr.Button(I18N("ui_design_run"), variant="primary", elem_id="design_run")
    preview = gr.Audio(
        label=I18N("ui_design_preview"), interactive=False, autoplay=True, elem_id="design_preview"
    )
    status = gr.HTML(elem_id="design_status")
    gr.Markdown(I18N("ui_design_yours"))
    with gr.Row():
        mine = gr.Dropdown([], label=I18N("ui_design_mine"), elem_id="design_mine", scale=3)
        delete = gr.Button(I18N("ui_design_delete"), variant="stop", elem_id="design_delete")
    text = gr.Textbox(label=I18N("ui_design_text"), lines=3, elem_id="design_text")
    speak = gr.Button(I18N("ui_design_speak"), variant="primary", elem_id="design_speak")
    spoken = gr.Audio(interactive=False, show_label=False, elem_id="design_spoken")
    readout = gr.HTML(elem_id="design_readout")
    tab = DesignTab(
        owner, description, preview_text, name, preview, status, mine, text, spoken, readout
    )
    handlers = DesignHandlers(synthesizer, maker, tab)
    demo.load(handlers.start, owner, [owner, mine], **PAGE_EVENT)
    shuffle.click(handlers.shuffle, None, [description, preview_text, name], **PAGE_EVENT)
    region, api_key = connection.region, connection.api_key
    private = dict(api_visibility="private", **api_events)
    make.click(
        handlers.design,
        [owner, description, preview_text, name, region, api_key],
        [preview, status, mine],
        **private,
    )
    speak.click(handlers.speak, [owner, mine, text, api_key], [spoken, readout], **private)
    delete.click(handlers.delete, [owner, mine, api_key], [status, mine], **private)
    return tab
