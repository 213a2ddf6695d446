"""How the page looks and what runs in the browser: theme, CSS and the head script."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

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
    return f"<style>\n{frame}\n</style>\n<script>\n{script}\n</script>"
