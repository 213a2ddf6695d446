"""Custom voices outside the page: a voice the Space's key made has an API handle,
"<voice id>#<secret>", shown only to its maker, that /synthesize and the MCP tool speak through
the one synthesis path; everything else naming a VD or VC voice is refused in words before
anything is sent. And the Design, Clone and delete page events under the owner's switches and caps."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest
from gradio_client.exceptions import AppError

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import pcm_to_wav
from qwen_tts_showcase.errors import InputError
from qwen_tts_showcase.recordings import check_recording
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.ui.api import tool_description
from qwen_tts_showcase.ui.code_panel import CodeHandlers
from qwen_tts_showcase.ui.voices import (
    CloneHandlers,
    Context,
    DesignHandlers,
    build_own_voices,
    build_voice_storage,
)
from qwen_tts_showcase.voice_maker import VoiceMaker
from qwen_tts_showcase.voices import BOOK_FILE, VoiceBook, api_handle, new_owner_token

from .conftest import BEIJING_KEY, simulator_settings
from .helpers import SPACE_ON, VC, VD, VISITOR, assert_wav_is, call_tool, design, list_tools


def space_maker(simulator, catalogue, **overrides) -> VoiceMaker:
    settings = simulator_settings(simulator, catalogue, **{**SPACE_ON, **overrides})
    return VoiceMaker(Synthesizer(catalogue, settings))


def secret_of(handle: str) -> str:
    return handle.partition("#")[2]


# --- The handle in the core ---------------------------------------------------------------------


def test_a_space_key_voice_has_a_handle_only_its_maker_sees_and_the_book_keeps_only_its_hash(
    simulator, catalogue
):
    maker, token = space_maker(simulator, catalogue), new_owner_token()
    voice, _ = design(maker, token)
    handle = api_handle(voice, token)
    assert handle is not None and handle.startswith(voice.voice + "#")
    assert len(secret_of(handle)) >= 22, "128 bits, urlsafe"
    assert api_handle(voice, new_owner_token()) is None and api_handle(voice, "") is None
    other, _ = design(maker, token, label="anchor")
    assert secret_of(api_handle(other, token)) != secret_of(handle), "random per voice"

    stored = (maker.book.path.parent / BOOK_FILE).read_text()
    assert voice.voice in stored and secret_of(handle) not in stored and token not in stored
    restarted = VoiceBook(maker.book.path.parent)  # what a restart reads back
    assert restarted.by_handle(handle) == voice
    assert restarted.by_handle(voice.voice) is None, "a bare voice id is not a handle"
    assert restarted.by_handle(voice.voice + "#" + "A" * 22) is None
    assert restarted.by_handle(api_handle(other, token).replace(other.voice, voice.voice)) is None

    own, _ = design(maker, new_owner_token(), api_key=BEIJING_KEY)  # a visitor's own key
    assert not own.owner_key and own.api_hash == "" and api_handle(own, token) is None


def test_the_handle_speaks_through_the_one_synthesis_path_until_the_voice_is_deleted(
    simulator, catalogue
):
    maker, token = space_maker(simulator, catalogue), new_owner_token()
    voice, _ = design(maker, token)
    handle = api_handle(voice, token)
    order = SpeechOrder("By my handle.", voice.voice, VD, "beijing", handle=handle)
    assert maker.synthesizer.speech(order, visitor=VISITOR).complete().pcm == render_speech(
        VD, voice.voice, "By my handle."
    )
    assert handle not in repr(order), "the handle is a secret: never in a repr (or a log)"
    maker.delete(voice.voice, token=token)
    before = len(simulator.generation_requests())
    with pytest.raises(InputError) as revoked:
        maker.synthesizer.voices.check_handle(handle, catalogue.model(VD))
    assert revoked.value.msg.key == "voice_api_handle_wrong"
    with pytest.raises(InputError):
        maker.synthesizer.speech(order, visitor=VISITOR)
    assert len(simulator.generation_requests()) == before


# --- /synthesize and the MCP tool ---------------------------------------------------------------


@pytest.fixture
def made(simulator, catalogue, launch_app):
    """A designed and a cloned voice of the Space's key, one of a visitor's own key, then the app
    started on their book (as after a restart), with its client and URL."""
    maker, token = space_maker(simulator, catalogue), new_owner_token()
    designed, _ = design(maker, token)
    recording = Path(maker.settings.cache_dir) / "take.wav"
    recording.write_bytes(pcm_to_wav(tone(12.0)))
    cloned = maker.clone(
        check_recording(recording).data_uri,
        "",
        "me",
        region="beijing",
        token=token,
        visitor=VISITOR,
    )
    own, _ = design(maker, new_owner_token(), label="own", api_key=BEIJING_KEY)
    client, url = launch_app(**SPACE_ON, SHOWCASE_CACHE_DIR=str(maker.settings.cache_dir))
    return SimpleNamespace(
        client=client,
        url=url,
        token=token,
        designed=designed,
        cloned=cloned,
        own=own,
        handle=api_handle(designed, token),
        clone_handle=api_handle(cloned, token),
    )


def tone(seconds: float) -> bytes:
    """A 220 Hz tone at 24 kHz: a recording the checks accept."""
    count = int(24_000 * seconds)
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * 220 * n / 24_000)) for n in range(count))
    )


def test_synthesize_speaks_a_designed_and_a_cloned_voice_by_their_handles(made, simulator, caplog):
    text = "A blog line, through the API, in my own voice."
    wav = made.client.predict(text, made.handle, VD, api_name="/synthesize")
    sent = simulator.generation_requests()[-1]
    assert sent.body["model"] == VD and sent.body["input"] == {
        "text": text,
        "voice": made.designed.voice,
    }
    assert_wav_is(wav, render_speech(VD, made.designed.voice, text))
    assert "grandpa" in Path(wav).name and secret_of(made.handle) not in wav

    wav = made.client.predict(text, made.clone_handle, VC, api_name="/synthesize")
    assert simulator.generation_requests()[-1].body["input"]["voice"] == made.cloned.voice
    assert_wav_is(wav, render_speech(VC, made.cloned.voice, text))
    assert secret_of(made.handle) not in caplog.text


@pytest.mark.parametrize(
    "case",
    ["bare id", "wrong secret", "other family", "own key", "own key bare", "catalogue voice"],
)
def test_synthesize_refuses_everything_but_a_handle_in_words_before_anything_is_sent(
    made, simulator, case
):
    voice, model, words = {
        "bare id": (made.designed.voice, VD, "A bare voice id is not enough"),
        "wrong secret": (made.designed.voice + "#" + "x" * 22, VD, "not a handle this app knows"),
        "other family": (made.handle, VC, f"speaks only through {VD}"),
        "own key": (made.own.voice + "#" + "x" * 22, VD, "Call DashScope directly"),
        "own key bare": (made.own.voice, VD, "lives in that account"),
        "catalogue voice": ("Cherry", VD, "by its handle"),
    }[case]
    before = len(simulator.generation_requests())
    with pytest.raises(AppError) as refused:
        made.client.predict("Hello.", voice, model, api_name="/synthesize")
    assert words in str(refused.value)
    assert voice not in str(refused.value), "what was sent (maybe a secret) is never echoed"
    assert len(simulator.generation_requests()) == before


def test_an_expired_voice_loses_its_handle_across_a_restart(simulator, catalogue, launch_app):
    maker, token = space_maker(simulator, catalogue), new_owner_token()
    voice, _ = design(maker, token)
    book = maker.book.path
    stored = json.loads(book.read_text())
    stored["voices"][0]["created_at"] -= 2 * 3600  # made two hours before this start
    book.write_text(json.dumps(stored))
    client, _ = launch_app(
        **SPACE_ON, SHOWCASE_CACHE_DIR=str(book.parent), SHOWCASE_VOICE_RETENTION_H="1"
    )
    with pytest.raises(AppError, match="deleted or has expired"):
        client.predict("Hello.", api_handle(voice, token), VD, api_name="/synthesize")
    assert simulator.generation_requests() == []


def test_the_mcp_tool_speaks_a_handle_and_says_how(made, simulator):
    (tool,) = list_tools(made.url)
    assert '"<voice id>#<secret>"' in tool.description and VD in tool.description
    assert "API handle" in tool.inputSchema["properties"]["voice"]["description"]
    text = "Spoken for an agent."
    result = call_tool(made.url, {"text": text, "voice": made.handle, "model": VD})
    assert not result.isError
    assert simulator.generation_requests()[-1].body["input"]["voice"] == made.designed.voice
    refused = call_tool(made.url, {"text": text, "voice": made.designed.voice, "model": VD})
    assert refused.isError and "by its handle" in refused.content[0].text


def test_the_tool_description_names_the_vd_and_vc_models_of_the_region(catalogue):
    described = tool_description(catalogue, "beijing")
    assert f"{VD} for designed voices" in described and f"{VC} for cloned voices" in described


def test_the_code_panel_shows_the_maker_the_handle_call_and_others_the_dashscope_call(
    simulator, catalogue
):
    maker, token = space_maker(simulator, catalogue), new_owner_token()
    voice, _ = design(maker, token)
    own, _ = design(maker, token, label="own", api_key=BEIJING_KEY)
    handlers = CodeHandlers(catalogue, maker.book)
    python, curl = handlers.snippets("Hi.", voice.voice, VD, "beijing", "Auto", "", token, None)
    handle = api_handle(voice, token)
    assert "gradio_client" in python and json.dumps(handle) in python
    assert "/gradio_api/call/synthesize" in curl and handle in curl
    for stranger in ("", new_owner_token()):  # never another browser's handle
        python, curl = handlers.snippets("Hi.", voice.voice, VD, "beijing", "Auto", "", stranger)
        assert secret_of(handle) not in python + curl and "dashscope" in python
    python, _ = handlers.snippets("Hi.", own.voice, VD, "beijing", "Auto", "", token)
    assert "dashscope" in python and f'voice="{own.voice}"' in python, "the visitor's own key"


# --- The page events under the owner's switches and caps ----------------------------------------


def page_events(maker: VoiceMaker) -> tuple[DesignHandlers, CloneHandlers, object]:
    """The Design and Clone tabs' handlers as the page wires them."""
    with gr.Blocks():
        connection = SimpleNamespace(
            api_key=gr.Textbox(), streaming=gr.Checkbox(), region=gr.Textbox("beijing")
        )
        context = Context(maker.synthesizer, maker, connection, build_voice_storage(), {})
        panel, own = build_own_voices(context, "design")
        fields = (gr.Textbox(), gr.Textbox(), gr.Textbox())
        designing = DesignHandlers(context, panel, gr.Audio(), fields)
        cloned_panel, _ = build_own_voices(context, "clone")
        cloning = CloneHandlers(context, cloned_panel, gr.Audio())
    return designing, cloning, own


