"""The simulator's stand-in for speech: deterministic PCM, and the WAV file behind `audio.url`.

Kept apart from the app's audio module on purpose: the simulator is the other side of the wire,
so a bug in the app's WAV handling cannot hide behind the same code here.
"""

from __future__ import annotations

import hashlib
import io
import wave

import numpy as np

SAMPLE_RATE_HZ = 24_000


def speech_seconds(text: str) -> float:
    """A plausible length of speech for text: 0.22 s per ideograph, 0.06 s per other letter."""
    han = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    other = sum(1 for ch in text if ch.isalnum()) - han
    pauses = sum(1 for ch in text if ch in ",.!?;:，。！？；：、")
    return max(0.5, 0.22 * han + 0.06 * other + 0.12 * pauses)


def render_speech(
    model: str, voice: str, text: str, seconds: float | None = None, style: str = ""
) -> bytes:
    """Deterministic 24 kHz mono s16le "speech": voiced tones, one syllable per 0.2 s.

    `style` (the language_type and instructions sent, if any) changes the audio as it would on
    the real service, so a test can tell two deliveries of one text apart.
    """
    seconds = speech_seconds(text) if seconds is None else seconds
    count = int(round(seconds * SAMPLE_RATE_HZ))
    key = f"{model}|{voice}|{text}" + (f"|{style}" if style else "")
    seed = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    rng = np.random.default_rng(seed)
    syllable = int(0.2 * SAMPLE_RATE_HZ)
    pitches = rng.uniform(110, 260, size=count // syllable + 1)
    t = np.arange(count) / SAMPLE_RATE_HZ
    pitch = np.repeat(pitches, syllable)[:count]
    envelope = np.sin(np.pi * (np.arange(count) % syllable) / syllable) ** 2
    wave_ = np.sin(2 * np.pi * pitch * t) + 0.3 * np.sin(4 * np.pi * pitch * t)
    return (wave_ * envelope * 9000).astype("<i2").tobytes()


def wav_bytes(pcm: bytes) -> bytes:
    """The WAV file DashScope serves behind audio.url: 24 kHz, mono, 16-bit."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE_HZ)
        writer.writeframes(pcm)
    return buffer.getvalue()
