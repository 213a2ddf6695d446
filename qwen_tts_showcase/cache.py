"""Finished syntheses on disk, addressed by what made them; least recently used evicted.

Each entry is `<key>.wav` (playable as is) plus `<key>.json` (checksum and usage), both written
to a temporary file and renamed into place, the JSON last: an entry without its JSON, or whose
audio does not match the checksum, is never served and is removed when found.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .audio import AudioFormatError, pcm_to_wav, wav_to_pcm

log = logging.getLogger(__name__)

ORPHAN_AGE_S = 3600  # a file without its JSON this old was left by a crash


def cache_key(fields: dict) -> str:
    """sha256 over exactly the fields that change the audio."""
    return hashlib.sha256(
        json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


@dataclass(frozen=True)
class CachedAudio:
    pcm: bytes
    usage: dict
    billing: str
    request_id: str
    request: dict  # the fields the key was made from


class Flight:
    """One synthesis under way; identical requests wait for its audio instead of sending their
    own (single flight). `audio` stays None when it failed or was abandoned."""

    def __init__(self) -> None:
        self._landed = threading.Event()
        self.audio: CachedAudio | None = None

    def wait(self, timeout_s: float) -> tuple[bool, CachedAudio | None]:
        """(whether it ended within timeout_s, its audio if it succeeded)."""
        return self._landed.wait(timeout_s), self.audio


class AudioCache:
    """Content-addressed audio under `directory`, at most `max_bytes` (0 turns the cache off)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._total: int | None = None  # bytes on disk, known after the first scan
        self._flights: dict[str, Flight] = {}  # syntheses under way, by key (cache on or off)
        self._flights_lock = threading.Lock()
        if self.enabled:
            self.directory.mkdir(parents=True, exist_ok=True)

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def _paths(self, key: str) -> tuple[Path, Path]:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a cache key")  # keys come back from browsers: no paths
        folder = self.directory / key[:2]
        return folder / f"{key}.wav", folder / f"{key}.json"

    def get(self, key: str) -> CachedAudio | None:
        """The entry, or None when absent, half-written or corrupt (which is then removed)."""
        if not self.enabled:
            return None
        wav_path, meta_path = self._paths(key)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            pcm = wav_to_pcm(wav_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, AudioFormatError):
            self._discard(key, "unreadable")
            return None
        if hashlib.sha256(pcm).hexdigest() != meta.get("sha256"):
            self._discard(key, "checksum mismatch")
            return None
        try:
            os.utime(meta_path)  # the JSON's mtime is the entry's last use
        except OSError:
            pass
        return CachedAudio(
            pcm,
            meta.get("usage", {}),
            meta.get("billing", ""),
            meta.get("request_id", ""),
            meta.get("request", {}),
        )

    def take_off(self, key: str) -> tuple[Flight, bool]:
        """The flight making this key's audio now, and whether the caller leads it (then it
        must land() it, however it ends) or should wait for it."""
        with self._flights_lock:
            flight = self._flights.get(key)
            if flight is not None:
                return flight, False
            flight = self._flights[key] = Flight()
            return flight, True

    def land(self, key: str, flight: Flight | None, audio: CachedAudio | None) -> None:
        """End a flight this caller leads: its followers get the audio, or None to go alone."""
        if flight is None:
            return
        with self._flights_lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.audio = audio
        flight._landed.set()

    def put(self, key: str, audio: CachedAudio) -> None:
        """Store an entry atomically, then evict the least recently used beyond the limit."""
        if not self.enabled:
            return
        wav_path, meta_path = self._paths(key)
        wav_path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**asdict(audio), "sha256": hashlib.sha256(audio.pcm).hexdigest()}
        del meta["pcm"]
        _write_atomically(wav_path, pcm_to_wav(audio.pcm))
        _write_atomically(meta_path, json.dumps(meta).encode())
        self._evict(len(audio.pcm) + 1024)

    def _discard(self, key: str, why: str) -> None:
        log.warning("Discarding cache entry %s: %s", key[:12], why)
        for path in self._paths(key):
            path.unlink(missing_ok=True)

    def _evict(self, added: int) -> None:
        """Drop least recently used entries until the cache fits; scans only when it may not."""
        with self._lock:
            if self._total is not None:
                self._total += added
                if self._total <= self.max_bytes:
                    return
            entries, total = self._scan()
            for _, size, meta_path in sorted(entries):
                if total <= self.max_bytes:
                    break
                meta_path.unlink(missing_ok=True)  # first: the entry stops being served
                meta_path.with_suffix(".wav").unlink(missing_ok=True)
                total -= size
            self._total = total

    def _scan(self) -> tuple[list[tuple[float, int, Path]], int]:
        """(last use, size, JSON path) of every entry, and their total; removes leftovers."""
        entries, total = [], 0
        now = time.time()
        for path in self.directory.glob("??/*"):
            try:
                stat = path.stat()
                if path.suffix == ".json":
                    size = stat.st_size + path.with_suffix(".wav").stat().st_size
                    entries.append((stat.st_mtime, size, path))
                    total += size
                elif now - stat.st_mtime > ORPHAN_AGE_S and (
                    path.name.startswith(".tmp-") or not path.with_suffix(".json").exists()
                ):
                    path.unlink()  # left by a crash mid-write
            except FileNotFoundError:
                continue  # another process removed it meanwhile
        return entries, total


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
