"""Audio files for visitors to keep: meaningful names, WAV or MP3."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from .audio import pcm_to_mp3, pcm_to_wav

FORMATS = ("wav", "mp3")
KEEP_S = 6 * 3600  # a download's file stays this long: the page offers MP3 of it on demand
PRUNE_EVERY_S = 60  # the folder is swept at most this often, not on every write
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")


def download_name(voice: str, when: datetime, audio_format: str = "wav") -> str:
    """`qwen-tts_<voice>_<YYYYmmdd-HHMMSS>.<format>`, safe on every file system."""
    if audio_format not in FORMATS:
        raise ValueError(f"unknown audio format {audio_format!r}; choose one of {FORMATS}")
    safe_voice = _UNSAFE.sub("-", voice).strip("-") or "voice"
    return f"qwen-tts_{safe_voice}_{when:%Y%m%d-%H%M%S}.{audio_format}"


def downloads_dir() -> Path:
    return Path(tempfile.gettempdir()) / "qwen-tts-downloads"


def write_download(pcm: bytes, voice: str, when: datetime, audio_format: str = "wav") -> Path:
    """The audio as a file of its own folder, so two visitors' files never share a name.

    Folders older than KEEP_S are removed as new ones are written, so a long-running Space does
    not fill its disk."""
    root = downloads_dir()
    root.mkdir(exist_ok=True)
    prune_downloads(root)
    folder = Path(tempfile.mkdtemp(prefix="qwen-tts-", dir=root))
    path = folder / download_name(voice, when, audio_format)
    path.write_bytes(pcm_to_wav(pcm) if audio_format == "wav" else pcm_to_mp3(pcm))
    return path


def prune_downloads(root: Path) -> None:
    """Remove the folders older than KEEP_S, when the last sweep is PRUNE_EVERY_S old."""
    marker, now = root / ".swept", time.time()
    try:
        if now - marker.stat().st_mtime < PRUNE_EVERY_S:
            return
    except FileNotFoundError:
        pass
    marker.touch()
    for folder in root.iterdir():
        try:
            if folder.is_dir() and folder.stat().st_mtime < now - KEEP_S:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:  # another request swept it first
            pass
