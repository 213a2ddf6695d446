"""The Studio tab's editor and player: text, model and voice in; live audio, numbers, a file out."""

from __future__ import annotations

import html
import json
import logging
import math
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
from ..synthesis import Synthesizer
from .code_panel import build_code_panel
from .fragments import readout_html
from .header import Connection
from .i18n import I18N, bilingual
from .options import (
    build_instructions,
    build_language,
    sent_options,
    wire_options,
)
from .regions import (
    RegionHandlers,
    build_region_note,
    model_choices,
    preferred_model,
    wire_region_note,
)
from .runs import PAGE_EVENT, notify, shown_to_visitor, start_speech

LIVE_PIECE_BYTES = BYTES_PER_SECOND  # the live player gets at most 1 s per yield
RECORDING_GONE = DemoError(
    "This recording is no longer on the server. Generate it again to download it.",
    "服务器上已没有这段录音。请重新生成后再下载。",
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Studio:
    """What the other panels use of the Studio: the editor, the blog's player, the results."""

    text: gr.Textbox
    model: gr.Dropdown
    voice: gr.Dropdown
    language: gr.Dropdown
    instructions: gr.Textbox
    region: gr.Radio
    official: gr.HTML
    new_rows: gr.State  # history rows of the latest result
    generated: object  # the generate event, for history to chain onto


def voice_choices(catalogue: Catalogue, model: str) -> list[tuple[str, str]]:
    """(label, name) of each voice the model offers, e.g. ("Dylan · 北京话 Beijing", "Dylan")."""
    return [(voice.label, voice.name) for voice in catalogue.voices_of(model)]


def voice_picker(catalogue: Catalogue, model: str, wanted: str) -> gr.Dropdown:
    """The model's voices with the wanted one chosen, or the default voice (else the first) when
    the model lacks it."""
    choices = voice_choices(catalogue, model)
    names = [name for _, name in choices]
    chosen = next((name for name in (wanted, catalogue.default_voice) if name in names), names[0])
    return gr.Dropdown(choices=choices, value=chosen)


def offered_voices(catalogue: Catalogue, model: str, wanted: list[str]) -> list[str]:
    """The wanted voices the model offers, in the order given."""
    names = set(catalogue.model(model).voices)
    return [name for name in wanted if name in names]


class StudioHandlers:
    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue

    def change_model(self, model: str, voice: str) -> gr.Dropdown:
        """Offer the model's voices, keeping the current one when the model has it."""
        return voice_picker(self.catalogue, model, voice)

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
        request: gr.Request,
    ) -> Iterator[tuple]:
        """Play the audio as it arrives, then offer the file, the numbers and a history row."""
        skip = gr.skip()
        with shown_to_visitor(request):
            options = sent_options(self.catalogue, model, language, instructions)
            speech = start_speech(
                self.synthesizer,
                request,
                text,
                voice,
                model,
                region,
                api_key,
                streaming,
                notify,
                **options,
            )
            # Results of the previous run must not sit beside the new audio. While the audio
            # plays they stay empty: sending the empty values is cheaper than gr.skip(), which
            # Gradio turns into a rebuild of each output on every piece.
            empty = (None, "", None, [])
            yield skip, *empty
            for pcm in speech:
                for start in range(0, len(pcm), LIVE_PIECE_BYTES):
                    yield pcm_to_wav(pcm[start : start + LIVE_PIECE_BYTES]), *empty
            result = speech.result
            when = datetime.now()
            path = write_download(result.pcm, result.request.voice, when)
        last_audio = {"wav": str(path), "voice": result.request.voice, "when": when.isoformat()}
        # A plain path for API callers; offer_download then enables the button and names the file.
        yield skip, str(path), readout_html(result), last_audio, [history_row(result, when)]

    def offer_download(self, last_audio: dict | None, audio_format: str) -> tuple:
        """The latest result as a file of the chosen format (MP3 is encoded on demand).

        It runs outside the queue, where Gradio shows no toast: a problem goes in the caption."""
        if not last_audio:
            return offered(None)
        wav = Path(last_audio["wav"])
        if not wav.exists():
            return not_offered(RECORDING_GONE)
        if audio_format == "wav":
            return offered(wav)
        try:
            when = datetime.fromisoformat(last_audio["when"])
            pcm = wav_to_pcm(wav.read_bytes())
            return offered(write_download(pcm, last_audio["voice"], when, audio_format))
        except DemoError as err:
            return not_offered(err)
        except Exception:
            log.exception("Could not make the download")
            return not_offered(unexpected_error())


