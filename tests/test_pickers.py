"""Pickers that help choose and a presenter's gallery (issue 11, points 6 and 8): model lines
counted from the catalogue, the region's default model, voice previews read from the cache
only, and cached gallery lines counted against the cached answers, not the syntheses."""

from __future__ import annotations

import html
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio_client.exceptions import AppError

from qwen_tts_showcase.pack import gallery_items, preview_items, render
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.ui.pickers import (
    PickerHandlers,
    VoiceCard,
    model_line,
    preview_model,
    voice_card_html,
)
from qwen_tts_showcase.ui.regions import model_choices, preferred_model
from qwen_tts_showcase.ui.studio import StudioHandlers, build_player

from .conftest import simulator_settings
from .helpers import assert_wav_is, generate


def request(session: str = "presenter") -> SimpleNamespace:
    """What the handlers read of a gr.Request: a session and the socket's address."""
    return SimpleNamespace(
        headers={}, client=SimpleNamespace(host="198.51.100.7"), session_hash=session
    )


def cached_settings(simulator, catalogue, tmp_path, **overrides):
    cache = {"SHOWCASE_CACHE_MAX_MB": "50", "SHOWCASE_CACHE_DIR": str(tmp_path / "cache")}
    return simulator_settings(simulator, catalogue, **{**cache, **overrides})


# --- Models: readable names, a counted line, the default ----------------------------------------


def test_the_model_line_is_counted_from_the_catalogue(catalogue):
    assert model_line(catalogue, "qwen3-tts-flash").en == (
        "Qwen3-TTS Flash · 49 voices · 9 Chinese varieties · 10 languages"
    )
    assert model_line(catalogue, "qwen3-tts-flash").zh == (
        "Qwen3-TTS Flash · 49 种音色 · 9 种汉语方言 · 10 种语言"
    )
    for model in catalogue.models:
        varieties = {catalogue.voices[v].variety for v in model.voices}
        line = model_line(catalogue, model.id).en
        assert line.startswith(f"{model.name} · {len(model.voices)} voices · ")
        assert (f"{len(varieties)} Chinese varieties" in line) == (len(varieties) > 1)
        assert (f"{len(model.language_types) - 1} languages" in line) == bool(model.language_types)
    assert model_line(catalogue, "qwen-tts").en == (
        "Qwen-TTS · 4 voices · Mandarin only · Chinese and English"
    )


def test_models_are_listed_by_readable_name_and_sent_by_id(catalogue):
    choices = model_choices(catalogue, "beijing")
    assert [value for _, value in choices] == [m.id for m in catalogue.models]
    assert ("Qwen3-TTS Instruct Flash", "qwen3-tts-instruct-flash") in choices
    assert all(label != value for label, value in choices), "no raw id as a label"


@pytest.mark.parametrize("region", ["beijing", "singapore"])
def test_the_default_model_has_the_most_dialects_in_the_region(catalogue, region):
    default = catalogue.default_model_in(region)
    most = max(len(catalogue.varieties_of(m.id)) for m in catalogue.models_in(region))
    assert len(catalogue.varieties_of(default)) == most == 9
    assert default == "qwen3-tts-flash"  # the first of the three with all nine, in list order
    assert preferred_model(catalogue, region) == default  # what the page opens on


# --- Voices: grouped, with gender and a character line ------------------------------------------


def test_every_voice_has_a_gender_a_character_line_and_a_preview_line(catalogue):
    for voice in catalogue.voices.values():
        card = voice_card_html(catalogue, voice.name)
        assert html.escape(voice.character_en) in card and voice.character_zh in card
        assert voice.label.endswith(" · ♀") or voice.label.endswith(" · ♂")
        line = catalogue.preview_text(voice.name)
        assert voice.name in line or voice.zh_name in line  # the voice introduces itself
    lines = [catalogue.preview_text(name) for name in catalogue.voices]
    assert len(set(lines)) == len(lines)


def test_voices_made_for_another_language_are_grouped_by_it(catalogue):
    assert catalogue.voices["Ono Anna"].label == "Ono Anna · 日语 Japanese · ♀"
    assert catalogue.voices["Sohee"].group[0] == "Korean"
    assert catalogue.voices["Dylan"].group[0] == "beijing"
    mandarin = [v.name for v in catalogue.voices.values() if v.group[0] == "mandarin"]
    assert "Sonrisa" not in mandarin and "Cherry" in mandarin


# --- Previews: from the cache only --------------------------------------------------------------


def handlers(synthesizer: Synthesizer) -> PickerHandlers:
    card = VoiceCard(gr.HTML(), gr.HTML(), gr.Button(), gr.Audio())
    return PickerHandlers(synthesizer, card)


