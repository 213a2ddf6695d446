"""The page's footer: an AI-generated-audio notice in both languages, the model, the links."""

from __future__ import annotations

import html
import json
from functools import cache

import gradio as gr

from ..catalogue import DATA_DIR, Catalogue
from .i18n import bilingual
from .runs import PAGE_EVENT

LINKS_FILE = DATA_DIR / "links.json"
NOTICE_EN = (
    "<strong>AI-generated audio.</strong> Everything this page synthesizes is made by Qwen-TTS, "
    "not recorded from a person. Do not use it to deceive or to impersonate anyone."
)
NOTICE_ZH = (
    "<strong>AI 生成的音频。</strong>本页面合成的所有语音均由 Qwen-TTS 生成，并非真人录音。"
    "请勿用于欺骗或冒充他人。"
)


@cache
def load_links() -> dict[str, str]:
    return json.loads(LINKS_FILE.read_text(encoding="utf-8"))


def _link(url: str, text: str) -> str:
    return f'<a href="{html.escape(url)}" target="_blank" rel="noopener">{text}</a>'


def footer_html(catalogue: Catalogue, model_id: str) -> str:
    """Both notices (always both), then the model in use and where to read more."""
    links = load_links()
    model = catalogue.model(model_id)
    return (
        f'<div class="ai-notice"><p lang="en">{NOTICE_EN}</p><p lang="zh">{NOTICE_ZH}</p></div>'
        '<div class="footer-meta">'
        f"{bilingual('Model in use', '当前模型')} "
        f'<code id="footer_model">{html.escape(model.id)}</code>'
        f" ({bilingual(html.escape(model.en), html.escape(model.zh))}) · "
        + _link(links["blog"], bilingual("Qwen-TTS blog", "Qwen-TTS 博客"))
        + " · "
        + _link(links["api_docs"], bilingual("API docs (English)", "API 文档（英文）"))
        + " · "
        + _link(links["api_docs_zh"], bilingual("API docs (Chinese)", "API 文档（中文）"))
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
