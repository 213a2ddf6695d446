"""Audio files for visitors to keep: meaningful names, WAV or MP3."""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path

from .audio import pcm_to_mp3, pcm_to_wav

FORMATS = ("wav", "mp3")
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def download_name(voice: str, when: datetime, audio_format: str = "wav") -> str:
    """`qwen-tts_<voice>_<YYYYmmdd-HHMMSS>.<format>`, safe on every file system."""
    if audio_format not in FORMATS:
        raise ValueError(f"unknown audio format {audio_format!r}; choose one of {FORMATS}")
    safe_voice = _UNSAFE.sub("-", voice).strip("-") or "voice"
    return f"qwen-tts_{safe_voice}_{when:%Y%m%d-%H%M%S}.{audio_format}"


def write_download(pcm: bytes, voice: str, when: datetime, audio_format: str = "wav") -> Path:
    """The audio as a file of its own folder, so two visitors' files never share a name."""
    path = Path(tempfile.mkdtemp(prefix="qwen-tts-")) / download_name(voice, when, audio_format)
    path.write_bytes(pcm_to_wav(pcm) if audio_format == "wav" else pcm_to_mp3(pcm))
    return path
