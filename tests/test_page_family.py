"""The page's parts for the whole family: model marks by region, the qwen3 options, presets, the
code panel's calls, the MCP tool's description. The browser tests drive the same on the page."""

from __future__ import annotations

import gradio as gr
import pytest
import requests

from qwen_tts_showcase.errors import InvalidKeyError
from qwen_tts_showcase.messages import say
from qwen_tts_showcase.snippets import curl_snippet, python_snippet
from qwen_tts_showcase.ui.api import tool_description
from qwen_tts_showcase.ui.code_panel import CodeHandlers
from qwen_tts_showcase.ui.options import (
    OptionHandlers,
    OptionTargets,
    build_instructions,
    build_language,
    language_choices,
    sent_options,
)
from qwen_tts_showcase.ui.regions import (
    model_choices,
    preferred_model,
    region_note,
)
from qwen_tts_showcase.ui.studio import LatestAudio, StudioHandlers, build_player

from .conftest import WAIT_LIMIT_S


def test_every_model_is_listed_in_every_region_and_singapore_marks_what_it_lacks(catalogue):
    beijing, singapore = model_choices(catalogue, "beijing"), model_choices(catalogue, "singapore")
    assert [v for _, v in beijing] == [v for _, v in singapore] == [m.id for m in catalogue.models]
    names = {m.id: m.name for m in catalogue.models}  # readable names (ui/pickers.py)
    assert all(label == names[value] for label, value in beijing)
    marked = {value: label for label, value in singapore if label != names[value]}
    assert set(marked) == {m.id for m in catalogue.models if not m.offered_in("singapore")}
    assert marked["qwen-tts-latest"] == "Qwen-TTS latest · Beijing only · 仅北京"


@pytest.mark.parametrize(
    ("region", "wanted", "chosen"),
    [
        ("beijing", "qwen-tts", "qwen-tts"),
        ("beijing", "", "qwen3-tts-flash"),  # the most dialects
        ("singapore", "qwen-tts-latest", "qwen3-tts-flash"),
        ("singapore", "qwen3-tts-instruct-flash", "qwen3-tts-instruct-flash"),
    ],
)
def test_the_model_kept_is_one_the_region_offers(catalogue, region, wanted, chosen):
    assert preferred_model(catalogue, region, wanted) == chosen


def test_a_marked_model_gets_a_note_naming_where_it_runs_and_the_region_to_switch_to(catalogue):
    note, target = region_note(catalogue, "singapore", "qwen-tts-2025-04-10")
    assert target == "beijing"
    assert "offered in Beijing only, not in Singapore" in note and "仅在北京提供" in note
    assert region_note(catalogue, "singapore", "qwen3-tts-flash") == ("", "")


def test_the_language_list_is_auto_then_the_ten_languages_in_both_scripts(catalogue):
    choices = language_choices(catalogue)
    assert choices[0] == ("Auto-detect · 自动识别", "Auto") and len(choices) == 11
    assert ("Japanese · 日语", "Japanese") in choices


def test_only_the_options_a_model_shows_are_sent(catalogue):
    assert sent_options(catalogue, "qwen-tts-latest", "English", "Whisper.") == {
        "language_type": None,
        "instructions": None,
    }
    assert sent_options(catalogue, "qwen3-tts-flash", "English", "Whisper.") == {
        "language_type": "English",
        "instructions": None,
    }
    assert sent_options(catalogue, "qwen3-tts-instruct-flash", "Auto", "Whisper.") == {
        "language_type": "Auto",
        "instructions": "Whisper.",
    }


def test_the_code_panel_shows_the_options_the_page_sends(catalogue):
    handlers = CodeHandlers(catalogue)
    singapore = catalogue.region("singapore").base_url
    python, curl = handlers.snippets(
        "你好", "Seren", "qwen3-tts-instruct-flash", "singapore", "Chinese", " Whisper\u200b. "
    )
    extra = {"language_type": "Chinese", "instructions": "Whisper."}
    assert python == python_snippet(
        "你好",
        "Seren",
        "qwen3-tts-instruct-flash",
        singapore,
        sdk="multimodal_conversation",
        extra=extra,
    )
    assert curl == curl_snippet("你好", "Seren", "qwen3-tts-instruct-flash", singapore, extra=extra)
    python, curl = handlers.snippets(
        "你好", "Dylan", "qwen3-tts-flash", "beijing", "Auto", "Whisper."
    )
    assert "language_type" not in python + curl and "instructions" not in python + curl


