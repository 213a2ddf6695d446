"""The Studio tab's editor and player: text, model and voice in; live audio, numbers, a file out."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gradio as gr

from ..audio import BYTES_PER_SECOND, pcm_to_wav, wav_to_pcm
from ..catalogue import Catalogue
from ..downloads import FORMATS, write_download
from ..errors import DemoError, unexpected_error
from ..history_log import history_row
from ..live import LiveTickets
from ..messages import say
from ..speech import SpeechResult
from ..synthesis import SpeechOrder, Synthesizer
from .code_panel import build_code_panel
from .fragments import readout_html
from .header import ConnectionControls
from .i18n import I18N, bilingual
from .options import (
    Instructions,
    OptionTargets,
    build_instructions,
    build_language,
    sent_options,
    wire_options,
)
from .realtime_controls import (
    RealtimeControls,
    build_realtime_controls,
    sent_controls,
    spoken_words_html,
    wire_realtime_controls,
)
from .regions import (
    RegionHandlers,
    RegionNote,
    build_region_note,
    preferred_model,
    speaking_model_choices,
    wire_region_note,
)
from .runs import PAGE_EVENT, ApiEventOptions, notify, shown_to_visitor, visitor
from .widgets import (
    Studio,
    Updates,
    download_button,
    file_caption,
    voice_choices,
    voice_picker,
)

LIVE_PIECE_BYTES = BYTES_PER_SECOND  # the live player gets at most 1 s per yield

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Editor:
    """The left column: the text with its counter, the pickers, the region note, instructions."""

    text: gr.Textbox
    counter: gr.HTML
    model: gr.Dropdown
    voice: gr.Dropdown
    language: gr.Dropdown
    note: RegionNote
    instructions: Instructions
    realtime: RealtimeControls  # the realtime models' rate, pitch, volume, sample rate, format


@dataclass(frozen=True)
class Player:
    """The right column: live audio, its numbers, the download, the blog's recording."""

    live_audio: gr.Audio  # the streamed player: where the browser lacks what the live one needs
    live_player: gr.HTML  # the Web Audio player (page.js) and its Stop button
    result_audio: gr.Audio  # the live player's finished recording
    readout: gr.HTML
    audio_format: gr.Radio
    download: gr.DownloadButton
    download_info: gr.HTML
    official: gr.HTML
    spoken: gr.HTML  # a realtime result's words (or sentences), lit as the recording plays


@dataclass(frozen=True)
class LiveControls:
    """What page.js drives, kept out of sight: the ticket of the live stream, the button that
    asks for one, and the button that fetches how it ended."""

    ticket: gr.Textbox
    start: gr.Button
    finish: gr.Button


@dataclass(frozen=True)
class LatestAudio:
    """What the Studio keeps of its latest result in a gr.State: its WAV (other formats are made
    from it on demand) and the voice and time that name the download."""

    wav: str
    voice: str
    when: str  # ISO 8601


