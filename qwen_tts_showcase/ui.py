"""The Gradio Blocks page: the only module that imports gradio."""

from __future__ import annotations

import html
import json
import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from .audio import BYTES_PER_SECOND, ensure_ffmpeg, pcm_to_wav
from .catalogue import DATA_DIR, Catalogue, Sample, load_catalogue
from .config import Settings
from .errors import DemoError
from .speech import SpeechResult
from .synthesis import Synthesizer

log = logging.getLogger(__name__)

CONCURRENCY_ID = "dashscope"  # every event that calls the API shares these slots
LIVE_PIECE_BYTES = BYTES_PER_SECOND  # the live player gets at most 1 s per yield
GRADIO_DEFAULT_THREADS = 40
SPARE_THREADS = 8  # for the page's other events and Gradio's processing while every slot is busy


def _load_i18n() -> gr.I18n:
    strings = json.loads((DATA_DIR / "strings.json").read_text(encoding="utf-8"))
    chinese = strings["zh"]
    return gr.I18n(en=strings["en"], **{"zh-CN": chinese, "zh-TW": chinese, "zh": chinese})


I18N = _load_i18n()
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="pink")
CSS = """
#official_audio figure { margin: 0; }
#official_audio audio { width: 100%; }
#readout { font-variant-numeric: tabular-nums; }
"""


def launch_options(settings: Settings | None = None) -> dict:
    """What demo.launch() needs besides host and port (tests launch with these too)."""
    settings = settings or Settings.from_env(load_catalogue())
    # run_history off: Gradio would keep every run's inputs, a visitor's own key included,
    # in the browser's storage.
    return dict(i18n=I18N, theme=THEME, css=CSS, run_history=False, show_error=False,
                max_threads=worker_threads(settings.concurrency_limit))


def worker_threads(concurrency_limit: int) -> int:
    """Gradio's worker threads: one per running synthesis, plus room for everything else.

    A synthesis holds a thread for as long as it waits on DashScope (the SDK is synchronous),
    and Gradio's pre- and postprocessing of every event draw on the same pool, so the default
    of 40 would make visitors beyond it wait for a thread, not for DashScope.
    """
    return max(GRADIO_DEFAULT_THREADS, concurrency_limit + SPARE_THREADS)


def _prefers_chinese(request: gr.Request | None) -> bool:
    language = (request.headers.get("accept-language", "") if request else "").lower()
    return language.startswith("zh")


def _as_gradio_error(err: DemoError, request: gr.Request | None) -> gr.Error:
    log.info("Synthesis refused or failed: %s", type(err).__name__)
    # Toasts render HTML; the message can echo what the visitor sent (a voice name).
    message = html.escape(err.message(_prefers_chinese(request)), quote=False)
    return gr.Error(message, duration=None, print_exception=False)


def _unexpected(exc: Exception) -> gr.Error:
    log.exception("Unexpected failure during synthesis")
    return gr.Error(
        "Something unexpected went wrong on the demo's side; it has been logged. Try again.\n"
        "演示程序内部出现意外错误，已记录。请重试。",
        duration=None,
        print_exception=False,
    )


def _notify(en: str, zh: str) -> None:
    """Progress and retries, shown to the visitor while the audio is on its way."""
    gr.Info(f"{en}\n{zh}", duration=4)


def _readout(result: SpeechResult) -> str:
    if result.cached:
        return (f"**Cached** · played in {result.first_audio_s * 1000:.0f} ms · audio "
                f"{result.audio_s:.2f} s · no API call, nothing billed")
    unit = "characters" if result.billing == "characters" else "tokens"
    parts = f" · {result.parts} requests" if result.parts > 1 else ""
    return (
        f"First audio **{result.first_audio_s:.2f} s** · total {result.total_s:.2f} s · "
        f"audio {result.audio_s:.2f} s · real-time factor {result.realtime_factor:.2f} · "
        f"{result.billed} {unit} billed{parts} · request `{html.escape(result.request_id)}`"
    )


def official_player(sample: Sample | None) -> str:
    """HTML for the blog's recording: the browser fetches it on play, the server never does."""
    if sample is None:
        return ""
    caption = html.escape(f"Official recording from the Qwen-TTS blog · {sample.voice}")
    return (
        f'<figure><figcaption>{caption}</figcaption><audio controls preload="none" '
        f'src="{html.escape(sample.official_audio, quote=True)}"></audio></figure>'
    )


