"""Compare voices: one text, 2 to 4 voices synthesized at the same time, each in its own player."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime

import gradio as gr
from gradio.events import Dependency

from ..audio import pcm_to_wav
from ..catalogue import Catalogue
from ..datafiles import data_path, load_compare_preset
from ..errors import DemoError, InputError, unexpected_error
from ..history_log import history_row
from ..live_tickets import LiveTickets
from ..messages import say
from ..speech import Speech, SpeechResult
from ..synthesis import SpeechOrder, Synthesizer
from .alerts import as_gradio_error
from .fragments import dialect_badge, error_html, pending_html, readout_html, voice_heading
from .header import ConnectionControls
from .i18n import I18N, bilingual
from .options import OptionHandlers, build_language, sent_options
from .regions import RegionHandlers, preferred_model, speaking_model_choices
from .runs import PAGE_EVENT, ApiEventOptions, shown_to_visitor, visitor
from .voice_picker import VoicePicker
from .widgets import (
    Updates,
    offered_voices,
    own_voice_choices,
    voice_choices,
)

log = logging.getLogger(__name__)

PRESET_FILE = data_path("compare.json")
MIN_VOICES, MAX_VOICES = 2, 4


@dataclass(frozen=True)
class Slot:
    """One voice's place: a heading, a player and its numbers (or its error)."""

    box: gr.Column
    heading: gr.HTML
    audio: gr.Audio
    status: gr.HTML
    live: gr.HTML  # the live player's panel (page.js)


@dataclass(frozen=True)
class CompareLive:
    """What page.js drives for the live players, kept out of sight: the slots' tickets (JSON,
    in slot order), the button that issues them and the one pressed when all have ended."""

    tickets: gr.Textbox
    start: gr.Button
    finish: gr.Button


def load_preset(catalogue: Catalogue) -> dict:
    """The tab's starting text, model and voices, checked against the catalogue."""
    preset = load_compare_preset()
    for voice in preset["voices"]:
        catalogue.check_voice(preset["model"], voice)
    if not MIN_VOICES <= len(preset["voices"]) <= MAX_VOICES:
        raise ValueError(f"{PRESET_FILE}: name {MIN_VOICES} to {MAX_VOICES} voices")
    return preset


