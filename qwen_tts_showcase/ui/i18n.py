"""The page's two languages: gr.I18n for component labels, twin spans for server-made HTML."""

from __future__ import annotations

import html
from functools import cache

import gradio as gr

from ..errors import DemoError
from ..messages import Message, catalogue


class CatalogueI18n(gr.I18n):
    """gr.I18n over the message catalogue, read when Gradio first asks (at launch), not at import.

    I18N("key") only names a key; the words reach the browser with the page's config.
    """

    def __init__(self) -> None:  # nothing to store: the catalogue is the translations
        pass

    @property
    def translations(self) -> dict[str, dict[str, str]]:
        return _translations()

    @property
    def translations_dict(self) -> dict[str, dict[str, str]]:
        return self.translations


@cache
def _translations() -> dict[str, dict[str, str]]:
    messages = catalogue()
    english = {key: entry["en"] for key, entry in messages.items()}
    chinese = {key: entry["zh"] for key, entry in messages.items()}
    # Gradio 6 matches the browser's language exactly, then by its prefix, and only among the
    # locales given: zh-CN, zh-TW and plain zh each need an entry of their own.
    return {"en": english, "zh-CN": chinese, "zh-TW": chinese, "zh": chinese}


I18N = CatalogueI18n()


def bilingual(en: str, zh: str) -> str:
    """HTML in both languages; the page's CSS shows the one Gradio's i18n set on <html lang>."""
    return f'<span class="lang-en">{en}</span><span class="lang-zh">{zh}</span>'


def localized_html(message: Message | DemoError) -> str:
    """A catalogue message (or an error's) as escaped HTML in both languages (see bilingual)."""
    return bilingual(html.escape(message.en), html.escape(message.zh))


def prefers_chinese(request: gr.Request | None) -> bool:
    """Whether the browser asks for Chinese first (for toasts, which gr.I18n cannot translate)."""
    language = (request.headers.get("accept-language", "") if request else "").lower()
    return language.startswith("zh")
