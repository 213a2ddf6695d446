"""How the page looks and what runs in the browser: theme, CSS and the head script."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from ..text import PAGE_MEASURE

ASSETS_DIR = Path(__file__).parent / "assets"
# System fonts first: nothing is fetched from a font CDN, and Chinese gets a CJK face.
FONTS = (
    "ui-sans-serif",
    "system-ui",
    "-apple-system",
    "Segoe UI",
    "Roboto",
    "Noto Sans",
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "sans-serif",
)
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="pink", font=FONTS)


def page_css() -> str:
    return (ASSETS_DIR / "page.css").read_text(encoding="utf-8")


def page_head() -> str:
    frame = (ASSETS_DIR / "frame.css").read_text(encoding="utf-8")
    script = (ASSETS_DIR / "page.js").read_text(encoding="utf-8")
    measure = f"window.qwenTtsMeasure = {json.dumps(PAGE_MEASURE)};"  # text.py's, for page.js
    return f"<style>\n{frame}\n</style>\n<script>\n{measure}\n{script}\n</script>"
