"""Files for visitors: meaningful names, WAV with every sample, MP3 of the same length."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import pcm_to_mp3, wav_to_pcm
from qwen_tts_showcase.downloads import (
    DEFAULT_MAX_BYTES,
    KEEP_S,
    MAX_ENCODES,
    download_name,
    downloads_dir,
    set_max_bytes,
    write_download,
)

from .conftest import decode_mp3

WHEN = datetime(2025, 6, 27, 15, 1, 34)
PCM = render_speech("qwen-tts-latest", "Dylan", "得嘞，您就瞧好吧！")


def test_names_carry_the_voice_and_the_time():
    assert download_name("Dylan", WHEN) == "qwen-tts_Dylan_20250627-150134.wav"
    assert download_name("Dylan", WHEN, "mp3") == "qwen-tts_Dylan_20250627-150134.mp3"


def test_a_name_never_carries_a_path_or_odd_characters():
    assert download_name("../../etc/pass wd", WHEN) == "qwen-tts_etc-pass-wd_20250627-150134.wav"
    assert download_name("...", WHEN) == "qwen-tts_voice_20250627-150134.wav"
    with pytest.raises(ValueError, match="unknown audio format"):
        download_name("Dylan", WHEN, "exe")


def test_a_wav_download_holds_every_sample():
    path = write_download(PCM, "Dylan", WHEN)
    assert path.name == "qwen-tts_Dylan_20250627-150134.wav"
    assert wav_to_pcm(path.read_bytes()) == PCM


def test_an_mp3_download_is_mp3_of_the_same_length():
    path = write_download(PCM, "Dylan", WHEN, "mp3")
    data = path.read_bytes()
    assert path.suffix == ".mp3" and data[:3] == b"ID3"
    assert len(data) < len(PCM) / 4, "MP3 is much smaller than the PCM"
    assert abs(len(decode_mp3(data)) - len(PCM)) / 48_000 < 0.08


def test_two_downloads_of_the_same_second_do_not_overwrite_each_other():
    first = write_download(PCM, "Dylan", WHEN)
    second = write_download(PCM[:4800], "Dylan", WHEN)
    assert first != second and wav_to_pcm(first.read_bytes()) == PCM
    assert re.fullmatch(r"qwen-tts-\w+", first.parent.name)


def test_mp3_encoding_handles_a_tiny_clip():
    assert len(decode_mp3(pcm_to_mp3(b"\0\0" * 240))) > 0


def test_folders_older_than_the_keep_time_are_swept_as_new_downloads_are_written():
    kept = write_download(PCM[:9600], "Dylan", WHEN).parent
    old = write_download(PCM[:7200], "Dylan", WHEN).parent
    long_ago = time.time() - KEEP_S - 1
    os.utime(old, (long_ago, long_ago))
    os.utime(downloads_dir() / ".swept", (long_ago, long_ago))  # the last sweep was long ago
    fresh = write_download(PCM[:4800], "Dylan", WHEN)
    assert not old.exists() and kept.exists() and fresh.exists()
    os.utime(kept, (long_ago, long_ago))
    write_download(PCM[:2400], "Dylan", WHEN)
    assert kept.exists(), "swept at most once a minute, not on every write"


# --- one file per recording, a bounded folder (issue 14, items 1, 2 and 10) -----------------------


def folder_bytes() -> int:
    return sum(path.stat().st_size for path in downloads_dir().rglob("*") if path.is_file())


def test_the_same_recording_asked_again_is_the_file_already_made():
    """A cache hit, a History replay or an API call of audio already made writes nothing new,
    whatever name and time it is asked for."""
    first = write_download(PCM, "Dylan", WHEN)
    before = folder_bytes()
    again = [
        write_download(PCM, voice, datetime(2030, 1, 1, 0, 0, s))
        for s in range(20)
        for voice in ("Dylan", "Cherry")
    ]
    assert set(again) == {first} and wav_to_pcm(first.read_bytes()) == PCM
    assert folder_bytes() == before


def test_an_mp3_is_encoded_once_per_recording_even_when_asked_at_once():
    pcm = render_speech("qwen-tts-latest", "Cherry", "同一段录音的 MP3 只编码一次。")
    with ThreadPoolExecutor(16) as pool:
        paths = list(pool.map(lambda _: write_download(pcm, "Cherry", WHEN, "mp3"), range(16)))
    assert len(set(paths)) == 1
    assert len(list(paths[0].parent.glob("*.mp3"))) == 1
    assert abs(len(decode_mp3(paths[0].read_bytes())) - len(pcm)) / 48_000 < 0.08


def ffmpeg_children() -> int:
    """ffmpeg processes this test process started that are running now (read from /proc)."""
    count, me = 0, str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(")")[-1].split()
            name = stat.read_text().split("(", 1)[1].split(")")[0]
        except (OSError, IndexError):
            continue
        if fields[1] == me and name.startswith("ffmpeg"):
            count += 1
    return count


def test_at_most_max_encodes_mp3_encoders_run_at_once():
    recordings = [bytes([n]) * (48_000 * 20) for n in range(1, 9)]  # 20 s each, all different
    seen = [0]
    with ThreadPoolExecutor(8) as pool:
        jobs = [pool.submit(write_download, pcm, "Dylan", WHEN, "mp3") for pcm in recordings]
        while not all(job.done() for job in jobs):
            seen[0] = max(seen[0], ffmpeg_children())
            time.sleep(0.002)
        paths = [job.result() for job in jobs]
    assert len(set(paths)) == len(recordings)
    assert 1 <= seen[0] <= MAX_ENCODES


def test_the_folder_is_bounded_and_the_least_recently_used_go_first():
    set_max_bytes(3 * 48_000 + 10_000)  # room for three recordings of 1 s
    try:
        clips = [bytes([n + 1, 0]) * 24_000 for n in range(5)]  # 1 s each, all different
        paths = [write_download(clip, "Dylan", WHEN) for clip in clips[:3]]
        write_download(clips[0], "Dylan", WHEN)  # the first is used again: now the newest
        later = [write_download(clip, "Dylan", WHEN) for clip in clips[3:]]
        assert paths[0].exists() and all(path.exists() for path in later)
        assert not paths[1].exists() and not paths[2].exists()
        assert folder_bytes() <= 3 * 48_000 + 10_000
    finally:
        set_max_bytes(DEFAULT_MAX_BYTES)
