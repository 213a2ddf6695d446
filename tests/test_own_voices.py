"""The visitor's own voices outside their tabs: the Studio's pickers offer them (only to their
maker) with the VD or VC model, and /synthesize (the MCP tool) refuses them in words."""

from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError

from qwen_tts_showcase.ui.studio import studio_model_choices
from qwen_tts_showcase.ui.widgets import voice_picker
from qwen_tts_showcase.voices import new_owner_token

from .test_voices import SPACE_ON, VC, VD, design, maker_for


def test_the_vd_and_vc_models_offer_only_the_visitors_own_voices_of_their_family(
    simulator, catalogue
):
    maker = maker_for(simulator, catalogue, **SPACE_ON)
    mine, theirs = new_owner_token(), new_owner_token()
    first, _ = design(maker, mine, label="grandpa")
    second, _ = design(maker, mine, label="anchor")
    design(maker, theirs, label="stranger")
    book = maker.book
    picked = voice_picker(catalogue, VD, "", book, mine)
    assert picked.choices == [("grandpa", first.voice), ("anchor", second.voice)]
    assert picked.value == second.voice, "the newest, when none is asked for"
    assert voice_picker(catalogue, VD, first.voice, book, mine).value == first.voice
    assert [label for label, _ in voice_picker(catalogue, VD, "", book, theirs).choices] == [
        "stranger"
    ]
    assert voice_picker(catalogue, VC, first.voice, book, mine).choices == [], "designed ≠ cloned"
    assert voice_picker(catalogue, VD, first.voice, book, "").choices == [], "no token, no voices"
    assert voice_picker(catalogue, VD, first.voice).choices == []
    # A catalogue model is as before: its own voices, the default when the wanted one is missing.
    flash = voice_picker(catalogue, "qwen3-tts-flash", first.voice, book, mine)
    assert flash.value == catalogue.default_voice and first.voice not in str(flash.choices)


def test_the_studios_model_picker_names_the_vd_and_vc_models_by_whose_voices_they_speak(catalogue):
    labels = dict((value, label) for label, value in studio_model_choices(catalogue, "beijing"))
    assert labels[VD] == f"Your designed voices · {VD} · 你设计的音色"
    assert labels[VC] == f"Your cloned voices · {VC} · 你复刻的音色"
    assert [value for _, value in studio_model_choices(catalogue, "beijing")][
        : len(catalogue.models)
    ] == [m.id for m in catalogue.models]


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app(**SPACE_ON)


@pytest.mark.parametrize("model", [VD, VC])
def test_synthesize_refuses_custom_voices_in_words_before_anything_is_sent(app, simulator, model):
    client, _ = app
    with pytest.raises(AppError) as refused:
        client.predict("Hello.", "qwen-tts-vd-grandpa-voice-1", model, api_name="/synthesize")
    assert "private to the browser that made them" in str(refused.value)
    assert "/synthesize and the MCP tool do not speak them" in str(refused.value)
    assert simulator.generation_requests() == []
