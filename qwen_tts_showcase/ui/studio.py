"""The Studio tab's editor and player: text, model and voice in; live audio, numbers, a file out."""

from __future__ import annotations

import functools
import html
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.events import Dependency

from ..audio import BYTES_PER_SECOND, pcm_to_wav, wav_to_pcm
from ..catalogue import Catalogue
from ..downloads import FORMATS, write_download
from ..errors import DemoError, unexpected_error
from ..history_log import history_row
from ..live_tickets import LiveTickets
from ..messages import say
from ..speech import Speech, SpeechResult
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
from .pickers import PICKER_MIN_WIDTH, VoiceCard, build_voice_card, wire_voice_card
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
from .runs import PAGE_EVENT, ApiEventOptions, notifier, shown_to_visitor, visitor
from .voice_picker import VoicePicker
from .widgets import (
    Studio,
    Updates,
    as_sent,
    download_button,
    file_caption,
    opening_line,
    voice_choices,
    voice_picker,
)

if TYPE_CHECKING:  # the History tab is built after the Studio: its parts come then
    from .history import History

LIVE_PIECE_BYTES = BYTES_PER_SECOND  # the live player gets at most 1 s per yield
# The ticket page.js played: the event that makes it the page's (live_use) may still be on its
# way when the stream ends.
PLAYED_TICKET_JS = "(ticket) => window.qwenTts.live.current()?.ticket || ticket"

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
    card: VoiceCard  # the model's line, the voice's card and preview (ui/pickers.py)
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
    asks for one, and the button that fetches how it ended; and a ticket asked for ahead, once
    the inputs settle, so that Generate is a single request (`ready`: "<stamp> <ticket>", the
    stamp page.js gave the inputs it was asked for), the button that asks for it, and the one
    that tells the server the page plays it; `done` fetches how a complete stream ended (outside
    the queue), `finish` any other (queued, for its toast). `stop` ends the Generate event where
    the browser plays Gradio's streamed player instead (studio.js presses it)."""

    ticket: gr.Textbox
    start: gr.Button
    finish: gr.Button
    ready: gr.Textbox
    ahead: gr.Button
    use: gr.Button
    go: gr.Button
    done: gr.Button
    stop: gr.Button