def test_a_preview_is_the_packs_recording_and_never_a_synthesis(simulator, catalogue, tmp_path):
    settings = cached_settings(simulator, catalogue, tmp_path, SHOWCASE_VISITOR_REQUESTS="1")
    packer = Synthesizer(catalogue, settings)
    items = [i for i in preview_items(catalogue, "beijing") if i.voice in ("Dylan", "Roy")]
    assert render(packer, items, "beijing").rendered == 2
    simulator.clear()
    picker = handlers(Synthesizer(catalogue, settings))  # a later start of the app, same cache
    card = picker.card
    for _ in range(3):  # past the one synthesis a minute the visitor may start
        shown = picker.preview("Dylan", "qwen-tts-latest", "beijing", request())
        wav = shown[card.audio]["value"]
        assert "ready-made recording" in shown[card.voice]
    dylan = SpeechOrder(items[0].text, "Dylan", items[0].model, "beijing")
    pcm = packer.cache.get(packer.plan(dylan).cache_key).pcm
    path = tmp_path / "preview.wav"
    path.write_bytes(wav)
    assert_wav_is(str(path), pcm)
    missing = picker.preview("Kiki", "qwen3-tts-flash", "beijing", request())
    assert missing[card.audio]["visible"] is False
    assert "No preview of Kiki is ready yet. Press Generate" in missing[card.voice]
    assert simulator.generation_requests() == []


def test_previews_count_against_the_cached_answers(simulator, catalogue, tmp_path):
    settings = cached_settings(simulator, catalogue, tmp_path, SHOWCASE_CACHED_REQUESTS="2")
    picker = handlers(Synthesizer(catalogue, settings))
    for _ in range(2):
        picker.preview("Dylan", "qwen3-tts-flash", "beijing", request())
    refused = picker.preview("Dylan", "qwen3-tts-flash", "beijing", request())
    assert "ready-made recordings in the last" in refused[picker.card.voice]
    assert refused[picker.card.audio]["visible"] is False
    other = picker.preview("Dylan", "qwen3-tts-flash", "beijing", request("someone-else"))
    assert "ready-made recordings" not in other[picker.card.voice]
    assert simulator.generation_requests() == []


def test_a_preview_uses_the_model_the_pack_rendered(catalogue):
    # the region's default model, whatever model is chosen, as long as it has the voice
    assert preview_model(catalogue, "Dylan", "qwen-tts-latest", "beijing") == "qwen3-tts-flash"
    assert preview_model(catalogue, "Cherry", "qwen-tts", "singapore") == "qwen3-tts-flash"


# --- A presenter: the gallery from the pack ------------------------------------------------------


def test_a_presenter_clicks_every_gallery_card_past_the_synthesis_limit(
    launch_app, simulator_server, catalogue, tmp_path
):
    """Ten syntheses a minute per visitor, as by default: after the pack, every card the gallery
    offers plays from the cache (more than ten within the minute), nothing reaches DashScope,
    and the visitor's ten syntheses are still all there afterwards."""
    settings = cached_settings(simulator_server, catalogue, tmp_path)
    lines = gallery_items(catalogue, "beijing")
    assert render(Synthesizer(catalogue, settings), lines, "beijing").failed == []
    simulator_server.clear()
    client, _ = launch_app(
        SHOWCASE_CACHE_MAX_MB="50",
        SHOWCASE_CACHE_DIR=str(tmp_path / "cache"),
        SHOWCASE_VISITOR_REQUESTS="10",
        SHOWCASE_VISITOR_WINDOW_S="60",
    )
    assert len(lines) > 10
    for line in lines:  # as a card fills the editor and presses Generate
        _, (_, _, readout) = generate(client, text=line.text, model=line.model, voice=line.voice)
        assert 'data-cached="true"' in readout
    assert simulator_server.generation_requests() == []
    for number in range(10):  # the syntheses are untouched by all those cached answers
        generate(client, text=f"A line of my own, number {number}.", model="qwen3-tts-flash")
    with pytest.raises(AppError, match="try again|Try again"):
        generate(client, text="One more than the limit.", model="qwen3-tts-flash")
    assert len(simulator_server.generation_requests()) == 10


def test_the_voices_follow_a_region_change_only_when_the_model_had_to_change(synthesizer):
    """A region change that keeps the model leaves the voice alone (a voice picked meanwhile
    stays); one that imposes another model offers that model's voices, keeping the voice."""
    with gr.Blocks():
        player = build_player()
    studio = StudioHandlers(synthesizer, player, gr.State(None), gr.State([]))
    models, voices = studio.follow_region("singapore", "qwen3-tts-flash", "Sunny")
    assert models.constructor_args["value"] == "qwen3-tts-flash"
    assert voices == gr.skip()
    models, voices = studio.follow_region("singapore", "qwen-tts-latest", "Sunny")
    assert models.constructor_args["value"] == "qwen3-tts-flash"
    assert voices.constructor_args["value"] == "Sunny"
    assert len(voices.constructor_args["choices"]) == 49
