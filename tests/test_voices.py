"""Voices of one's own through the app's core against the simulator: designing, speaking through
the one synthesis path, ownership, the owner's switches and caps, the budget, deleting, retention
across a restart, and every customization failure in words."""

from __future__ import annotations

import base64
import json
import time

import pytest

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import wav_to_pcm
from qwen_tts_showcase.dashscope_client import Upstream, VoiceService
from qwen_tts_showcase.errors import DashScopeError, InputError, LimitReachedError
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.voice_maker import VoiceMaker
from qwen_tts_showcase.voices import BOOK_FILE, VoiceBook, new_owner_token

from .conftest import BEIJING_KEY, simulator_settings, wait_until
from .helpers import DESCRIPTION, SPACE_ON, VC, VD, VISITOR, design, maker_for


def speak(maker, voice, token, model=VD, text="Hello from my own voice.", region="beijing"):
    order = SpeechOrder(text, voice, model, region, owner=token)
    return maker.synthesizer.speech(order, visitor=VISITOR).complete()


def test_a_designed_voice_previews_and_then_speaks_through_the_one_synthesis_path(
    simulator, catalogue
):
    maker, token = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, preview = design(maker, token)
    sent = simulator.customization_requests()[0].body
    assert sent["model"] == "qwen-voice-design" and sent["input"]["target_model"] == VD
    assert sent["input"]["voice_prompt"] == DESCRIPTION
    assert sent["parameters"] == {"response_format": "wav", "sample_rate": 24_000}
    assert wav_to_pcm(preview) == render_speech(VD, voice.voice, "Once upon a time.")
    assert voice.label == "grandpa" and voice.owner_key
    result = speak(maker, voice.voice, token)
    assert result.pcm == render_speech(VD, voice.voice, "Hello from my own voice.")
    assert simulator.generation_requests()[-1].body["input"]["voice"] == voice.voice
    assert [v.voice for v in maker.book.mine(token)] == [voice.voice]
    assert maker.book.mine(new_owner_token()) == []


def test_a_voice_speaks_only_for_its_maker_and_only_through_its_family(simulator, catalogue):
    maker, token = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, token)
    before = len(simulator.generation_requests())
    with pytest.raises(InputError) as stranger:
        speak(maker, voice.voice, new_owner_token())
    assert stranger.value.msg.key == "custom_voice_not_yours"
    with pytest.raises(InputError) as wrong_family:
        speak(maker, voice.voice, token, model=VC)
    assert wrong_family.value.msg.key == "custom_voice_wrong_model" and VD in wrong_family.value.en
    with pytest.raises(InputError):
        speak(maker, voice.voice, token, model="qwen3-tts-flash")
    assert len(simulator.generation_requests()) == before, "refused before anything was sent"


def test_a_voice_speaks_only_in_the_region_it_was_made_in(simulator, catalogue):
    maker, token = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, token)  # in Beijing
    before = len(simulator.generation_requests())
    with pytest.raises(InputError) as elsewhere:
        speak(maker, voice.voice, token, region="singapore")
    assert elsewhere.value.msg.key == "custom_voice_other_region"
    assert "Beijing" in elsewhere.value.en and "北京" in elsewhere.value.zh
    assert len(simulator.generation_requests()) == before, "refused before anything was sent"


def test_with_the_space_key_designing_is_off_unless_the_owner_allows_it(simulator, catalogue):
    maker = maker_for(simulator, catalogue)
    with pytest.raises(InputError) as off:
        design(maker, new_owner_token())
    assert off.value.msg.key == "design_off_owner_key"
    assert simulator.customization_requests() == []
    own_key, _ = design(maker, new_owner_token(), api_key=BEIJING_KEY)  # the visitor's own key
    assert not own_key.owner_key


def test_space_key_caps_per_visitor_and_per_day(simulator, catalogue):
    maker = maker_for(
        simulator,
        catalogue,
        **SPACE_ON,
        SHOWCASE_VOICES_PER_VISITOR_DAY="1",
        SHOWCASE_VOICES_PER_DAY="2",
    )
    first, second, third = new_owner_token(), new_owner_token(), new_owner_token()
    design(maker, first, visitor=Visitor("a", "10.0.0.1"))
    with pytest.raises(LimitReachedError) as mine:
        design(maker, first, visitor=Visitor("a", "10.0.0.9"))
    assert mine.value.msg.key == "voices_visitor_cap" and mine.value.retry_after_s > 0
    with pytest.raises(LimitReachedError):  # a cleared browser, same address: same visitor
        design(maker, new_owner_token(), visitor=Visitor("b", "10.0.0.1"))
    design(maker, second, visitor=Visitor("c", "10.0.0.2"))
    with pytest.raises(LimitReachedError) as space:
        design(maker, third, visitor=Visitor("d", "10.0.0.3"))
    assert space.value.msg.key == "voices_space_cap"
    design(maker, third, api_key=BEIJING_KEY)  # own keys are not capped here
    assert len(simulator.customization_requests()) == 3


def test_every_created_voice_counts_against_the_daily_budget_and_failures_are_refunded(
    simulator, catalogue
):
    maker = maker_for(simulator, catalogue, **SPACE_ON, SHOWCASE_DAILY_CHAR_BUDGET="30000")
    simulator.enqueue_voice_fault("internal_error")
    with pytest.raises(DashScopeError):
        design(maker, new_owner_token())
    assert maker.synthesizer.quota.spent_today() == 0, "a voice not made is refunded"
    design(maker, new_owner_token())
    assert maker.synthesizer.quota.spent_today() == 20_000
    with pytest.raises(LimitReachedError):
        design(maker, new_owner_token())


