"""Running syntheses for the page: one way in to the Synthesizer, one way out for failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from ..errors import DemoError
from ..speech import Notice, Speech, SpeechResult
from ..synthesis import Synthesizer
from .alerts import as_gradio_error, unexpected

CONCURRENCY_ID = "dashscope"  # every event that calls the API shares these slots
# Events that never call DashScope and never show a toast: private to the page, and outside the
# queue, so a queue full of syntheses never refuses a visitor's page load, model change, or the
# download of audio already made. (Outside the queue Gradio shows no gr.Info, gr.Warning or
# gr.Error: events that need one stay queued, and a full queue refuses them in both languages.)
PAGE_EVENT = dict(api_visibility="private", queue=False)


def api_event_options(concurrency_limit: int) -> dict:
    """Keyword arguments for every event that may call DashScope."""
    return dict(concurrency_limit=concurrency_limit, concurrency_id=CONCURRENCY_ID)


def start_speech(
    synthesizer: Synthesizer,
    visitor: gr.Request | None,
    text: str,
    voice: str,
    model: str,
    region: str,
    user_key: str = "",
    streaming: bool = True,
    on_notice: Notice | None = None,
    *,
    language_type: str | None = None,
    instructions: str | None = None,
) -> Speech:
    """A checked request, ready to iterate; an InputError before any call if it is not valid.

    visitor is the Gradio request: the quotas count what it sends."""
    request = synthesizer.prepare(
        text, voice, model, region, language_type=language_type, instructions=instructions
    )
    return synthesizer.speak(
        request, region, user_key, streaming, on_notice, visitor=synthesizer.visitor(visitor)
    )


def notify(en: str, zh: str) -> None:
    """Progress and retries, shown to the visitor while the audio is on its way."""
    gr.Info(f"{en}\n{zh}", duration=4)


def finish(speech: Speech) -> SpeechResult:
    """Drain a Speech nobody listens to live, and return its result."""
    for _ in speech:
        pass
    return speech.result


@contextmanager
def shown_to_visitor(request: gr.Request | None) -> Iterator[None]:
    """Turn any failure inside into a bilingual toast; bugs are logged, never shown."""
    try:
        yield
    except gr.Error:
        raise
    except DemoError as err:
        raise as_gradio_error(err, request) from err
    except Exception as exc:
        raise unexpected(exc) from exc
