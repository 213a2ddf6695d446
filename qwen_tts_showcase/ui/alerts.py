"""What a visitor sees when something fails: bilingual toasts, never a traceback or the key."""

from __future__ import annotations

import html
import logging

import gradio as gr

from ..errors import DemoError, unexpected_error
from .i18n import prefers_chinese

log = logging.getLogger(__name__)


def as_gradio_error(err: DemoError, request: gr.Request | None) -> gr.Error:
    """The error's message in both languages, the browser's language first."""
    log.info("Synthesis refused or failed: %s", type(err).__name__)
    # Toasts render HTML; the message can echo what the visitor sent (a voice name).
    message = html.escape(err.message(prefers_chinese(request)), quote=False)
    return gr.Error(message, duration=None, print_exception=False)


def unexpected(exc: Exception) -> gr.Error:
    """A generic message for a bug; the details go to the log only."""
    log.exception("Unexpected failure", exc_info=exc)
    return gr.Error(str(unexpected_error()), duration=None, print_exception=False)