def design_event(handlers: DesignHandlers, token: str, name: str = "grandpa", api_key: str = ""):
    return handlers.design(token, "A warm voice.", "Hello.", name, "beijing", api_key, None)


def clone_event(handlers: CloneHandlers, token: str, folder: Path, api_key: str = ""):
    recording = folder / f"take-{new_owner_token()}.wav"
    recording.write_bytes(pcm_to_wav(tone(12.0)))
    updates = handlers.clone(token, str(recording), "", "me", True, "beijing", api_key, None)
    assert not recording.exists()
    return updates


def test_with_the_switches_off_the_design_and_clone_events_refuse_in_words(
    simulator, catalogue, tmp_path
):
    maker = space_maker(simulator, catalogue, SHOWCASE_ALLOW_DESIGN="", SHOWCASE_ALLOW_CLONING="")
    designing, cloning, _ = page_events(maker)
    token = new_owner_token()
    with pytest.raises(gr.Error) as refused:  # its message is the page's calm toast (HTML)
        design_event(designing, token)
    assert "Designing voices with this demo's own key is turned off" in refused.value.message
    with pytest.raises(gr.Error) as refused:
        clone_event(cloning, token, tmp_path)
    assert "Cloning voices with this demo's own key is turned off" in refused.value.message
    assert simulator.customization_requests() == []
    # The visitor's own key is not the owner's to switch off.
    design_event(designing, token, api_key=BEIJING_KEY)
    clone_event(cloning, token, tmp_path, api_key=BEIJING_KEY)
    assert len(simulator.customization_requests()) == 2


