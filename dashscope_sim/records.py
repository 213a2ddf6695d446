"""What the simulator keeps about each request, and how it paces its answers."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

REAL_CHUNK_SECONDS = 0.72  # the real stream steps 36 audio tokens a frame, at 50 tokens/s (§1.5)


@dataclass
class Fault:
    kind: str
    after_chunks: int = 1
    delay_s: float = 3600.0


@dataclass
class UpstreamProfile:
    """How the fake model behaves in time; benchmarks change it, tests keep it instant."""

    first_chunk_delay_s: float = 0.0  # before the first frame
    realtime_factor: float = 0.0  # wall seconds per second of audio after the first frame
    chunk_seconds: float = REAL_CHUNK_SECONDS  # audio per frame
    fixed_audio_seconds: float | None = None  # overrides the length derived from the text


@dataclass
class RecordedRequest:
    """One request as it crossed the wire, and what the simulator answered with."""

    path: str
    region: str
    headers: dict[str, str]
    body: dict | None
    streamed: bool
    status: int = 0
    pcm: bytes = b""  # the audio sent (all of it, even if a fault cut the stream)
    fault: str | None = None
    received_at: float = field(default_factory=time.time)
    first_audio_sent_at: float | None = None  # time.time() when the first audio left
    hung_up_at: float | None = None  # time.time() when the client closed the stream part-way


def most_at_once(spans: Iterable[tuple[float, float | None]]) -> int:
    """The most requests the simulator was working on at one moment, from each request's
    (received_at, first_audio_sent_at); one that sent no audio never counts as finished."""
    edges = []
    for received_at, first_audio_sent_at in spans:
        edges.append((received_at, 1))
        if first_audio_sent_at is not None:
            edges.append((first_audio_sent_at, -1))
    running = peak = 0
    for _, step in sorted(edges):
        running += step
        peak = max(peak, running)
    return peak
