"""Running syntheses for the page: who is asking, progress shown, one way out for failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypedDict

import gradio as gr

from ..errors import DemoError
from ..messages import Message
from ..quota import Visitor, visitor_of
from ..synthesis import Synthesizer
from .alerts import as_gradio_error, unexpected
from .i18n import prefers_chinese

CONCURRENCY_ID = "dashscope"  # every event that calls the API shares these slots
# Events that never call DashScope and never show a toast: private to the page, and outside the
# queue, so a queue full of syntheses never refuses a visitor's page load, model change, or the
# download of audio already made. (Outside the queue Gradio shows no gr.Info, gr.Warning or
# gr.Error: events that need one stay queued, and a full queue refuses them in both languages.)
PAGE_EVENT = dict(api_visibility="private", queue=False)


class ApiEventOptions(TypedDict):
    """Keyword arguments for every event that may call DashScope."""

    concurrency_limit: int
    concurrency_id: str


def api_event_options(concurrency_limit: int) -> ApiEventOptions:
    """Every event that may call DashScope shares one pool of `concurrency_limit` slots."""
    return ApiEventOptions(concurrency_limit=concurrency_limit, concurrency_id=CONCURRENCY_ID)


def visitor(synthesizer: Synthesizer, request: gr.Request | None) -> Visitor:
    """Who sent an event, as far as the quotas are concerned."""
    return visitor_of(request, synthesizer.settings.trusted_proxy_hops)


def notifier(request: gr.Request | None) -> Callable[[Message], None]:
    """Progress and retries, shown while the audio is on its way: in the visitor's language
    only, in a toast that dismisses itself."""
    language = "zh" if prefers_chinese(request) else "en"
    return lambda message: gr.Info(message.text(language), duration=4)


@contextmanager
def shown_to_visitor(request: gr.Request | None, calm: bool = True) -> Iterator[None]:
    """Turn any failure inside into a bilingual toast; bugs are logged, never shown."""
    try:
        yield
    except gr.Error:
        raise
    except DemoError as err:
        raise as_gradio_error(err, request, calm) from err
    except Exception as exc:
        raise unexpected(exc) from exc