def preset_update(catalogue, text: str, page_language: str) -> tuple:
    """The whisper preset applied on an editor holding `text`: (instructions, text, voice),
    each None when the preset leaves it as it is."""
    with gr.Blocks():
        model = "qwen3-tts-instruct-flash"
        targets = OptionTargets(
            build_language(catalogue, model),
            build_instructions(catalogue, model),
            gr.Textbox(),
            gr.Dropdown(),
        )
    updates = OptionHandlers(catalogue, targets).apply_preset("whisper", text, page_language)
    return tuple(
        updates.get(part) for part in (targets.instructions.text, targets.text, targets.voice)
    )


def test_a_preset_fills_its_instruction_voice_and_line_in_the_pages_language(catalogue):
    whisper = catalogue.preset("whisper")
    instructions, text, voice = preset_update(catalogue, "", "en")
    assert (instructions, text, voice) == (whisper.instructions_en, whisper.text_en, "Seren")
    instructions, text, _ = preset_update(catalogue, catalogue.preset("radio-ad").text_en, "zh-CN")
    assert (instructions, text) == (whisper.instructions_zh, whisper.text_zh)


def test_a_preset_never_replaces_the_visitors_own_text(catalogue):
    instructions, text, voice = preset_update(catalogue, "My own line.", "en")
    assert instructions == catalogue.preset("whisper").instructions_en
    assert text is None, "the text is left as it is"
    assert voice == "Seren"


def test_the_tool_description_names_the_dialect_voices_and_the_regions_models(catalogue):
    beijing = tool_description(catalogue, "beijing")
    assert "Cantonese: Rocky, Kiki" in beijing and "Beijing: Dylan" in beijing
    assert "qwen-tts-latest (7 voices)" in beijing
    assert "every dialect voice is offered by qwen3-tts-flash, " in beijing
    assert "qwen-tts-latest" not in tool_description(catalogue, "singapore")


def test_a_refused_key_is_explained_further_only_when_the_demos_key_changed_region(synthesizer):
    refused = InvalidKeyError(say("key_rejected"))
    hinted = synthesizer.route("singapore").explain(refused)
    assert "This demo's own key belongs to Beijing" in hinted.en and "属于北京" in hinted.zh
    assert synthesizer.route("singapore", "sk-own").explain(refused) is refused
    assert synthesizer.route("beijing").explain(refused) is refused


def test_a_download_of_a_recording_no_longer_on_the_server_says_so(synthesizer, tmp_path):
    with gr.Blocks():
        player = build_player()
    handlers = StudioHandlers(synthesizer, player, gr.State(None), gr.State([]))
    gone = LatestAudio(str(tmp_path / "gone.wav"), "Dylan", "2026-11-26T10:00:00")
    for audio_format in ("wav", "mp3"):
        offer = handlers.offer_download(gone, audio_format)
        assert not offer[player.download]["interactive"]
        assert "no longer on the server" in offer[player.download_info]


def test_the_code_panel_answers_for_a_voice_the_page_has_not_listed_yet(app):
    """Choosing a model starts the panel's event with the voice of the model before, while the
    model's own event replaces the voice list; Gradio's check of a dropdown's choices made the
    panel show "Error" then (seen in CI). The voice picker lets any value through (VoicePicker),
    so a voice list behind or ahead does not matter here."""
    _, url = app
    config = requests.get(url + "config", timeout=WAIT_LIMIT_S).json()
    snippets = next(d["id"] for d in config["dependencies"] if d["api_name"] == "snippets")
    designed = "qwen-tts-vd-someone-voice-20261204"  # not in any list the page was built with
    data = ["你好", designed, "qwen3-tts-vd-2026-01-26", "beijing", "Auto", "", None]
    answer = requests.post(
        url + "gradio_api/run/predict",
        json={"data": data, "fn_index": snippets, "session_hash": "codepanel"},
        timeout=WAIT_LIMIT_S,
    )
    assert answer.status_code == 200, answer.text
    python, curl = answer.json()["data"]
    assert f'voice="{designed}"' in python and designed in curl
