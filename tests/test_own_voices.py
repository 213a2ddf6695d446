"""The visitor's own voices outside their tabs: the Studio's pickers offer them (only to their
maker) with the VD or VC model, and /synthesize (the MCP tool) refuses them in words without
their API handle (tests/test_voice_api.py speaks them with it)."""

from __future__ import annotations

import zipfile

import gradio as gr
import pytest
from gradio_client.exceptions import AppError

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.batch import BatchRow, run_batch
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.ui.compare import CompareHandlers, build_slot
from qwen_tts_showcase.ui.regions import speaking_model_choices
from qwen_tts_showcase.ui.widgets import voice_picker
from qwen_tts_showcase.voices import new_owner_token

from .helpers import SPACE_ON, VC, VD, design, maker_for


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
    labels = dict((value, label) for label, value in speaking_model_choices(catalogue, "beijing"))
    assert labels[VD] == f"Your designed voices · {VD} · 你设计的音色"
    assert labels[VC] == f"Your cloned voices · {VC} · 你复刻的音色"
    assert [value for _, value in speaking_model_choices(catalogue, "beijing")][
        : len(catalogue.models)
    ] == [m.id for m in catalogue.models]


def test_a_batch_row_may_name_the_makers_own_voice_and_only_the_maker_hears_it(
    simulator, catalogue, tmp_path
):
    maker, mine = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, mine)
    rows = [
        BatchRow(2, "My own voice, in a batch.", voice.voice, VD),
        BatchRow(3, "And a catalogue voice beside it.", "Cherry", "qwen3-tts-flash"),
        BatchRow(4, "By the name I gave it.", "grandpa", VD),
    ]
    before = len(simulator.generation_requests())
    ran = run_batch(
        rows, maker.synthesizer, tmp_path / "a", "beijing", visitor=Visitor("s", ""), owner=mine
    )
    assert [o.status for o in ran.outcomes] == ["ok", "ok", "ok"]
    with zipfile.ZipFile(ran.zip_path) as archive:
        own = wav_to_pcm(archive.read(ran.outcomes[0].file))
        by_label = wav_to_pcm(archive.read(ran.outcomes[2].file))
    assert own == render_speech(VD, voice.voice, "My own voice, in a batch.")
    assert by_label == render_speech(VD, voice.voice, "By the name I gave it.")
    sent = simulator.generation_requests()[before]
    assert sent.body["model"] == VD and sent.body["input"]["voice"] == voice.voice

    before = len(simulator.generation_requests())
    stranger = run_batch(
        [rows[0], rows[2]],
        maker.synthesizer,
        tmp_path / "b",
        "beijing",
        visitor=Visitor("t", ""),
        owner=new_owner_token(),
    )
    for refused in stranger.outcomes:
        assert refused.status == "failed" and "not one of the voices you made" in refused.error
    assert len(simulator.generation_requests()) == before, "nothing sent for a stranger"


@pytest.fixture(scope="module")
def app(launch_app):
    return launch_app(**SPACE_ON)


@pytest.mark.parametrize("model", [VD, VC])
def test_synthesize_refuses_custom_voices_without_their_handle_before_anything_is_sent(
    app, simulator, model
):
    client, _ = app
    with pytest.raises(AppError) as refused:
        client.predict("Hello.", "qwen-tts-vd-grandpa-voice-1", model, api_name="/synthesize")
    assert "only by its handle" in str(refused.value)
    assert "A bare voice id is not enough" in str(refused.value)
    assert simulator.generation_requests() == []


def test_compare_offers_and_speaks_the_makers_own_voices_only(simulator, catalogue):
    maker, mine = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    first, _ = design(maker, mine, label="grandpa")
    second, _ = design(maker, mine, label="anchor")
    with gr.Blocks():
        slots = [build_slot(index) for index in range(4)]
    handlers = CompareHandlers(maker.synthesizer, slots, gr.State([]))
    offered = handlers.change_model(VD, [first.voice, "Cherry"], mine)
    assert offered.choices == [("grandpa", first.voice), ("anchor", second.voice)]
    assert offered.value == [first.voice]
    assert handlers.change_model(VD, [], new_owner_token()).choices == []
    assert handlers.change_region("singapore", VD).value == VD, "offered there too: kept"

    text = "Two voices of my own, side by side."
    updates = list(
        handlers.compare(
            text, VD, [first.voice, second.voice], "beijing", "", True, "Auto", mine, None
        )
    )
    assert (
        "grandpa" in updates[0][slots[0].heading] and "Your voice" in updates[0][slots[0].heading]
    )
    heard = {
        slot_index: wav_to_pcm(update[slot.audio])
        for update in updates
        for slot_index, slot in enumerate(slots)
        if update.get(slot.audio) is not None
    }
    assert heard == {
        0: render_speech(VD, first.voice, text),
        1: render_speech(VD, second.voice, text),
    }
    assert len(updates[-1][handlers.new_rows]) == 2

    before = len(simulator.generation_requests())
    with pytest.raises(gr.Error, match="not one of the voices you made"):
        list(
            handlers.compare(
                text,
                VD,
                [first.voice, second.voice],
                "beijing",
                "",
                True,
                "Auto",
                new_owner_token(),
                None,
            )
        )
    assert len(simulator.generation_requests()) == before, "nothing sent for a stranger"
