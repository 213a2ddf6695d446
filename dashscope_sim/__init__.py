"""A local DashScope for tests and for work without a key: the other side of the wire.

It imports nothing from the app: its models, voices, limits and billing are its own tables
(`tables`), written from the wire reference, so a wrong app catalogue fails against it.

    python -m dashscope_sim --port 8765
"""

from .audio import SAMPLE_RATE_HZ, render_speech, wav_bytes
from .realtime import REALTIME_FAULTS, RealtimeRecord
from .records import RecordedRequest, UpstreamProfile, most_at_once
from .server import FAULTS, SPECIAL_FAULTS, DashScopeSimulator
from .tables import GENERATION_PATH
from .voices import CUSTOMIZATION_PATH, VOICE_ERRORS

__all__ = [
    "CUSTOMIZATION_PATH",
    "VOICE_ERRORS",
    "FAULTS",
    "GENERATION_PATH",
    "SAMPLE_RATE_HZ",
    "SPECIAL_FAULTS",
    "DashScopeSimulator",
    "REALTIME_FAULTS",
    "RealtimeRecord",
    "RecordedRequest",
    "UpstreamProfile",
    "most_at_once",
    "render_speech",
    "wav_bytes",
]
