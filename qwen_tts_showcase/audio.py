"""PCM and WAV helpers, and the ffmpeg that Gradio's streaming player needs."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE_HZ = 24_000  # DashScope qwen-tts: 24 kHz, 16-bit signed little-endian, mono
SAMPLE_WIDTH_BYTES = 2
CHANNELS = 1
BYTES_PER_SECOND = SAMPLE_RATE_HZ * SAMPLE_WIDTH_BYTES * CHANNELS
MP3_BITRATE = "64k"  # transparent for 24 kHz mono speech, a sixth of the WAV
ENCODE_TIMEOUT_S = 60.0


class AudioFormatError(ValueError):
    """Bytes that are not the WAV DashScope promises."""


class AudioEncodingError(RuntimeError):
    """ffmpeg failed to encode audio for download."""


def pcm_to_wav(pcm: bytes) -> bytes:
    """Wrap raw 24 kHz mono 16-bit PCM in a WAV header."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(CHANNELS)
        writer.setsampwidth(SAMPLE_WIDTH_BYTES)
        writer.setframerate(SAMPLE_RATE_HZ)
        writer.writeframes(pcm)
    return buffer.getvalue()


def wav_to_pcm(data: bytes) -> bytes:
    """The PCM inside a 24 kHz mono 16-bit WAV; AudioFormatError for anything else."""
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            shape = (reader.getframerate(), reader.getnchannels(), reader.getsampwidth())
            if shape != (SAMPLE_RATE_HZ, CHANNELS, SAMPLE_WIDTH_BYTES):
                raise AudioFormatError(f"unexpected WAV format {shape}")
            return reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"not a WAV file: {exc}") from exc


def pcm_to_mp3(pcm: bytes) -> bytes:
    """An MP3 of raw 24 kHz mono 16-bit PCM, encoded by ffmpeg's libmp3lame."""
    command = [
        ensure_ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(SAMPLE_RATE_HZ),
        "-ac",
        str(CHANNELS),
        "-i",
        "pipe:0",
        "-c:a",
        "libmp3lame",
        "-b:a",
        MP3_BITRATE,
        "-f",
        "mp3",
        "pipe:1",
    ]
    done = subprocess.run(command, input=pcm, capture_output=True, timeout=ENCODE_TIMEOUT_S)
    if done.returncode != 0 or not done.stdout:
        raise AudioEncodingError(f"ffmpeg could not encode MP3: {done.stderr.decode()[-300:]}")
    return done.stdout


def duration_s(pcm: bytes) -> float:
    """Seconds of audio in raw PCM."""
    return len(pcm) / BYTES_PER_SECOND


def ensure_ffmpeg() -> str:
    """Path of an ffmpeg on PATH, putting the one shipped by imageio-ffmpeg there if none is.

    Gradio's streaming player calls `ffmpeg` by name, so a machine without a system ffmpeg gets
    a link to the pip package's binary in a directory of its own at the front of PATH: made
    with mkdtemp (a new name, mode 0700), so no other local user can plant an ffmpeg there.
    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    link_dir = Path(tempfile.mkdtemp(prefix="qwen-tts-showcase-ffmpeg-"))
    link = link_dir / "ffmpeg"
    link.symlink_to(imageio_ffmpeg.get_ffmpeg_exe())
    os.environ["PATH"] = f"{link_dir}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(link)


FADE_BYTES = SAMPLE_RATE_HZ // 100 * SAMPLE_WIDTH_BYTES  # 10 ms: long enough to avoid a click
PART_GAP = b"\0" * (SAMPLE_RATE_HZ * 3 // 20 * SAMPLE_WIDTH_BYTES)  # 150 ms between joined parts


def fade(pcm: bytes, fade_in: bool) -> bytes:
    """PCM with a linear fade in (or out) over its whole length."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    ramp = np.linspace(0.0, 1.0, len(samples), endpoint=False, dtype=np.float32)
    if not fade_in:
        ramp = ramp[::-1]
    return (samples * ramp).astype("<i2").tobytes()