def test_with_the_caps_reached_the_design_and_clone_events_refuse_in_words(
    simulator, catalogue, tmp_path
):
    maker = space_maker(
        simulator, catalogue, SHOWCASE_VOICES_PER_VISITOR_DAY="1", SHOWCASE_VOICES_PER_DAY="2"
    )
    designing, cloning, _ = page_events(maker)
    first = new_owner_token()
    design_event(designing, first)
    with pytest.raises(gr.Error, match="the most one visitor may"):
        design_event(designing, first)
    with pytest.raises(gr.Error, match="the most one visitor may"):
        clone_event(cloning, first, tmp_path)
    assert len(simulator.customization_requests()) == 1
    design_event(designing, new_owner_token())  # a second visitor: the Space's cap is reached
    with pytest.raises(gr.Error, match="made its 2 voices for today"):
        clone_event(cloning, new_owner_token(), tmp_path)
    with pytest.raises(gr.Error, match="made its 2 voices for today"):
        design_event(designing, new_owner_token())
    assert len(simulator.customization_requests()) == 2


def test_the_delete_event_refuses_in_words_what_is_not_the_visitors_to_delete(simulator, catalogue):
    maker = space_maker(simulator, catalogue)
    designing, _, own = page_events(maker)
    token = new_owner_token()
    design_event(designing, token)
    design_event(designing, token, name="own", api_key=BEIJING_KEY)
    space_voice, own_voice = maker.book.mine(token)
    with pytest.raises(gr.Error, match="not one of the voices you made"):
        own.delete(new_owner_token(), space_voice.voice, "", None)
    with pytest.raises(gr.Error, match="paste the key you made it with"):
        own.delete(token, own_voice.voice, "", None)
    with pytest.raises(gr.Error, match="Pick one of your voices first"):
        own.delete(token, "", "", None)
    assert space_voice.voice in simulator.voice_store.voices
    # With the switches off, the maker still deletes what the Space's key made.
    off = space_maker(simulator, catalogue, SHOWCASE_ALLOW_DESIGN="", SHOWCASE_ALLOW_CLONING="")
    off.book._voices = dict(maker.book._voices)
    _, _, own_off = page_events(off)
    own_off.delete(token, space_voice.voice, "", None)
    assert space_voice.voice not in simulator.voice_store.voices