@dataclass(frozen=True)
class StudioInputs:
    """What Generate sends: the editor's values, the connection's, the owner token and the
    realtime controls, passed by name (build_studio's `inputs`, whose order is the wire's)."""

    text: str
    model: str
    voice: str
    language: str
    instructions: str
    region: str
    api_key: str
    streaming: bool
    owner: str
    speech_rate: float | None
    pitch_rate: float | None
    volume: float | None
    sample_rate: int | None
    response_format: str | None
    written: bool
    typed: bool = False  # speak as I type: sent only for its session's ticket (the page's text)


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
        # The Generate event's speech per session while it streams, for Stop (stop_stream).
        self._streaming: dict[str, Speech] = {}

    def change_model(self, model: str, voice: str, owner: str = "") -> gr.Dropdown:
        """Offer the model's voices, keeping the current one when the model has it; a VD or VC
        model offers the visitor's own voices of its family (the browser's owner token)."""
        return voice_picker(self.catalogue, model, voice, self.synthesizer.voices, owner)

    def change_region(self, region: str, model: str) -> gr.Dropdown:
        """Every model marked for the new region, with the VD and VC models it offers."""
        return RegionHandlers(self.catalogue, announce=True, own_voices=True).change_region(
            region, model
        )

    def follow_region(
        self, region: str, model: str, voice: str, owner: str = ""
    ) -> tuple[gr.Dropdown, gr.Dropdown | dict]:
        """The models marked for the new region; the voices only when the model had to change
        (left alone otherwise, so a voice picked meanwhile is not undone)."""
        regions = RegionHandlers(self.catalogue, announce=True, own_voices=True)
        chosen = regions.followed(region, model)  # inside an event a component has no .value
        models = gr.Dropdown(choices=speaking_model_choices(self.catalogue, region), value=chosen)
        if chosen == model:
            return models, gr.skip()
        return models, self.change_model(chosen, voice, owner)

    def generate(self, request: gr.Request, **values: Any) -> Iterator[Updates]:
        """Play the audio as it arrives, then offer the file, the numbers and a history row."""
        player, inputs = self.player, StudioInputs(**values)
        with shown_to_visitor(request):
            speech = self.synthesizer.speech(
                self._order(inputs),
                visitor=visitor(self.synthesizer, request),
                api_key=inputs.api_key,
                streaming=inputs.streaming,
                on_notice=notifier(request),
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
            session = getattr(request, "session_hash", None) or ""
            self._streaming[session] = speech
            try:
                yield empty
                for pcm in speech:
                    for start in range(0, len(pcm), LIVE_PIECE_BYTES):
                        yield {
                            player.live_audio: pcm_to_wav(pcm[start : start + LIVE_PIECE_BYTES]),
                            **empty,
                        }
            except Exception:
                if self._streaming.get(session) is speech:
                    raise
                # The visitor's Stop (stop_stream) closed it, whatever the read then raised (a
                # Stopped, or a connection shut under a retry): no error, and nothing kept.
                yield {player.live_audio: None, **empty}
                return
            finally:
                if self._streaming.get(session) is speech:
                    del self._streaming[session]
            finished = self._finished(speech.result)
        yield finished

    def stop_stream(self, request: gr.Request) -> None:
        """Stop, for Gradio's streamed player: the speech closes DashScope's stream at once
        (nothing cached, the quota refunded if no audio came), and the Generate event ends."""
        speech = self._streaming.pop(request.session_hash or "", None)
        if speech is not None:
            speech.close()

    def live_ticket(self, request: gr.Request, **values: Any) -> Updates:
        """A ticket for the live player's stream (live.py), and the previous results cleared.

        Nothing is checked or sent here: the route does that as this visitor when the page
        fetches the stream, and says what went wrong in words."""
        return self.live_use(self._ticket(StudioInputs(**values), request))

    def live_ahead(self, request: gr.Request, stamp: str = "", **values: Any) -> Updates:
        """A ticket asked for before Generate is pressed, with the page's stamp of the inputs it
        stands for: pressed with the same inputs, the page streams it at once."""
        ticket = self._ticket(StudioInputs(**values), request)
        return {self.live.ready: f"{(stamp or '').split(' ')[0]} {ticket}"}

    def _ticket(self, inputs: StudioInputs, request: gr.Request) -> str:
        """A live ticket for these inputs, issued to this visitor."""
        asker = visitor(self.synthesizer, request)
        return self.tickets.issue(self._order(inputs), asker, inputs.api_key, inputs.streaming)

    def live_use(self, ticket: str) -> Updates:
        """The page plays a ticket it had ahead: it becomes the live one, old results go."""
        player = self.player
        return {
            self.live.ticket: ticket,
            player.result_audio: None,
            player.download: None,
            player.download_info: "",
            player.readout: "",
            player.spoken: "",
            self.latest: None,
            self.new_rows: [],
        }

    async def use_played(self, ticket: str) -> Updates:
        """live_use for a ticket the page had ahead, on the event loop: nothing in it waits."""
        return self.live_use(ticket)

    def _order(self, inputs: StudioInputs) -> SpeechOrder:
        """What the Studio's inputs ask for; the realtime models' controls are ignored for any
        other model."""
        model = inputs.model
        options = sent_options(self.catalogue, model, inputs.language, inputs.instructions)
        options |= sent_controls(
            self.catalogue,
            model,
            inputs.speech_rate,
            inputs.pitch_rate,
            inputs.volume,
            inputs.sample_rate,
            inputs.response_format,
            inputs.written,
            inputs.typed,
        )
        return SpeechOrder(
            inputs.text, inputs.voice, model, inputs.region, **options, owner=inputs.owner or ""
        )

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
        """The latest result as a file of the chosen format (MP3 is encoded on demand; a format
        the app does not make, as an event that takes values as sent may bring, gets WAV).

        It runs outside the queue, where Gradio shows no toast: a problem goes in the caption."""
        if not latest:
            return self._offered(None)
        wav = Path(latest.wav)
        if not wav.exists():
            return self._not_offered(DemoError(say("recording_gone")))
        if audio_format not in FORMATS or audio_format == "wav":
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
        opening_line(catalogue),
        label=I18N("ui_text"),
        placeholder=I18N("ui_text_placeholder"),
        lines=5,
        max_lines=12,
        elem_id="text",
    )
    counter = gr.HTML(elem_id="input_counter")
    with gr.Row(elem_id="pickers"):  # a picker narrower than its words goes to the next row
        model = gr.Dropdown(
            speaking_model_choices(catalogue, region),
            value=opening_model,
            label=I18N("ui_model"),
            elem_id="model",
            min_width=PICKER_MIN_WIDTH,
        )
        voice = VoicePicker(
            voice_choices(catalogue, opening_model),
            value=catalogue.default_voice,
            label=I18N("ui_voice"),
            interactive=True,
            filterable=True,
            elem_id="voice",
            min_width=PICKER_MIN_WIDTH,
        )
        language = build_language(catalogue, opening_model)
    card = build_voice_card(catalogue, opening_model, catalogue.default_voice)
    note = build_region_note()
    instructions = build_instructions(catalogue, opening_model)
    realtime = build_realtime_controls(catalogue, opening_model)
    return Editor(text, counter, model, voice, language, note, instructions, card, realtime)


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
        ready = gr.Textbox(elem_id="live_ready", show_label=False, container=False)
        ahead = gr.Button(elem_id="live_ahead", size="sm")
        use = gr.Button(elem_id="live_use", size="sm")
        go = gr.Button(elem_id="live_go", size="sm")
        done = gr.Button(elem_id="live_done", size="sm")
        stop = gr.Button(elem_id="stream_stop", size="sm")
    return LiveControls(ticket, start, finish, ready, ahead, use, go, done, stop)


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
    owner = owner if owner is not None else gr.State("")  # no token: no voices of one's own
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
                synthesizer.voices,  # the maker's own voices by their API handle
                owner,
            )
        with gr.Column(scale=2, elem_id="player"):
            player = build_player()
        live = build_live_controls()
    latest, new_rows = gr.State(None), gr.State([])  # a LatestAudio, and its history row
    handlers = StudioHandlers(synthesizer, player, latest, new_rows, tickets, live)
    model, voice = editor.model, editor.voice
    # The voices follow a model the visitor picks, or one the region imposes; not every change
    # of the model: a gallery card or a History row sets model and voice together, and a second
    # answer computed from the voice as it was before would undo theirs.
    region.change(
        handlers.follow_region,
        [region, model, voice, owner],
        [model, voice],
        api_visibility="private",
    )  # queued: it may announce a model switch
    model.input(handlers.change_model, [model, voice, owner], voice, **PAGE_EVENT)
    wire_region_note(catalogue, editor.note, region, model)
    wire_voice_card(synthesizer, editor.card, model, voice, region)
    wire_options(
        catalogue, model, OptionTargets(editor.language, editor.instructions, editor.text, voice)
    )
    wire_realtime_controls(catalogue, model, editor.realtime)
    wire_counter(synthesizer, editor.text, model, editor.counter)
    # What Generate sends, by StudioInputs' names: the Generate event, the live ticket, the
    # ticket ahead.
    inputs = {
        "text": editor.text,
        "model": model,
        "voice": voice,
        "language": editor.language,
        "instructions": editor.instructions.text,
        "region": region,
        "api_key": connection.api_key,
        "streaming": connection.streaming,
        "owner": owner,
        **editor.realtime.inputs,
    }
    generated = generate.click(
        handlers.generate,
        inputs_kwargs=inputs,
        outputs=[
            player.live_audio,
            player.download,
            player.readout,
            latest,
            new_rows,
            player.spoken,
        ],
        api_name="generate",
        api_visibility="undocumented",
        **api_events,
    )
    # The caption of the previous file goes at once; the new one comes with offer_download.
    generate.click(None, js="() => ''", outputs=player.download_info)
    # A failed or stopped stream leaves nothing playable behind (Gradio keeps the pieces).
    generated.failure(lambda: None, None, player.live_audio, **PAGE_EVENT)
    # Stop, for Gradio's streamed player: the event then ends by itself, and the page learns it
    # (one end per press: the event is not cancelled, so it always completes once).
    # Every press counts: by default Gradio drops a click while the same event's last answer is
    # on its way, and a Stop dropped so lets the stream run on to its deadline.
    live.stop.click(handlers.stop_stream, trigger_mode="multiple", **PAGE_EVENT)
    ended = "() => { window.qwenTtsStudio?.streamEnded(); }"
    generated.then(None, js=ended)
    generated.failure(None, js=ended)  # a failed event runs no .then
    wire_live(handlers, inputs, player, live, latest, new_rows, editor.realtime)
    # After a failure too: latest is then empty and the button is disabled.
    for offer in (generated.then, player.audio_format.change):
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
        functools.partial(wire_live_done, handlers),
        owner,
    )


