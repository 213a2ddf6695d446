"""The only package that talks to DashScope: a request in, PCM chunks or a typed DemoError out.

request          what changes the audio (SynthesisRequest), typed text (TextSource), the realtime
                 controls, where and how to reach DashScope (Upstream)
text_pieces      the text as written and as spoken for the realtime models: pieces, sentences,
                 the phrases speak-as-written commits
failures         DashScope's failures as typed errors with a message key (error_for_response)
realtime_socket  the WebSocket models: realtime sessions (QwenTtsRealtime) and Qwen-Audio tasks
speech_stream    SpeechStream, every synthesis's audio: the HTTP models' SDK call (sent once)
                 here, the WebSocket models through realtime_socket
custom_voices    custom voices on the customization route: design, cloning, list, delete

A module imports only those listed above it. The names the app, the tests and the bench import
are re-exported here.
"""

from .custom_voices import VoiceService
from .failures import error_for_response
from .request import REALTIME_CONTROLS, SynthesisRequest, TextSource, Upstream
from .speech_stream import SpeechStream
from .text_pieces import spoken_sentences, written_phrases, written_pieces

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
