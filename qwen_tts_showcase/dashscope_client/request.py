"""The request types: what changes the audio (SynthesisRequest), text arriving while a session
is open (TextSource), the realtime models' controls, and where to reach DashScope (Upstream)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class SynthesisRequest:
    """What changes the audio: the cache key and the API body are built from exactly these."""

    text: str
    voice: str
    model: str
    language_type: str | None = None
    instructions: str | None = None
    # The WebSocket models' controls; None: not sent (the HTTP models take none of them).
    speech_rate: float | None = None
    pitch_rate: float | None = None
    volume: int | None = None
    sample_rate: int | None = None
    response_format: str | None = None
    # Speak as it is written: the text is sent in pieces (words, or Han characters) at this many
    # pieces a second, and the realtime model speaks it as it comes (committed phrase by phrase).
    written_pace: float | None = None
    # Speak as I type: the text comes piece by piece from the visitor's keyboard (a TextSource
    # given to SpeechStream), not from `text`; True or None.
    typed: bool | None = None


class TextSource(Protocol):
    """Text arriving while a session is open (realtime.TypedText)."""

    def next_piece(self, stop: threading.Event) -> str | None:
        """The next piece; None when there is no more (or `stop` is set)."""


REALTIME_CONTROLS = (
    "speech_rate",
    "pitch_rate",
    "volume",
    "sample_rate",
    "response_format",
    "written_pace",
    "typed",
)


@dataclass(frozen=True)
class Upstream:
    """Where and how to reach DashScope for one synthesis: base URL, key and timeouts."""

    base_url: str
    api_key: str = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    total_timeout_s: float = 120.0
    download_timeout_s: float = 30.0
    realtime_url: str = ""  # the region's realtime WebSocket URL, without ?model=
    task_url: str = ""  # the region's Qwen-Audio task WebSocket URL
