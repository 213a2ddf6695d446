"""Files for visitors: meaningful names, WAV with every sample, MP3 of the same length."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import pytest

from dashscope_sim import render_speech
from qwen_tts_showcase.audio import pcm_to_mp3, wav_to_pcm
from qwen_tts_showcase.downloads import KEEP_S, download_name, downloads_dir, write_download

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
    kept = write_download(PCM, "Dylan", WHEN).parent
    old = write_download(PCM, "Dylan", WHEN).parent
    long_ago = time.time() - KEEP_S - 1
    os.utime(old, (long_ago, long_ago))
    os.utime(downloads_dir() / ".swept", (long_ago, long_ago))  # the last sweep was long ago
    fresh = write_download(PCM, "Dylan", WHEN)
    assert not old.exists() and kept.exists() and fresh.exists()
    os.utime(kept, (long_ago, long_ago))
    write_download(PCM, "Dylan", WHEN)
    assert kept.exists(), "swept at most once a minute, not on every write"