class StudioHandlers:
    def __init__(
        self,
        synthesizer: Synthesizer,
        player: Player,
        latest: gr.State,
        new_rows: gr.State,
        tickets: LiveTickets | None = None,  # the live player's (none: the streamed one only)
        live: LiveControls | None = None,
    ) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue
        self.player, self.latest, self.new_rows = player, latest, new_rows
        self.tickets, self.live = tickets, live

    def change_model(self, model: str, voice: str, owner: str = "") -> gr.Dropdown:
        """Offer the model's voices, keeping the current one when the model has it; a VD or VC
        model offers the visitor's own voices of its family (the browser's owner token)."""
        return voice_picker(self.catalogue, model, voice, self.synthesizer.voices, owner)

    def change_region(self, region: str, model: str) -> gr.Dropdown:
        """Every model marked for the new region, with the VD and VC models it offers."""
        return RegionHandlers(self.catalogue, announce=True, own_voices=True).change_region(
            region, model
        )

    def generate(
        self,
        text: str,
        model: str,
        voice: str,
        language: str,
        instructions: str,
        region: str,
        api_key: str,
        streaming: bool,
        owner: str,
        speech_rate: float | None = None,
        pitch_rate: float | None = None,
        volume: float | None = None,
        sample_rate: int | None = None,
        response_format: str | None = None,
        written: bool = False,
        request: gr.Request = None,
    ) -> Iterator[Updates]:
        """Play the audio as it arrives, then offer the file, the numbers and a history row."""
        player = self.player
        with shown_to_visitor(request):
            options = sent_options(self.catalogue, model, language, instructions)
            options |= sent_controls(
                self.catalogue,
                model,
                speech_rate,
                pitch_rate,
                volume,
                sample_rate,
                response_format,
                written,
            )
            speech = self.synthesizer.speech(
                SpeechOrder(text, voice, model, region, **options, owner=owner or ""),
                visitor=visitor(self.synthesizer, request),
                api_key=api_key,
                streaming=streaming,
                on_notice=notify,
            )
            # Results of the previous run must not sit beside the new audio. While the audio
            # plays they stay empty: sending the empty values is cheaper than leaving them out
            # (a skip), which Gradio turns into a rebuild of each output on every piece.
            empty = {
                player.download: None,
                player.readout: "",
                player.spoken: "",
                self.latest: None,
                self.new_rows: [],
            }
            yield empty
            for pcm in speech:
                for start in range(0, len(pcm), LIVE_PIECE_BYTES):
                    yield {
                        player.live_audio: pcm_to_wav(pcm[start : start + LIVE_PIECE_BYTES]),
                        **empty,
                    }
            finished = self._finished(speech.result)
        yield finished

    def live_ticket(
        self,
        text: str,
        model: str,
        voice: str,
        language: str,
        instructions: str,
        region: str,
        api_key: str,
        streaming: bool,
        owner: str,
        speech_rate: float | None = None,
        pitch_rate: float | None = None,
        volume: float | None = None,
        sample_rate: int | None = None,
        response_format: str | None = None,
        written: bool = False,
        request: gr.Request = None,
    ) -> Updates:
        """A ticket for the live player's stream (live.py), and the previous results cleared.

        Nothing is checked or sent here: the route does that as this visitor when the page
        fetches the stream, and says what went wrong in words."""
        options = sent_options(self.catalogue, model, language, instructions)
        options |= sent_controls(
            self.catalogue,
            model,
            speech_rate,
            pitch_rate,
            volume,
            sample_rate,
            response_format,
            written,
        )
        order = SpeechOrder(text, voice, model, region, **options, owner=owner or "")
        who = visitor(self.synthesizer, request)
        player = self.player
        return {
            self.live.ticket: self.tickets.issue(order, who, api_key, streaming),
            player.result_audio: None,
            player.download: None,
            player.download_info: "",
            player.readout: "",
            player.spoken: "",
            self.latest: None,
            self.new_rows: [],
        }

    def live_finish(self, ticket: str, request: gr.Request) -> Updates:
        """After the live stream: the finished recording, its numbers, file and history row; a
        failure as a toast, and a stopped or broken stream leaves no audio at all."""
        player = self.player
        with shown_to_visitor(request):
            outcome = self.tickets.outcome(ticket, request.session_hash or "")
            if outcome is None:
                raise DemoError(say("live_refused"))
            if outcome.error is not None:
                raise outcome.error
            if outcome.result is None:  # stopped by the visitor
                return {player.result_audio: None}
            finished = self._finished(outcome.result)
        # WAV bytes: a path would need ffprobe to check.
        return {player.result_audio: pcm_to_wav(outcome.result.pcm), **finished}

    def _finished(self, result: SpeechResult) -> Updates:
        """A complete result's file, numbers and history row. The download is a plain path for
        API callers; offer_download then enables the button and names the file."""
        when = datetime.now()
        path = write_download(result.pcm, result.request.voice, when)
        return {
            self.player.download: str(path),
            self.player.readout: readout_html(result),
            self.player.spoken: spoken_words_html(result),
            self.latest: LatestAudio(str(path), result.request.voice, when.isoformat()),
            self.new_rows: [history_row(result, when)],
        }

    def offer_download(self, latest: LatestAudio | None, audio_format: str) -> Updates:
        """The latest result as a file of the chosen format (MP3 is encoded on demand).

        It runs outside the queue, where Gradio shows no toast: a problem goes in the caption."""
        if not latest:
            return self._offered(None)
        wav = Path(latest.wav)
        if not wav.exists():
            return self._not_offered(DemoError(say("recording_gone")))
        if audio_format == "wav":
            return self._offered(wav)
        try:
            pcm = wav_to_pcm(wav.read_bytes())
            when = datetime.fromisoformat(latest.when)
            return self._offered(write_download(pcm, latest.voice, when, audio_format))
        except DemoError as err:
            return self._not_offered(err)
        except Exception:
            log.exception("Could not make the download")
            return self._not_offered(unexpected_error())

    def _offered(self, path: Path | None) -> Updates:
        """The download button and its caption (none without a result)."""
        caption = file_caption(path) if path else ""
        return {self.player.download: download_button(path), self.player.download_info: caption}

    def _not_offered(self, problem: DemoError) -> Updates:
        """A disabled download button, and why in its caption."""
        caption = bilingual(html.escape(problem.en), html.escape(problem.zh))
        return {
            self.player.download: download_button(None),
            self.player.download_info: f'<span class="download-problem">{caption}</span>',
        }