class CompareHandlers:
    def __init__(
        self,
        synthesizer: Synthesizer,
        slots: list[Slot],
        new_rows: gr.State,
        tickets: LiveTickets | None = None,
        live: CompareLive | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue
        self.slots = slots
        self.new_rows = new_rows
        self.tickets, self.live = tickets, live

    def change_model(self, model: str, voices: list[str], owner: str = "") -> gr.Dropdown:
        """The model's voices, keeping the chosen ones it has; a VD or VC model offers the
        visitor's own voices of its family (the browser's owner token), never another's."""
        family = self.catalogue.model(model).family
        if family:
            own = own_voice_choices(self.synthesizer.voices, owner, family)
            names = {name for _, name in own}
            chosen = [v for v in voices or [] if v in names]
            return gr.Dropdown(choices=own, value=chosen, multiselect=True)
        return gr.Dropdown(
            choices=voice_choices(self.catalogue, model),
            value=offered_voices(self.catalogue, model, voices or []),
        )

    def change_region(self, region: str, model: str) -> gr.Dropdown:
        """Every model marked for the new region, with the VD and VC models it offers."""
        return RegionHandlers(self.catalogue, own_voices=True).change_region(region, model)

    def compare(
        self,
        text: str,
        model: str,
        voices: list[str],
        region: str,
        api_key: str,
        streaming: bool,
        language: str,
        owner: str,
        request: gr.Request,
    ) -> Iterator[Updates]:
        """Show every chosen voice's slot at once, then fill each as its audio is complete."""
        voices = list(dict.fromkeys(voices or []))
        if not MIN_VOICES <= len(voices) <= MAX_VOICES:
            refused = say("compare_voice_count", low=MIN_VOICES, high=MAX_VOICES)
            raise as_gradio_error(InputError(refused), request)
        with shown_to_visitor(request):  # a bad text or voice is refused before any call
            options = sent_options(self.catalogue, model, language, None)
            asking = visitor(self.synthesizer, request)
            speeches = [
                self.synthesizer.speech(
                    SpeechOrder(text, voice, model, region, **options, owner=owner or ""),
                    visitor=asking,
                    api_key=api_key,
                    streaming=streaming,
                )
                for voice in voices
            ]
        yield self._layout(voices, owner or "")
        rows = []
        with ThreadPoolExecutor(max_workers=len(speeches), thread_name_prefix="compare") as pool:
            running = {
                pool.submit(self._render, speech): index for index, speech in enumerate(speeches)
            }
            for done in as_completed(running):
                slot, result = self.slots[running[done]], done.result()
                if isinstance(result, DemoError):
                    yield {slot.status: error_html(result)}
                    continue
                rows.append(history_row(result, datetime.now()))
                # WAV bytes: a file path would make Gradio probe it with ffprobe.
                yield {slot.audio: pcm_to_wav(result.pcm), slot.status: readout_html(result)}
        yield {self.new_rows: rows}

    def compare_live(
        self,
        text: str,
        model: str,
        voices: list[str],
        region: str,
        api_key: str,
        streaming: bool,
        language: str,
        owner: str,
        request: gr.Request,
    ) -> Updates:
        """One live ticket per chosen voice (live.py), and their slots shown, empty.

        Like the Studio's ticket, nothing is sent here: each slot's stream is admitted by the
        route as this visitor when the page fetches it, all at the same time."""
        voices = list(dict.fromkeys(voices or []))
        if not MIN_VOICES <= len(voices) <= MAX_VOICES:
            refused = say("compare_voice_count", low=MIN_VOICES, high=MAX_VOICES)
            raise as_gradio_error(InputError(refused), request)
        with shown_to_visitor(request):
            options = sent_options(self.catalogue, model, language, None)
            who = visitor(self.synthesizer, request)
            tickets = [
                self.tickets.issue(
                    SpeechOrder(text, voice, model, region, **options, owner=owner or ""),
                    who,
                    api_key,
                    streaming,
                )
                for voice in voices
            ]
        updates = self._layout(voices, owner or "")
        for slot in self.slots[: len(voices)]:
            updates[slot.status] = ""
        return {**updates, self.live.tickets: json.dumps(tickets), self.new_rows: []}

    def compare_finish(self, tickets: str, request: gr.Request) -> Updates:
        """After the live streams: each slot's finished recording and numbers, or its error;
        a stopped slot keeps no audio."""
        updates: Updates = {}
        rows = []
        session = request.session_hash or ""
        for slot, ticket in zip(self.slots, json.loads(tickets or "[]"), strict=False):
            outcome = self.tickets.outcome(ticket, session)
            if outcome is None:
                updates[slot.status] = error_html(DemoError(say("live_refused")))
            elif outcome.error is not None:
                updates[slot.status] = error_html(outcome.error)
            elif outcome.result is not None:
                result = outcome.result
                rows.append(history_row(result, datetime.now()))
                updates[slot.audio] = pcm_to_wav(result.pcm)
                updates[slot.status] = readout_html(result)
        return {**updates, self.new_rows: rows}

    def _layout(self, voices: list[str], owner: str) -> Updates:
        updates = {}
        own = {voice.voice: voice.label for voice in self.synthesizer.voices.mine(owner)}
        for index, slot in enumerate(self.slots):
            shown = index < len(voices)
            updates[slot.box] = gr.Column(visible=shown)
            if shown:
                name = voices[index]
                voice = self.catalogue.voices.get(name)
                updates[slot.heading] = (
                    voice_heading(voice, dialect_badge(voice))
                    if voice
                    else own_voice_heading(own.get(name, name))
                )
                updates[slot.audio] = None
                updates[slot.status] = pending_html()
        return updates

    def _render(self, speech: Speech) -> SpeechResult | DemoError:
        """The finished speech, or what stopped it; runs in a worker thread."""
        try:
            return speech.complete()
        except DemoError as err:
            return err
        except Exception:
            log.exception("Unexpected failure while comparing voices")
            return unexpected_error()


def own_voice_heading(label: str) -> str:
    """A slot's heading for one of the visitor's own voices: the name they gave it."""
    badge = say("own_voice_badge")
    return (
        f'<div class="voice-heading"><span class="voice-name">{html.escape(label)}</span>'
        f'<span class="badge">{bilingual(html.escape(badge.en), html.escape(badge.zh))}</span></div>'
    )


def build_slot(index: int) -> Slot:
    with gr.Column(
        visible=False,
        variant="panel",
        min_width=0,
        elem_id=f"compare_slot_{index}",
        elem_classes="compare-slot",
    ) as box:
        heading = gr.HTML(elem_id=f"compare_heading_{index}")
        live = gr.HTML(elem_id=f"compare_live_{index}", elem_classes="compare-live")
        audio = gr.Audio(
            interactive=False, show_label=False, buttons=[], elem_id=f"compare_audio_{index}"
        )
        status = gr.HTML(elem_id=f"compare_status_{index}")
    return Slot(box, heading, audio, status, live)


def build_compare(
    synthesizer: Synthesizer,
    connection: ConnectionControls,
    api_events: ApiEventOptions,
    tickets: LiveTickets | None = None,
    owner: gr.State | None = None,
) -> tuple[list[Dependency], gr.State]:
    """The tab's inputs, its four slots, and the events that fill them (returned, with the
    history rows they make): the Compare button's, and with tickets the live players' finish."""
    catalogue = synthesizer.catalogue
    preset = load_preset(catalogue)
    gr.Markdown(I18N("ui_compare_intro"))
    with gr.Row(elem_id="compare_inputs"):
        text = gr.Textbox(
            value=preset["text"],
            label=I18N("ui_compare_text"),
            lines=3,
            max_lines=8,
            elem_id="compare_text",
            scale=3,
        )
        with gr.Column(scale=2):
            region = connection.region
            opening_model = preferred_model(catalogue, region.value, preset["model"])
            with gr.Row():
                model = gr.Dropdown(
                    speaking_model_choices(catalogue, region.value),
                    value=opening_model,
                    label=I18N("ui_model"),
                    elem_id="compare_model",
                    min_width=200,
                )
                language = build_language(catalogue, opening_model, elem_id="compare_language")
            voices = VoicePicker(
                voice_choices(catalogue, opening_model),
                value=offered_voices(catalogue, opening_model, preset["voices"]),
                multiselect=True,
                max_choices=MAX_VOICES,
                label=I18N("ui_compare_voices"),
                elem_id="compare_voices",
            )
    run = gr.Button(I18N("ui_compare_run"), variant="primary", elem_id="compare_run")
    with gr.Row(elem_id="compare_slots", elem_classes="card-grid"):
        slots = [build_slot(index) for index in range(MAX_VOICES)]
    new_rows = gr.State([])
    live = build_compare_live() if tickets is not None else None
    handlers = CompareHandlers(synthesizer, slots, new_rows, tickets, live)
    owner = owner if owner is not None else gr.State("")  # no token: no voices of one's own
    region.change(handlers.change_region, [region, model], model, **PAGE_EVENT)
    model.change(handlers.change_model, [model, voices, owner], voices, **PAGE_EVENT)
    model.change(
        OptionHandlers(catalogue).show_language,
        model,
        language,
        show_progress="hidden",
        **PAGE_EVENT,
    )
    outputs = [part for slot in slots for part in (slot.box, slot.heading, slot.audio, slot.status)]
    inputs = [
        text,
        model,
        voices,
        region,
        connection.api_key,
        connection.streaming,
        language,
        owner,
    ]
    compared = run.click(
        handlers.compare, inputs, [*outputs, new_rows], api_visibility="private", **api_events
    )
    if live is None:
        return [compared], new_rows
    return [compared, wire_compare_live(handlers, live, inputs, outputs, new_rows)], new_rows


def build_compare_live() -> CompareLive:
    """The hidden tickets box and buttons page.js uses for the slots' live players."""
    with gr.Row(elem_classes=["live-hidden"]):
        tickets = gr.Textbox(elem_id="compare_tickets", show_label=False, container=False)
        start = gr.Button(elem_id="compare_live", size="sm")
        finish = gr.Button(elem_id="compare_finish", size="sm")
    return CompareLive(tickets, start, finish)


def wire_compare_live(
    handlers: CompareHandlers,
    live: CompareLive,
    inputs: list[gr.components.Component],
    outputs: list[gr.components.Component],
    new_rows: gr.State,
) -> Dependency:
    """page.js presses the hidden start instead of Compare when the browser can play the streams
    itself: the tickets come back (outside the queue), the page streams them all at once, then
    presses finish; its event (queued, cheap) is the one that makes the history rows."""
    live.start.click(
        handlers.compare_live, inputs, [*outputs, live.tickets, new_rows], **PAGE_EVENT
    ).then(
        None,
        [live.tickets],
        None,
        js="(tickets) => { window.qwenTts.live.compare(JSON.parse(tickets || '[]')); }",
    )
    return live.finish.click(
        handlers.compare_finish,
        [live.tickets],
        [*outputs, new_rows],
        api_visibility="private",
        concurrency_limit=None,
    )
