"""What the panels share, so that none imports another: the Studio's editor as the others fill
it, voice pickers, download buttons, updates keyed by component."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.events import Dependency

from ..catalogue import Catalogue

# What a handler returns: the new value (or a gr.update) of each component it changes, keyed by
# the component; Gradio leaves the event's other outputs as they are.
Updates = dict[Block, Any]


@dataclass(frozen=True)
class Studio:
    """What the other panels use of the Studio: the editor, the blog's player, the results."""

    text: gr.Textbox
    model: gr.Dropdown
    voice: gr.Dropdown
    language: gr.Dropdown
    instructions: gr.Textbox
    region: gr.Radio
    official: gr.HTML
    new_rows: gr.State  # history rows of the latest result
    generated: Dependency  # the generate event, for history to chain onto
    finished: Dependency  # the live player's end, the same for its results


def voice_choices(catalogue: Catalogue, model: str) -> list[tuple[str, str]]:
    """(label, name) of each voice the model offers; the label names its dialect in both scripts."""
    return [(voice.label, voice.name) for voice in catalogue.voices_of(model)]


def voice_picker(catalogue: Catalogue, model: str, wanted: str) -> gr.Dropdown:
    """The model's voices with the wanted one chosen, or the default voice (else the first) when
    the model lacks it."""
    choices = voice_choices(catalogue, model)
    names = [name for _, name in choices]
    chosen = next((name for name in (wanted, catalogue.default_voice) if name in names), names[0])
    return gr.Dropdown(choices=choices, value=chosen)


def offered_voices(catalogue: Catalogue, model: str, wanted: list[str]) -> list[str]:
    """The wanted voices the model offers, in the order given."""
    names = set(catalogue.model(model).voices)
    return [name for name in wanted if name in names]


def download_button(path: Path | None) -> gr.DownloadButton:
    """A download of the file; disabled without one."""
    return gr.DownloadButton(value=str(path) if path else None, interactive=path is not None)


def file_caption(path: Path) -> str:
    """The file's name and size, under a download button."""
    size_kb = math.ceil(path.stat().st_size / 1024)
    return f'<code class="file-name">{html.escape(path.name)}</code> · {size_kb} KB'
