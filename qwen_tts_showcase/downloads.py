"""Audio files for visitors to keep: meaningful names, WAV or MP3, one file per recording.

Every file a visitor may download (a result, a History replay, an MP3, a batch's ZIP) lives in
one folder whose size is bounded: the same recording asked for again, by anyone, in any way, is
the file already made (its folder is named by the audio's checksum), an MP3 is encoded once per
recording by at most MAX_ENCODES ffmpeg processes at a time, and beyond the limit the least
recently used folders are removed. Folders unused for KEEP_S go too.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from .audio import pcm_to_mp3, pcm_to_wav
from .errors import DemoError
from .messages import say

FORMATS = ("wav", "mp3")
KEEP_S = 6 * 3600  # a download's file stays this long unused: the page offers MP3 of it on demand
PRUNE_EVERY_S = 60  # the folder is swept by age at most this often, not on every write
DEFAULT_MAX_BYTES = 1_000 * 1024 * 1024  # all downloads together; Settings.downloads_max_mb
MAX_ENCODES = 2  # ffmpeg processes encoding MP3 at once: one per core of a basic Space
ENCODE_WAIT_S = 10.0  # how long a request waits for an encoder before being told to retry
_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
_encoders = threading.BoundedSemaphore(MAX_ENCODES)
_recording_locks = [threading.Lock() for _ in range(64)]  # by checksum: one writer per recording


def download_name(voice: str, when: datetime, audio_format: str = "wav") -> str:
    """`qwen-tts_<voice>_<YYYYmmdd-HHMMSS>.<format>`, safe on every file system."""
    if audio_format not in FORMATS:
        raise ValueError(f"unknown audio format {audio_format!r}; choose one of {FORMATS}")
    safe_voice = _UNSAFE.sub("-", voice).strip("-") or "voice"
    return f"qwen-tts_{safe_voice}_{when:%Y%m%d-%H%M%S}.{audio_format}"


def downloads_dir() -> Path:
    return Path(tempfile.gettempdir()) / "qwen-tts-downloads"


class _Store:
    """The folder's size, known after the first scan, and its limit."""

    def __init__(self) -> None:
        self.max_bytes = DEFAULT_MAX_BYTES
        self.total: int | None = None
        self.lock = threading.Lock()


_store = _Store()


def set_max_bytes(max_bytes: int) -> None:
    """The most all downloads together may hold (from the settings; at least one file is kept)."""
    _store.max_bytes = max_bytes


def write_download(pcm: bytes, voice: str, when: datetime, audio_format: str = "wav") -> Path:
    """The recording as a file of the format, written only if this recording has none yet.

    Its folder is named by the audio's checksum, so two recordings never share a name and the
    same recording is never written twice: asked again (a cache hit, a History replay, the API)
    it is the file already made, under the name it was first given. DemoError when every MP3
    encoder stays busy for ENCODE_WAIT_S."""
    if audio_format not in FORMATS:
        raise ValueError(f"unknown audio format {audio_format!r}; choose one of {FORMATS}")
    root = _root()
    checksum = hashlib.sha256(pcm).hexdigest()
    folder = root / f"qwen-tts-{checksum[:32]}"
    with _recording_locks[int(checksum[:8], 16) % len(_recording_locks)]:
        made = next(folder.glob(f"*.{audio_format}"), None) if folder.is_dir() else None
        if made is not None:
            _touch(folder)
            return made
        data = pcm_to_wav(pcm) if audio_format == "wav" else _encode_mp3(pcm)
        folder.mkdir(exist_ok=True)
        path = folder / download_name(voice, when, audio_format)
        _write_atomically(path, data)
        _touch(folder)
    added(len(data))
    return path


def new_folder(prefix: str) -> Path:
    """A folder of its own among the downloads (a batch's ZIP); report its files with added()."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=_root()))


def added(size: int) -> None:
    """Count a new file; beyond the limit, remove the least recently used folders."""
    with _store.lock:
        if _store.total is not None:
            _store.total += size
            if _store.total <= _store.max_bytes:
                return
        folders, total = _scan(downloads_dir())
        for _, folder_size, folder in sorted(folders)[:-1]:  # the newest stays, whatever its size
            if total <= _store.max_bytes:
                break
            shutil.rmtree(folder, ignore_errors=True)
            total -= folder_size
        _store.total = total


def prune_downloads(root: Path) -> None:
    """Remove the folders unused for KEEP_S, when the last sweep is PRUNE_EVERY_S old."""
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
                with _store.lock:
                    _store.total = None  # rescanned on the next write
        except FileNotFoundError:  # another request swept it first
            pass


def _root() -> Path:
    root = downloads_dir()
    root.mkdir(exist_ok=True)
    prune_downloads(root)
    return root


def _encode_mp3(pcm: bytes) -> bytes:
    if not _encoders.acquire(timeout=ENCODE_WAIT_S):
        raise DemoError(say("encoder_busy"))
    try:
        return pcm_to_mp3(pcm)
    finally:
        _encoders.release()


def _scan(root: Path) -> tuple[list[tuple[float, int, Path]], int]:
    """(last use, size, folder) of every download folder, and their total."""
    folders, total = [], 0
    for folder in root.iterdir():
        try:
            if not folder.is_dir():
                continue
            size = sum(path.stat().st_size for path in folder.iterdir())
            folders.append((folder.stat().st_mtime, size, folder))
            total += size
        except FileNotFoundError:
            continue
    return folders, total


def _touch(folder: Path) -> None:
    """The folder's mtime is its last use: the age sweep and the size limit go by it (set from
    the clock to the nanosecond: the file system's own stamps may be a few ms coarse)."""
    now = time.time_ns()
    try:
        os.utime(folder, ns=(now, now))
    except OSError:
        pass


def _write_atomically(path: Path, data: bytes) -> None:
    """Written under a temporary name and renamed, so nobody is handed half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