def wire_live(
    handlers: StudioHandlers,
    inputs: dict[str, gr.components.Component],
    player: Player,
    live: LiveControls,
    latest: gr.State,
    new_rows: gr.State,
    realtime: RealtimeControls | None = None,
):
    """The live player's events, with Generate's `inputs`. page.js presses the hidden start
    button instead of Generate when the browser can play the stream itself: a ticket comes back
    (outside the queue, so nothing waits before DashScope is asked), the page streams it, then
    presses finish."""
    # A ticket, and the previous run's results cleared (live_use).
    cleared = [
        live.ticket,
        player.result_audio,
        player.download,
        player.download_info,
        player.readout,
        latest,
        new_rows,
        player.spoken,
    ]
    live.start.click(
        handlers.live_ticket,
        inputs_kwargs=inputs,
        outputs=cleared,
        **PAGE_EVENT,
    ).then(None, [live.ticket], None, js="(ticket) => { window.qwenTtsStudio.play(ticket); }")
    wire_live_ahead(handlers, inputs, cleared, live)
    if realtime is not None:  # speak as I type: realtime.js asks for the session's ticket
        realtime.typed_go.click(
            handlers.live_ticket,
            inputs_kwargs={**inputs, "typed": realtime.typed},
            outputs=cleared,
            **PAGE_EVENT,
        ).then(None, [live.ticket], None, js="(ticket) => { window.qwenTtsTyping.opened(ticket); }")
    # A stream that did not end complete (a complete one: wire_live_done): queued, so a failure
    # shows as the Generate event's would; cheap, so not limited; the download then offered
    # (disabled) as after Generate.
    live.finish.click(
        handlers.live_finish,
        [live.ticket],
        [
            player.result_audio,
            player.download,
            player.readout,
            latest,
            new_rows,
            player.spoken,
        ],
        js=PLAYED_TICKET_JS,
        api_visibility="private",
        concurrency_limit=None,
    ).then(
        handlers.offer_download,
        [latest, player.audio_format],
        [player.download, player.download_info],
        **PAGE_EVENT,
    )