class Handlers:
    """The event functions, bound to one Synthesizer."""

    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.catalogue = synthesizer.catalogue

    def voice_choices(self, model: str) -> list[tuple[str, str]]:
        return [(voice.label, voice.name) for voice in self.catalogue.voices_of(model)]

    def change_model(self, model: str, voice: str) -> gr.Dropdown:
        """Offer the model's voices, keeping the current one when the model has it."""
        choices = self.voice_choices(model)
        names = [name for _, name in choices]
        keep = voice if voice in names else self.catalogue.default_voice
        return gr.Dropdown(choices=choices, value=keep if keep in names else names[0])

    def pick_sample(self, index: int) -> tuple:
        sample = self.catalogue.samples[index]
        voices = gr.Dropdown(choices=self.voice_choices(sample.model), value=sample.voice)
        return sample.text, sample.model, voices, official_player(sample)

    def generate(
        self,
        text: str,
        model: str,
        voice: str,
        region: str,
        api_key: str,
        streaming: bool,
        request: gr.Request,
    ) -> Iterator[tuple]:
        """Play the audio as it arrives, then hand over the complete recording and the readout."""
        try:
            prepared = self.synthesizer.prepare(text, voice, model, region)
            speech = self.synthesizer.speak(prepared, region, api_key, streaming, _notify,
                                            visitor=self.synthesizer.visitor(request))
            for pcm in speech:
                for start in range(0, len(pcm), LIVE_PIECE_BYTES):
                    yield pcm_to_wav(pcm[start : start + LIVE_PIECE_BYTES]), gr.skip(), gr.skip()
        except DemoError as err:
            raise _as_gradio_error(err, request) from err
        except Exception as exc:
            raise _unexpected(exc) from exc
        result = speech.result
        yield gr.skip(), pcm_to_wav(result.pcm), _readout(result)

    def synthesize(self, text: str, voice: str, model: str, request: gr.Request) -> str:
        """The public API: a finished 24 kHz mono 16-bit WAV of `text`, spoken by `voice`."""
        settings = self.synthesizer.settings
        try:
            prepared = self.synthesizer.prepare(text, voice, model, settings.default_region)
            speech = self.synthesizer.speak(prepared, settings.default_region,
                                            visitor=self.synthesizer.visitor(request))
            for _ in speech:
                pass
        except DemoError as err:
            raise _as_gradio_error(err, request) from err
        except Exception as exc:
            raise _unexpected(exc) from exc
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(tempfile.mkdtemp(prefix="qwen-tts-")) / f"qwen-tts_{voice}_{stamp}.wav"
        path.write_bytes(pcm_to_wav(speech.result.pcm))
        return str(path)


def build_demo(settings: Settings | None = None, catalogue: Catalogue | None = None) -> gr.Blocks:
    """The whole page, wired to DashScope as the settings say."""
    ensure_ffmpeg()
    catalogue = catalogue or load_catalogue()
    settings = settings or Settings.from_env(catalogue)
    handlers = Handlers(Synthesizer(catalogue, settings))
    api_events = dict(concurrency_limit=settings.concurrency_limit, concurrency_id=CONCURRENCY_ID)

    with gr.Blocks(title="Qwen-TTS Showcase", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(I18N("ui_title"))
        gr.Markdown(I18N("ui_no_key"), visible=not settings.api_key, elem_id="key_notice")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    label=I18N("ui_text"), placeholder=I18N("ui_text_placeholder"),
                    lines=5, max_lines=12, elem_id="text",
                )
                with gr.Row():
                    model = gr.Dropdown(
                        [(f"{m.id} — {m.en}", m.id) for m in catalogue.models],
                        value=catalogue.default_model, label=I18N("ui_model"), elem_id="model",
                    )
                    voice = gr.Dropdown(
                        handlers.voice_choices(catalogue.default_model),
                        value=catalogue.default_voice, label=I18N("ui_voice"),
                        interactive=True, elem_id="voice",
                    )
                with gr.Accordion(I18N("ui_settings"), open=False):
                    region = gr.Radio(
                        [(f"{r.en} · {r.zh}", r.id) for r in catalogue.regions],
                        value=settings.default_region, label=I18N("ui_region"),
                        info=I18N("ui_region_info"), elem_id="region",
                    )
                    streaming = gr.Checkbox(value=True, label=I18N("ui_streaming"), elem_id="streaming")
                    api_key = gr.Textbox(
                        label=I18N("ui_api_key"), info=I18N("ui_api_key_info"), type="password",
                        elem_id="api_key",
                    )
                generate = gr.Button(I18N("ui_generate"), variant="primary", elem_id="generate")
            with gr.Column(scale=2):
                live_audio = gr.Audio(
                    label=I18N("ui_live_audio"), streaming=True, autoplay=True,
                    interactive=False, elem_id="live_audio",
                )
                result_audio = gr.Audio(
                    label=I18N("ui_result_audio"), type="filepath", format="wav",
                    interactive=False, buttons=["download"], elem_id="result_audio",
                )
                readout = gr.Markdown(elem_id="readout")
                official = gr.HTML(elem_id="official_audio")
        gallery = gr.Dataset(
            components=[gr.Textbox(visible=False)],
            samples=[[s.text] for s in catalogue.samples],
            sample_labels=[
                f"{s.voice} · {catalogue.voices[s.voice].variety_zh} · {s.text[:16]}…"
                for s in catalogue.samples
            ],
            type="index", layout="gallery", samples_per_page=14,
            label=I18N("ui_gallery"), elem_id="gallery",
        )
        # The public API endpoint takes plain strings so any model's voice can be asked for.
        api_text, api_voice, api_model = (gr.Textbox(visible=False) for _ in range(3))
        api_file = gr.File(visible=False)

        model.change(handlers.change_model, [model, voice], voice, api_visibility="private")
        gallery.click(handlers.pick_sample, gallery, [text, model, voice, official],
                      api_visibility="private")
        generate.click(
            handlers.generate, [text, model, voice, region, api_key, streaming],
            [live_audio, result_audio, readout], api_name="generate",
            api_visibility="undocumented", **api_events,
        )
        gr.Button(visible=False).click(
            handlers.synthesize, [api_text, api_voice, api_model], api_file,
            api_name="synthesize", **api_events,
        )
    demo.queue(max_size=settings.queue_size)
    return demo
