"""Recordings for cloning are checked before anything is sent, and cloning works end to end:
the recording's checks, the VC model speaking the cloned voice, consent, and no copy left."""

from __future__ import annotations

import base64
import io
import subprocess
import wave

import numpy as np
import pytest

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import ensure_ffmpeg, pcm_to_mp3
from qwen_tts_showcase.errors import InputError
from qwen_tts_showcase.quota import Visitor
from qwen_tts_showcase.recordings import check_recording
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer
from qwen_tts_showcase.voice_maker import VoiceMaker
from qwen_tts_showcase.voices import new_owner_token

from .conftest import simulator_settings

VC = "qwen3-tts-vc-2026-01-22"


def speech_pcm(seconds: float, amplitude: int = 8000, rate: int = 24_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 180 * t)).astype("<i2").tobytes()


def wav_file(tmp_path, seconds=12.0, amplitude=8000, rate=24_000, name="take.wav"):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(speech_pcm(seconds, amplitude, rate))
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def test_a_good_wav_becomes_a_data_uri_with_its_length(tmp_path):
    path = wav_file(tmp_path)
    checked = check_recording(path)
    assert checked.data_uri.startswith("data:audio/wav;base64,")
    assert base64.b64decode(checked.data_uri.split(",", 1)[1]) == path.read_bytes()
    assert checked.seconds == pytest.approx(12.0, abs=0.05) and checked.recommended


def test_an_mp3_is_measured_too(tmp_path):
    path = tmp_path / "take.mp3"
    path.write_bytes(pcm_to_mp3(speech_pcm(5.0)))
    checked = check_recording(path)
    assert checked.data_uri.startswith("data:audio/mpeg;base64,")
    assert checked.seconds == pytest.approx(5.0, abs=0.2) and not checked.recommended


def test_an_m4a_is_measured_too(tmp_path):
    wav = wav_file(tmp_path, seconds=4.0)
    path = tmp_path / "take.m4a"
    command = [ensure_ffmpeg(), "-loglevel", "error", "-i", str(wav), "-c:a", "aac", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    checked = check_recording(path)
    assert checked.data_uri.startswith("data:audio/mp4;base64,")
    assert checked.seconds == pytest.approx(4.0, abs=0.2)


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda tmp: wav_file(tmp, seconds=2.0), "clone_audio_short"),
        (lambda tmp: wav_file(tmp, seconds=61.0, rate=8000), "clone_audio_long"),
        (lambda tmp: wav_file(tmp, amplitude=0), "clone_audio_silent"),
        (lambda tmp: wav_file(tmp, amplitude=20), "clone_audio_silent"),
        (lambda tmp: wav_file(tmp, seconds=59.0, rate=96_000), "clone_audio_large"),
        (
            lambda tmp: (tmp / "notes.txt").write_text("hello") and tmp / "notes.txt",
            "clone_audio_format",
        ),
        (lambda tmp: None, "clone_audio_missing"),
    ],
)
def test_bad_recordings_are_refused_saying_what_to_fix(tmp_path, make, key):
    with pytest.raises(InputError) as refused:
        check_recording(make(tmp_path))
    assert refused.value.msg.key == key


def test_a_cloned_voice_speaks_through_the_vc_model_only_for_its_maker(
    simulator, catalogue, tmp_path
):
    settings = simulator_settings(simulator, catalogue, SHOWCASE_ALLOW_CLONING="1")
    maker, token = VoiceMaker(Synthesizer(catalogue, settings)), new_owner_token()
    checked = check_recording(wav_file(tmp_path))
    voice = maker.clone(
        checked.data_uri,
        "What I said.",
        "me",
        region="beijing",
        token=token,
        visitor=Visitor("s", "i"),
    )
    sent = simulator.customization_requests()[0].body
    assert sent["model"] == "qwen-voice-enrollment" and sent["input"]["target_model"] == VC
    assert sent["input"]["text"] == "What I said." and sent["input"]["preferred_name"] == "me"
    order = SpeechOrder("Hello.", voice.voice, VC, "beijing", owner=token)
    result = maker.synthesizer.speech(order, visitor=Visitor("s", "i")).complete()
    assert result.pcm == render_speech(VC, voice.voice, "Hello.")
    with pytest.raises(InputError):
        maker.synthesizer.plan(SpeechOrder("Hello.", voice.voice, VC, "beijing", owner="x"))


def test_cloning_with_the_space_key_is_off_unless_the_owner_allows_it(
    simulator, catalogue, tmp_path
):
    maker = VoiceMaker(Synthesizer(catalogue, simulator_settings(simulator, catalogue)))
    uri = check_recording(wav_file(tmp_path)).data_uri
    with pytest.raises(InputError) as off:
        maker.clone(uri, "", "me", region="beijing", token="t", visitor=Visitor("s", "i"))
    assert off.value.msg.key == "cloning_off_owner_key"
    assert simulator.customization_requests() == []