def test_delete_removes_the_voice_from_dashscope_and_from_the_book(simulator, catalogue):
    maker, token = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, token)
    with pytest.raises(InputError):
        maker.delete(voice.voice, token=new_owner_token())  # not theirs
    service = VoiceService(maker.synthesizer.route("beijing").open())
    assert service.list_voices("design") == [voice.voice]
    maker.delete(voice.voice, token=token)
    assert voice.voice not in simulator.voice_store.voices
    assert service.list_voices("design") == []
    assert maker.book.mine(token) == []
    with pytest.raises(InputError):
        speak(maker, voice.voice, token)


def test_a_voice_deleted_elsewhere_is_said_in_words_and_can_still_be_removed(simulator, catalogue):
    maker, token = maker_for(simulator, catalogue, **SPACE_ON), new_owner_token()
    voice, _ = design(maker, token)
    del simulator.voice_store.voices[voice.voice]
    with pytest.raises(DashScopeError) as gone:
        speak(maker, voice.voice, token)
    assert gone.value.msg.key == "voice_gone"
    maker.delete(voice.voice, token=token)
    assert maker.book.mine(token) == []


def test_retention_deletes_the_space_keys_voices_after_a_restart(simulator, catalogue):
    settings = simulator_settings(simulator, catalogue, **SPACE_ON, SHOWCASE_VOICE_RETENTION_H="1")
    maker, token = VoiceMaker(Synthesizer(catalogue, settings)), new_owner_token()
    kept_by_space, _ = design(maker, token)
    own, _ = design(maker, token, label="mine", api_key=BEIJING_KEY)
    assert maker.sweep() == [], "not yet expired"
    stored = json.loads((settings.cache_dir / BOOK_FILE).read_text())
    assert {row["voice"] for row in stored["voices"]} == {kept_by_space.voice, own.voice}
    assert token not in (settings.cache_dir / BOOK_FILE).read_text(), "only the token's hash"

    restarted = Synthesizer(catalogue, settings)  # a new process reads the same book
    restarted.voices = VoiceBook(settings.cache_dir, clock=lambda: time.time() + 2 * 3600)
    assert VoiceMaker(restarted).sweep() == [kept_by_space.voice]
    assert kept_by_space.voice not in simulator.voice_store.voices
    assert own.voice in simulator.voice_store.voices, "visitors' own voices are theirs to keep"
    assert [v.voice for v in VoiceBook(settings.cache_dir).mine(token)] == [own.voice]


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ("prompt_too_long", "voice_description_too_long"),
        ("invalid_name", "voice_name_invalid"),
        ("voice_limit", "voice_limit_reached"),
        ("wrong_target", "voice_wrong_model"),
        ("audio_too_short", "voice_audio_too_short"),
        ("audio_too_long", "voice_audio_too_long"),
        ("audio_too_large", "voice_audio_too_large"),
        ("audio_silent", "voice_audio_silent"),
        ("audio_format", "voice_audio_format"),
        ("transcript_mismatch", "voice_transcript_mismatch"),
        ("throttling", "throttled"),
        ("invalid_key", "key_rejected"),
    ],
)
def test_every_customization_failure_in_words(simulator, catalogue, fault, key):
    maker = maker_for(simulator, catalogue, **SPACE_ON)
    simulator.enqueue_voice_fault(fault)
    with pytest.raises(DashScopeError) as failed:
        design(maker, new_owner_token())
    assert failed.value.msg.key == key
    assert failed.value.zh and failed.value.en
    assert maker.book.mine("anyone") == []


@pytest.mark.parametrize(
    ("description", "preview", "label", "key"),
    [
        ("x" * 2049, "Hi.", "ok", "voice_description_long"),
        ("", "Hi.", "ok", "voice_description_missing"),
        (DESCRIPTION, "", "ok", "voice_preview_missing"),
        (DESCRIPTION, "Hi.", "not a name!", "voice_name_rules"),
        (DESCRIPTION, "Hi.", "x" * 17, "voice_name_rules"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    simulator, catalogue, description, preview, label, key
):
    maker = maker_for(simulator, catalogue, **SPACE_ON)
    with pytest.raises(InputError) as refused:
        maker.design(
            description, preview, label, region="beijing", token="t", visitor=Visitor("s", "i")
        )
    assert refused.value.msg.key == key
    assert simulator.customization_requests() == []


def test_the_preview_is_a_wav_file(simulator, catalogue):
    maker = maker_for(simulator, catalogue, **SPACE_ON)
    _, preview = design(maker, new_owner_token())
    assert preview[:4] == b"RIFF" and base64.b64encode(preview)


def test_a_restarted_app_deletes_the_space_keys_expired_voices(simulator, catalogue, launch_app):
    settings = simulator_settings(simulator, catalogue, **SPACE_ON)
    maker, token = VoiceMaker(Synthesizer(catalogue, settings)), new_owner_token()
    voice, _ = design(maker, token)
    book = settings.cache_dir / BOOK_FILE
    stored = json.loads(book.read_text())
    stored["voices"][0]["created_at"] -= 2 * 3600  # made two hours before this start
    book.write_text(json.dumps(stored))
    launch_app(SHOWCASE_CACHE_DIR=str(settings.cache_dir), SHOWCASE_VOICE_RETENTION_H="1")
    wait_until(lambda: voice.voice not in simulator.voice_store.voices, "the expired voice deleted")
    wait_until(lambda: voice.voice not in book.read_text(), "the book to forget it")


def test_an_unreachable_customization_route_is_said_in_words():
    nowhere = Upstream("http://127.0.0.1:9/api/v1", "sk-sim-beijing", connect_timeout_s=2)
    with pytest.raises(DashScopeError) as failed:
        VoiceService(nowhere).design(VD, DESCRIPTION, "Hi.", "x")
    assert failed.value.msg.key == "connection_refused"