def file_caption(path: Path) -> str:
    """The file's name and size, under the download button."""
    size_kb = math.ceil(path.stat().st_size / 1024)
    return f'<code class="file-name">{html.escape(path.name)}</code> · {size_kb} KB'


def download_button(path: Path | None) -> gr.DownloadButton:
    """A download of the file; disabled without one."""
    return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)


def offered(path: Path | None) -> tuple:
    """The download button and its caption (none without a result)."""
    return download_button(path), file_caption(path) if path else ""


def not_offered(problem: DemoError) -> tuple:
    """A disabled download button, and why in its caption."""
    caption = bilingual(html.escape(problem.en), html.escape(problem.zh))
    return download_button(None), f'<span class="download-problem">{caption}</span>'


def input_limits(catalogue: Catalogue) -> str:
    """{model: {max, unit}} as JSON, for the counter that runs in the browser."""
    return json.dumps({m.id: {"max": m.max_input, "unit": m.input_unit} for m in catalogue.models})


def build_editor(catalogue: Catalogue, region: str) -> tuple:
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
            model_choices(catalogue, region),
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
    return text, counter, model, voice, language, note, instructions


def build_player() -> tuple:
    """The live player, the numbers under it, the download and the blog's recording."""
    live_audio = gr.Audio(
        label=I18N("ui_live_audio"),
        streaming=True,
        autoplay=True,
        interactive=False,
        buttons=[],
        elem_id="live_audio",  # the Download button below names the file well
    )
    readout = gr.HTML(elem_id="readout")
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
    return live_audio, readout, audio_format, download, download_info, official


def build_studio(synthesizer: Synthesizer, connection: Connection, api_events: dict) -> Studio:
    """Editor on the left, player on the right, wired to DashScope."""
    handlers = StudioHandlers(synthesizer)
    catalogue = synthesizer.catalogue
    region = connection.region
    with gr.Row(elem_id="studio"):
        with gr.Column(scale=3, elem_id="editor"):
            text, counter, model, voice, language, note, instructions = build_editor(
                catalogue, region.value
            )
            generate = gr.Button(I18N("ui_generate"), variant="primary", elem_id="generate")
            build_code_panel(catalogue, text, voice, model, region, language, instructions.text)
        with gr.Column(scale=2, elem_id="player"):
            live_audio, readout, audio_format, download, download_info, official = build_player()
    # {"wav", "voice", "when"} of the latest result (other formats are made from it), and its
    # history row.
    last_audio, new_rows = gr.State(None), gr.State([])

    region.change(
        RegionHandlers(catalogue, announce=True).change_region,
        [region, model],
        model,
        api_visibility="private",
    )  # queued: it may announce a model switch
    model.change(handlers.change_model, [model, voice], voice, **PAGE_EVENT)
    wire_region_note(catalogue, note, region, model)
    wire_options(catalogue, model, language, instructions, text, voice)
    wire_counter(synthesizer, text, model, counter)
    generated = generate.click(
        handlers.generate,
        [
            text,
            model,
            voice,
            language,
            instructions.text,
            region,
            connection.api_key,
            connection.streaming,
        ],
        [live_audio, download, readout, last_audio, new_rows],
        api_name="generate",
        api_visibility="undocumented",
        **api_events,
    )
    # The caption of the previous file goes at once; the new one comes with offer_download.
    generate.click(None, js="() => ''", outputs=download_info)
    # After a failure too: last_audio is then empty and the button is disabled.
    for offer in (generated.then, audio_format.change):
        offer(
            handlers.offer_download,
            [last_audio, audio_format],
            [download, download_info],
            **PAGE_EVENT,
        )
    return Studio(
        text, model, voice, language, instructions.text, region, official, new_rows, generated
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
