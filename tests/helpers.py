"""Helpers more than one test file uses (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

DATA = Path(__file__).parent / "data"
# Strings the page's counter and the server must measure alike, with the numbers both must give:
# {"why", "text", "characters", "tokens"}. Escapes keep the invisible characters visible here.
HARD_STRINGS_JSON = (DATA / "hard_strings.json").read_text(encoding="utf-8")
HARD_STRINGS: list[dict] = json.loads(HARD_STRINGS_JSON)


def assert_wav_is(path: str, pcm: bytes) -> None:
    """The file at path is a 24 kHz mono 16-bit WAV holding exactly these samples."""
    with wave.open(path, "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            24_000,
            1,
            2,
        )
        assert reader.readframes(reader.getnframes()) == pcm
