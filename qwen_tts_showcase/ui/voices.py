"""The Design and Clone tabs: a voice from a description or from a recording, then any text in
it. Each tab lists the visitor's own voices (spoken, deleted) by the owner token kept in their
browser; the server keeps only the token's hash (voices.py)."""

from __future__ import annotations

import html
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gradio as gr
from gradio.events import Dependency

from ..audio import BYTES_PER_SECOND, pcm_to_wav
from ..datafiles import load_voice_designs
from ..errors import InputError
from ..history_log import history_row
from ..messages import say
from ..recordings import check_recording
from ..synthesis import SpeechOrder, Synthesizer
from ..voice_maker import VoiceMaker
from ..voices import MAX_DESCRIPTION_CHARS, OwnedVoice, api_handle, new_owner_token, owner_id
from .fragments import readout_html
from .header import ConnectionControls
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT, ApiEventOptions, shown_to_visitor, visitor
from .widgets import Studio, Updates, voice_picker

# BrowserState sends its secret to the page, so it protects nothing; the token it holds is the
# secret, and only its hash is kept on the server.
STORAGE_KEY = "qwen-tts-showcase-voices"
STORAGE_SECRET = "qwen-tts-showcase-voices-v1"


def build_voice_storage() -> gr.BrowserState:
    """The browser's owner token; like the history, kept from outside any tab."""
    return gr.BrowserState("", storage_key=STORAGE_KEY, secret=STORAGE_SECRET)


def voice_list(voices: list[OwnedVoice]) -> list[tuple[str, str]]:
    """(label, DashScope name) of the visitor's voices, for a picker."""
    return [(f"{v.label} · {v.model}", v.voice) for v in voices]


def voice_details(voice: OwnedVoice | None, token: str, retention_h: float) -> str:
    """How the voice is spoken outside the page, for its maker only: the Space key's voice by
    its API handle (shown here and nowhere else but the Studio's code panel), a voice of the
    visitor's own account by calling DashScope with their key."""
    if voice is None or not token:
        return ""
    if not voice.owner_key:
        return localized_html(
            say("voice_own_key_details", name=voice.label, model=voice.model, voice=voice.voice)
        )
    handle = api_handle(voice, token)
    if handle is None:  # another browser's voice, or one kept before handles existed
        return ""
    hours = f"{retention_h:g}"
    words = localized_html(
        say("voice_handle_details", name=voice.label, model=voice.model, hours=hours)
    )
    return f'{words}<code class="voice-handle">{html.escape(handle)}</code>'


@dataclass(frozen=True)
class Context:
    """What both tabs use: the synthesis path, the voice maker, the connection, the token."""

    synthesizer: Synthesizer
    maker: VoiceMaker
    connection: ConnectionControls
    owner: gr.BrowserState
    api_events: ApiEventOptions
    # The same token for this page's session: the other tabs' events take it as a gr.State,
    # which API clients do not send (a BrowserState would be one more input for them).
    session: gr.State | None = None

    def picker(self, token: str, chosen: str | None = None) -> gr.Dropdown:
        choices = voice_list(self.maker.book.mine(token))
        names = [name for _, name in choices]
        value = chosen if chosen in names else (names[-1] if names else None)
        return gr.Dropdown(choices=choices, value=value)


@dataclass(frozen=True)
class OwnVoices:
    """A tab's list of the visitor's voices, with speak and delete."""

    status: gr.HTML
    mine: gr.Dropdown
    details: gr.HTML  # how to speak the chosen voice outside the page (its API handle)
    text: gr.Textbox
    live: gr.Audio  # the speech as it arrives, as the Studio's streamed player plays it
    spoken: gr.Audio  # the finished recording, to replay and download
    readout: gr.HTML
    new_rows: gr.State  # the history row of the latest speech
    spoke: Dependency  # the speak event, for the history to chain onto


