"""The page's footer: an AI-generated-audio notice in the page's language, the model, the links."""

from __future__ import annotations

import html
from functools import cache

import gradio as gr

from ..catalogue import Catalogue
from ..datafiles import load_links
from ..messages import say
from .i18n import bilingual, localized_html
from .runs import PAGE_EVENT


@cache
def links() -> dict[str, str]:
    """The footer's addresses, read once."""
    return load_links()


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{text}</a>'


def footer_html(catalogue: Catalogue, model_id: str) -> str:
    """The notice in the page's language (twin spans, like the rest), then the model in use and
    where to read more."""
    urls = links()
    model = catalogue.model(model_id)
    notice = say("footer_ai_notice")
    return (
        f'<div class="ai-notice"><p class="lang-en" lang="en">{notice.en}</p>'
        f'<p class="lang-zh" lang="zh">{notice.zh}</p></div>'
        '<div class="footer-meta">'
        f"{localized_html(say('footer_model'))} "
        f'<code id="footer_model">{html.escape(model.id)}</code>'
        f" ({bilingual(html.escape(model.en), html.escape(model.zh))}) · "
        + _link(urls["blog"], localized_html(say("footer_blog")))
        + " · "
        + _link(urls["api_docs"], localized_html(say("footer_api_docs_en")))
        + " · "
        + _link(urls["api_docs_zh"], localized_html(say("footer_api_docs_zh")))
        + "</div>"
    )


class FooterHandlers:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def footer(self, model: str) -> str:
        return footer_html(self.catalogue, model)


def build_footer(catalogue: Catalogue, model: gr.Dropdown) -> None:
    """The footer, following the Studio's model."""
    handlers = FooterHandlers(catalogue)
    footer = gr.HTML(footer_html(catalogue, catalogue.default_model), elem_id="page_footer")
    model.change(handlers.footer, model, footer, show_progress="hidden", **PAGE_EVENT)