def input_limits(catalogue: Catalogue) -> str:
    """{model: {max, unit}} as JSON, for the counter that runs in the browser."""
    models = catalogue.models + catalogue.custom_models
    return json.dumps({m.id: {"max": m.max_input, "unit": m.input_unit} for m in models})


def build_editor(catalogue: Catalogue, region: str) -> Editor:
    """The text box with its counter; model, voice and language; the instructions box."""
    opening_model = preferred_model(catalogue, region)
    text = gr.Textbox(
        label=I18N("ui_text"),
        placeholder=I18N("ui_text_placeholder"),
        lines=5,
        max_lines=12,
        elem_id="text",
    )
    counter = gr.HTML(elem_id="input_counter")
    with gr.Row(elem_id="pickers"):
        model = gr.Dropdown(
            speaking_model_choices(catalogue, region),
            value=opening_model,
            label=I18N("ui_model"),
            elem_id="model",
            min_width=200,
        )
        voice = gr.Dropdown(
            voice_choices(catalogue, opening_model),
            value=catalogue.default_voice,
            label=I18N("ui_voice"),
            interactive=True,
            elem_id="voice",
            min_width=200,
        )
        language = build_language(catalogue, opening_model)
    note = build_region_note()
    instructions = build_instructions(catalogue, opening_model)
    realtime = build_realtime_controls(catalogue, opening_model)
    return Editor(text, counter, model, voice, language, note, instructions, realtime)


def build_player() -> Player:
    """The live player, the numbers under it, the download and the blog's recording."""
    live_audio = gr.Audio(
        label=I18N("ui_live_audio"),
        streaming=True,
        autoplay=True,
        interactive=False,
        buttons=[],
        elem_id="live_audio",  # the Download button below names the file well
    )
    live_player = gr.HTML(elem_id="live_player")
    result_audio = gr.Audio(
        label=I18N("ui_live_result"),
        interactive=False,
        autoplay=False,
        elem_id="result_audio",
    )
    readout = gr.HTML(elem_id="readout")
    spoken = gr.HTML(elem_id="spoken_words")
    with gr.Row(elem_id="download_row", equal_height=True):
        audio_format = gr.Radio(
            [(name.upper(), name) for name in FORMATS],
            value="wav",
            label=I18N("ui_format"),
            elem_id="audio_format",
            scale=1,
            min_width=220,
        )
        download = gr.DownloadButton(
            I18N("ui_download"),
            elem_id="download",
            interactive=False,
            scale=1,
            min_width=220,
            variant="secondary",
        )
    download_info = gr.HTML(elem_id="download_info")
    official = gr.HTML(elem_id="official_audio")
    return Player(
        live_audio,
        live_player,
        result_audio,
        readout,
        audio_format,
        download,
        download_info,
        official,
        spoken,
    )


def build_live_controls() -> LiveControls:
    """The hidden ticket box and buttons page.js uses for the live player."""
    with gr.Row(elem_classes=["live-hidden"]):
        ticket = gr.Textbox(elem_id="live_ticket", show_label=False, container=False)
        start = gr.Button(elem_id="generate_live", size="sm")
        finish = gr.Button(elem_id="live_finish", size="sm")
    return LiveControls(ticket, start, finish)