class OwnVoicesHandlers:
    def __init__(self, context: Context) -> None:
        self.context = context
        self.panel: OwnVoices  # set once the panel's events are wired

    def refresh(self, token: str) -> gr.Dropdown:
        return self.context.picker(token or "")

    def details(self, token: str, voice: str | None) -> str:
        token = token if isinstance(token, str) else ""
        found = self.context.maker.book.get(voice or "")
        if found is not None and found.owner != owner_id(token):
            found = None  # another browser's voice: nothing about it
        return voice_details(found, token, self.context.synthesizer.settings.voice_retention_h)

    def speak(
        self, token: str, voice: str, text: str, api_key: str, streaming: bool, request: gr.Request
    ) -> Iterator[Updates]:
        """The text in the visitor's own voice, through the one synthesis path: played as it
        arrives (as the Studio's streamed player does), then kept with its numbers."""
        synthesizer = self.context.synthesizer
        panel = self.panel
        with shown_to_visitor(request):
            found = self.context.maker.book.get(voice or "")
            if found is None:
                raise InputError(say("voice_pick_own"))
            order = SpeechOrder(text, found.voice, found.model, found.region, owner=token)
            speech = synthesizer.speech(
                order,
                visitor=visitor(synthesizer, request),
                api_key=api_key,
                streaming=streaming,
            )
            empty = {panel.spoken: None, panel.readout: "", panel.new_rows: []}
            yield empty
            for pcm in speech:
                for start in range(0, len(pcm), BYTES_PER_SECOND):
                    yield {panel.live: pcm_to_wav(pcm[start : start + BYTES_PER_SECOND]), **empty}
            result = speech.result
        yield {
            panel.spoken: pcm_to_wav(result.pcm),
            panel.readout: readout_html(result),
            panel.new_rows: [history_row(result, datetime.now())],
        }

    def delete(self, token: str, voice: str, api_key: str, request: gr.Request) -> Updates:
        with shown_to_visitor(request):
            if not voice:
                raise InputError(say("voice_pick_own"))
            gone = self.context.maker.delete(voice, token=token, api_key=api_key)
        return {
            self.panel.status: localized_html(say("voice_deleted", name=gone.label)),
            self.panel.mine: self.context.picker(token),
        }


def build_own_voices(context: Context, prefix: str) -> tuple[OwnVoices, OwnVoicesHandlers]:
    status = gr.HTML(elem_id=f"{prefix}_status")
    gr.Markdown(I18N("ui_design_yours"))
    with gr.Row():
        mine = gr.Dropdown([], label=I18N("ui_design_mine"), elem_id=f"{prefix}_mine", scale=3)
        delete = gr.Button(I18N("ui_design_delete"), variant="stop", elem_id=f"{prefix}_delete")
    details = gr.HTML(elem_id=f"{prefix}_details")
    text = gr.Textbox(label=I18N("ui_design_text"), lines=3, elem_id=f"{prefix}_text")
    speak = gr.Button(I18N("ui_design_speak"), variant="primary", elem_id=f"{prefix}_speak")
    live = gr.Audio(
        label=I18N("ui_live_audio"),
        streaming=True,
        autoplay=True,
        interactive=False,
        buttons=[],
        elem_id=f"{prefix}_live",
    )
    spoken = gr.Audio(
        label=I18N("ui_live_result"), interactive=False, autoplay=False, elem_id=f"{prefix}_spoken"
    )
    readout = gr.HTML(elem_id=f"{prefix}_readout")
    new_rows = gr.State([])
    owner, api_key = context.owner, context.connection.api_key
    private = dict(api_visibility="private", **context.api_events)
    handlers = OwnVoicesHandlers(context)
    spoke = speak.click(
        handlers.speak,
        [owner, mine, text, api_key, context.connection.streaming],
        [live, spoken, readout, new_rows],
        **private,
    )
    spoke.failure(lambda: None, None, live, **PAGE_EVENT)  # nothing half-played is kept
    delete.click(handlers.delete, [owner, mine, api_key], [status, mine], **private)
    mine.change(handlers.details, [owner, mine], details, **PAGE_EVENT)
    handlers.panel = OwnVoices(status, mine, details, text, live, spoken, readout, new_rows, spoke)
    return handlers.panel, handlers


# --- Design -------------------------------------------------------------------------------------


