"""A recording for voice cloning, checked before anything is sent: format, size, length, silence.

The uploaded file is decoded by ffmpeg into a pipe (no file of ours; M4A needs a seekable input)
and handed on as a data: URI; the caller removes the upload when the request ends. Nothing here logs or
keeps it.
"""

from __future__ import annotations

import base64
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import ensure_ffmpeg
from .errors import InputError
from .messages import say

MAX_BYTES = 10 * 1024 * 1024  # DashScope's limit for the file
MIN_SECONDS = 3.0
MAX_SECONDS = 60.0
RECOMMENDED_SECONDS = (10.0, 20.0)
SILENCE_RMS = 100  # 16-bit RMS below which nothing is said (a quiet room is about 30 to 60)
DECODE_RATE_HZ = 16_000  # enough to measure length and loudness
DECODE_TIMEOUT_S = 30.0
MIME_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4"}


@dataclass(frozen=True)
class Recording:
    data_uri: str = ""
    seconds: float = 0.0

    @property
    def recommended(self) -> bool:
        low, high = RECOMMENDED_SECONDS
        return low <= self.seconds <= high


def audio_kind(data: bytes) -> str | None:
    """ "wav", "mp3" or "m4a" from the file's first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "m4a"
    return None


def check_recording(path: str | Path | None) -> Recording:
    """The recording as a data: URI with its length, or an InputError saying what to fix."""
    if not path:
        raise InputError(say("clone_audio_missing"))
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise InputError(say("clone_audio_large", mb=MAX_BYTES // (1024 * 1024)))
    data = path.read_bytes()
    kind = audio_kind(data)
    if kind is None:
        raise InputError(say("clone_audio_format"))
    samples = _decode(path)
    seconds = len(samples) / DECODE_RATE_HZ
    if seconds < MIN_SECONDS:
        raise InputError(say("clone_audio_short", seconds=round(seconds, 1), low=MIN_SECONDS))
    if seconds > MAX_SECONDS:
        raise InputError(say("clone_audio_long", seconds=round(seconds, 1), high=MAX_SECONDS))
    if np.sqrt(np.mean(samples.astype(np.float64) ** 2)) < SILENCE_RMS:
        raise InputError(say("clone_audio_silent"))
    encoded = base64.b64encode(data).decode()
    return Recording(f"data:{MIME_TYPES[kind]};base64,{encoded}", seconds)


def _decode(path: Path) -> np.ndarray:
    """Mono 16-bit samples at DECODE_RATE_HZ, out of ffmpeg's pipe; InputError if unreadable."""
    command = [
        ensure_ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        f"file:{path.resolve()}",
        "-ac",
        "1",
        "-ar",
        str(DECODE_RATE_HZ),
        "-f",
        "s16le",
        "pipe:1",
    ]
    try:
        done = subprocess.run(command, capture_output=True, timeout=DECODE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise InputError(say("clone_audio_format")) from exc
    if done.returncode != 0:
        raise InputError(say("clone_audio_format"))
    return np.frombuffer(done.stdout[: len(done.stdout) // 2 * 2], dtype="<i2")