def wire_live_done(handlers: StudioHandlers, history: History) -> Dependency:
    """A complete stream's end, the common case, as one event outside the queue: the recording,
    its numbers, the download in the chosen format and the history row. (As three events, the
    download and the row each after the recording, a crowd cost the app twice as much: Gradio's
    work per event outweighs the handlers', and the queue's join and event stream more still.)
    Its values come and go as sent, checked and serialized here (as_sent)."""
    live, player = handlers.live, handlers.player

    def live_done(
        ticket: object, audio_format: object, rows: object, locale: object, request: gr.Request
    ) -> Updates:
        finished = handlers.live_finish(_text(ticket), request)
        return as_sent(
            {
                **finished,
                **handlers.offer_download(finished.get(handlers.latest), _text(audio_format)),
                **history.recorded(rows, finished.get(handlers.new_rows), _text(locale)),
            }
        )

    return live.done.click(
        live_done,
        [live.ticket, player.audio_format, history.rows, history.locale],
        [
            player.result_audio,
            player.download,
            player.download_info,
            player.readout,
            player.spoken,
            handlers.latest,
            handlers.new_rows,
            history.rows,
            history.table,
        ],
        js=f"(ticket, ...rest) => [({PLAYED_TICKET_JS})(ticket), ...rest]",
        preprocess=False,
        postprocess=False,
        api_name="live_done",
        **PAGE_EVENT,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def wire_live_ahead(
    handlers: StudioHandlers,
    inputs: dict[str, gr.components.Component],
    cleared: list,
    live: LiveControls,
) -> None:
    """A ticket ready before the click. Any change of the inputs (typed, or put there by a card
    or a region switch) voids the page's stamp, in the browser; page.js asks for a new ticket
    once they settle, stamped, and plays it only for a press with exactly the inputs it was
    asked for (read at the press by a browser-only event: a change event may lag the value)."""
    gr.on(
        [component.change for component in inputs.values()],
        None,
        js="() => { window.qwenTts.live.changed(); }",
    )
    live.ahead.click(
        handlers.live_ahead,
        inputs_kwargs={**inputs, "stamp": live.ready},
        outputs=live.ready,
        js="(...values) => window.qwenTts.live.asking(values)",
        trigger_mode="always_last",
        **PAGE_EVENT,
    ).then(None, [live.ready], None, js="(ready) => { window.qwenTts.live.prepared(ready); }")
    # Generate, in the browser only: the inputs as Gradio will send them, against the ticket's.
    live.go.click(
        None, list(inputs.values()), None, js="(...values) => { window.qwenTts.live.go(values); }"
    )
    # A ticket played from ahead becomes the page's once its sound is on its way (page.js use());
    # the finish waits until this is done, so the results it clears are never the new ones.
    live.use.click(
        handlers.use_played,
        [live.ticket],
        cleared,
        js=PLAYED_TICKET_JS,
        # Plain values in and out: Gradio's work per value, each on a worker thread, cost more
        # than the handler (bench: app CPU per visit).
        preprocess=False,
        postprocess=False,
        api_name="live_use",
        **PAGE_EVENT,
    ).then(None, js="() => { window.qwenTts.live.used(); }")


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
        js=f"(text, model) => window.qwenTtsStudio.counter(text, {limits}[model], {cap})",
    )
