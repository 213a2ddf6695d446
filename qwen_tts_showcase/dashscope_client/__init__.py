"""The only package that talks to DashScope: a request in, PCM chunks or a typed DemoError out.

(Moved here whole; the next commit splits it into one module per concern.)
"""

from .realtime_socket import (
    REALTIME_CONTROLS,
    SpeechStream,
    SynthesisRequest,
    TextSource,
    Upstream,
    VoiceService,
    error_for_response,
    spoken_sentences,
    written_phrases,
    written_pieces,
)

__all__ = [
    "REALTIME_CONTROLS",
    "SpeechStream",
    "SynthesisRequest",
    "TextSource",
    "Upstream",
    "VoiceService",
    "error_for_response",
    "spoken_sentences",
    "written_phrases",
    "written_pieces",
]