class DesignHandlers:
    def __init__(self, context: Context, panel: OwnVoices, preview: gr.Audio, fields: tuple):
        self.context = context
        self.panel = panel
        self.preview = preview
        self.description, self.preview_text, self.name = fields
        self.designs = load_voice_designs()

    def start(self, token: str | None) -> Updates:
        """A token for a browser that has none; the voices it made."""
        token = token if isinstance(token, str) and token else new_owner_token()
        updates = {self.context.owner: token, self.panel.mine: self.context.picker(token)}
        if self.context.session is not None:
            updates[self.context.session] = token
        return updates

    def shuffle(self) -> Updates:
        design = random.choice(self.designs)
        return {
            self.description: design["description"],
            self.preview_text: design["preview_text"],
            self.name: design["name"],
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
            voice, preview = self.context.maker.design(
                description,
                preview_text,
                name,
                region=region,
                token=token,
                visitor=visitor(self.context.synthesizer, request),
                api_key=api_key,
            )
        return {
            self.preview: preview,
            self.panel.status: localized_html(say("voice_designed", name=voice.label)),
            self.panel.mine: self.context.picker(token, voice.voice),
        }


def build_design(demo: gr.Blocks, tab: gr.Tab, context: Context) -> OwnVoices:
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
    panel, own = build_own_voices(context, "design")
    handlers = DesignHandlers(context, panel, preview, (description, preview_text, name))
    owner = context.owner
    started = [owner, panel.mine] + ([context.session] if context.session is not None else [])
    demo.load(handlers.start, owner, started, **PAGE_EVENT)
    tab.select(own.refresh, owner, panel.mine, **PAGE_EVENT)
    shuffle.click(handlers.shuffle, None, [description, preview_text, name], **PAGE_EVENT)
    make.click(
        handlers.design,
        [
            owner,
            description,
            preview_text,
            name,
            context.connection.region,
            context.connection.api_key,
        ],
        [preview, panel.status, panel.mine],
        api_visibility="private",
        **context.api_events,
    )
    return panel


# --- Clone --------------------------------------------------------------------------------------


class CloneHandlers:
    def __init__(self, context: Context, panel: OwnVoices, audio: gr.Audio) -> None:
        self.context = context
        self.panel = panel
        self.audio = audio

    def clone(
        self,
        token: str,
        recording: str | None,
        transcript: str,
        name: str,
        consent: bool,
        region: str,
        api_key: str,
        request: gr.Request,
    ) -> Updates:
        """Check the recording, make the voice, and remove the upload whatever happened."""
        try:
            with shown_to_visitor(request):
                if not consent:
                    raise InputError(say("clone_consent_missing"))
                checked = check_recording(recording)
                voice = self.context.maker.clone(
                    checked.data_uri,
                    transcript,
                    name,
                    region=region,
                    token=token,
                    visitor=visitor(self.context.synthesizer, request),
                    api_key=api_key,
                )
        finally:
            if recording:  # the visitor's audio is not kept: not cached, not left on disk
                Path(recording).unlink(missing_ok=True)
        done = say("voice_cloned", name=voice.label)
        if not checked.recommended:
            done = say("clone_not_recommended", name=voice.label, seconds=round(checked.seconds))
        return {
            self.audio: None,
            self.panel.status: localized_html(done),
            self.panel.mine: self.context.picker(token, voice.voice),
        }


def build_clone(tab: gr.Tab, context: Context) -> OwnVoices:
    """The tab: record or upload, check, consent, clone; speak with it; delete it."""
    gr.Markdown(I18N("ui_clone_intro"))
    with gr.Row():
        with gr.Column(scale=3):
            audio = gr.Audio(
                sources=["microphone", "upload"],
                type="filepath",
                format=None,  # as sent: a conversion would leave a second copy on disk
                label=I18N("ui_clone_audio"),
                elem_id="clone_audio",
            )
            transcript = gr.Textbox(
                label=I18N("ui_clone_transcript"), lines=2, elem_id="clone_transcript"
            )
        with gr.Column(scale=2):
            name = gr.Textbox(
                label=I18N("ui_design_name"), info=I18N("ui_design_name_info"), elem_id="clone_name"
            )
            consent = gr.Checkbox(label=I18N("ui_clone_consent"), elem_id="clone_consent")
            make = gr.Button(I18N("ui_clone_run"), variant="primary", elem_id="clone_run")
    panel, own = build_own_voices(context, "clone")
    handlers = CloneHandlers(context, panel, audio)
    tab.select(own.refresh, context.owner, panel.mine, **PAGE_EVENT)
    make.click(
        handlers.clone,
        [
            context.owner,
            audio,
            transcript,
            name,
            consent,
            context.connection.region,
            context.connection.api_key,
        ],
        [audio, panel.status, panel.mine],
        api_visibility="private",
        **context.api_events,
    )
    return panel


def build_voice_tabs(
    demo: gr.Blocks, context: Context, studio: Studio | None = None
) -> list[OwnVoices]:
    """The Design and Clone tabs, inside the page's gr.Tabs; their voice panels (whose speeches
    the history records). A voice made or deleted here is at once in or out of the Studio's
    voice picker when its VD or VC model is chosen there."""
    with gr.Tab(I18N("ui_tab_design"), id="design", elem_id="tab_design") as design:
        designed = build_design(demo, design, context)
    with gr.Tab(I18N("ui_tab_clone"), id="clone", elem_id="tab_clone") as clone:
        cloned = build_clone(clone, context)
    if studio is not None and context.session is not None:
        catalogue, book = context.synthesizer.catalogue, context.maker.book

        def refresh(model: str, voice: str, token: str) -> gr.Dropdown | dict:
            # Only a VD or VC model lists one's own voices: any other picker is left alone, so
            # this answer (it runs at load too) never undoes a voice picked meanwhile, nor a
            # shared link's voice set as the page loads.
            if not (model and catalogue.model(model).family):
                return gr.skip()
            return voice_picker(catalogue, model, voice, book, token)

        for panel in (designed, cloned):
            panel.mine.change(
                refresh, [studio.model, studio.voice, context.session], studio.voice, **PAGE_EVENT
            )
    return [designed, cloned]
