"""How the page looks and what runs in the browser: theme, CSS and the head script."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

from ..messages import catalogue
from ..text import PAGE_MEASURE

ASSETS_DIR = Path(__file__).parent / "assets"
PAGE_KEY_PREFIX = "page_"  # the catalogue's keys whose words page.js shows
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


def _assets(suffix: str, first: str, *, skip: tuple[str, ...] = ()) -> str:
    """`first`, then every other asset with this suffix by name: one file per part of the page."""
    others = sorted(p for p in ASSETS_DIR.glob(f"*{suffix}") if p.name not in (first, *skip))
    return "\n".join(p.read_text(encoding="utf-8") for p in [ASSETS_DIR / first, *others])


def page_css() -> str:
    return _assets(".css", "page.css", skip=("frame.css",))


def page_head() -> str:
    """The frame's CSS and the page script, with the catalogue's words the script shows."""
    frame = (ASSETS_DIR / "frame.css").read_text(encoding="utf-8")
    script = _assets(".js", "page.js")
    measure = f"window.qwenTtsMeasure = {json.dumps(PAGE_MEASURE)};"  # text.py's, for page.js
    return (
        f"<style>\n{frame}\n</style>\n"
        f"<script>\n{measure}\nwindow.qwenTtsMessages = {page_messages()};\n{script}\n</script>"
    )


def page_messages() -> str:
    """The messages page.js uses (keys starting "page_") as JSON safe inside a <script>."""
    words = {key: entry for key, entry in catalogue().items() if key.startswith(PAGE_KEY_PREFIX)}
    return json.dumps(words, ensure_ascii=False).replace("</", "<\\/")