def build_studio(
    synthesizer: Synthesizer,
    connection: ConnectionControls,
    api_events: ApiEventOptions,
    tickets: LiveTickets,
    owner: gr.State | None = None,
) -> Studio:
    """Editor on the left, player on the right, wired to DashScope. `owner` is the browser's
    owner token (ui/voices.py): with it the VD and VC models speak the visitor's own voices."""
    catalogue = synthesizer.catalogue
    region = connection.region
    with gr.Row(elem_id="studio"):
        with gr.Column(scale=3, elem_id="editor"):
            editor = build_editor(catalogue, region.value)
            generate = gr.Button(I18N("ui_generate"), variant="primary", elem_id="generate")
            build_code_panel(
                catalogue,
                editor.text,
                editor.voice,
                editor.model,
                region,
                editor.language,
                editor.instructions.text,
            )
        with gr.Column(scale=2, elem_id="player"):
            player = build_player()
        live = build_live_controls()
    latest, new_rows = gr.State(None), gr.State([])  # a LatestAudio, and its history row
    handlers = StudioHandlers(synthesizer, player, latest, new_rows, tickets, live)
    model, voice = editor.model, editor.voice

    owner = owner if owner is not None else gr.State("")  # no token: no voices of one's own
    region.change(
        handlers.change_region, [region, model], model, api_visibility="private"
    )  # queued: it may announce a model switch
    model.change(handlers.change_model, [model, voice, owner], voice, **PAGE_EVENT)
    wire_region_note(catalogue, editor.note, region, model)
    wire_options(
        catalogue, model, OptionTargets(editor.language, editor.instructions, editor.text, voice)
    )
    wire_realtime_controls(catalogue, model, editor.realtime)
    wire_counter(synthesizer, editor.text, model, editor.counter)
    generated = generate.click(
        handlers.generate,
        [
            editor.text,
            model,
            voice,
            editor.language,
            editor.instructions.text,
            region,
            connection.api_key,
            connection.streaming,
            owner,
            *editor.realtime.inputs,
        ],
        [player.live_audio, player.download, player.readout, latest, new_rows, player.spoken],
        api_name="generate",
        api_visibility="undocumented",
        **api_events,
    )
    # The caption of the previous file goes at once; the new one comes with offer_download.
    generate.click(None, js="() => ''", outputs=player.download_info)
    # A failed or stopped stream leaves nothing playable behind (Gradio keeps the pieces).
    generated.failure(lambda: None, None, player.live_audio, **PAGE_EVENT)
    finished = wire_live(handlers, editor, connection, player, live, latest, new_rows, owner)
    # After a failure too: latest is then empty and the button is disabled.
    for offer in (generated.then, finished.then, player.audio_format.change):
        offer(
            handlers.offer_download,
            [latest, player.audio_format],
            [player.download, player.download_info],
            **PAGE_EVENT,
        )
    return Studio(
        editor.text,
        model,
        voice,
        editor.language,
        editor.instructions.text,
        region,
        player.official,
        new_rows,
        generated,
        finished,
        owner,
    )


def wire_live(
    handlers: StudioHandlers,
    editor: Editor,
    connection: ConnectionControls,
    player: Player,
    live: LiveControls,
    latest: gr.State,
    new_rows: gr.State,
    owner: gr.State,
):
    """The live player's events. page.js presses the hidden start button instead of Generate
    when the browser can play the stream itself: a ticket comes back (outside the queue, so
    nothing waits before DashScope is asked), the page streams it, then presses finish."""
    live.start.click(
        handlers.live_ticket,
        [
            editor.text,
            editor.model,
            editor.voice,
            editor.language,
            editor.instructions.text,
            connection.region,
            connection.api_key,
            connection.streaming,
            owner,
            *editor.realtime.inputs,
        ],
        [
            live.ticket,
            player.result_audio,
            player.download,
            player.download_info,
            player.readout,
            latest,
            new_rows,
            player.spoken,
        ],
        **PAGE_EVENT,
    ).then(None, [live.ticket], None, js="(ticket) => { window.qwenTts.live.play(ticket); }")
    # Queued, so a failure shows as the Generate event's would; cheap, so not limited.
    return live.finish.click(
        handlers.live_finish,
        [live.ticket],
        [player.result_audio, player.download, player.readout, latest, new_rows, player.spoken],
        api_visibility="private",
        concurrency_limit=None,
    )


def wire_counter(
    synthesizer: Synthesizer, text: gr.Textbox, model: gr.Dropdown, counter: gr.HTML
) -> None:
    """The text measured against the model's limit, in the browser, as the visitor types."""
    limits, cap = input_limits(synthesizer.catalogue), synthesizer.settings.max_text_chars
    gr.on(  # every change of text or model, and the page's load
        None,
        None,
        [text, model],
        counter,
        js=f"(text, model) => window.qwenTts.counter(text, {limits}[model], {cap})",
    )
