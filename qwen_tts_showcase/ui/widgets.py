"""What the panels share, so that none imports another: the Studio's editor as the others fill
it, voice pickers, download buttons, updates keyed by component."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.blocks import Block
from gradio.data_classes import GradioModel, GradioRootModel
from gradio.events import Dependency
from gradio.utils import is_prop_update as is_update

from ..catalogue import Catalogue
from ..messages import say
from ..voices import VoiceBook

if TYPE_CHECKING:  # built after the Studio, which wires its live end to it
    from .history import History

# What a handler returns: the new value (or a gr.update) of each component it changes, keyed by
# the component; Gradio leaves the event's other outputs as they are.
Updates = dict[Block, Any]

# How the model pickers name the VD and VC models: by whose voices they speak.
CUSTOM_MODEL_LABELS = {"design": "model_your_design", "clone": "model_your_clone"}


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
    # Wires the live player's complete end, which records its own history row (studio.py's
    # wire_live_done), once the History tab exists.
    finish_live: Callable[[History], Dependency]
    owner: gr.State  # the browser's owner token (ui/voices.py): its own voices for VD and VC


def voice_choices(catalogue: Catalogue, model: str) -> list[tuple[str, str]]:
    """(label, name) of each voice the model offers, grouped by dialect or language (dialects
    first); the label names the group in both scripts and the voice's gender by its sign."""
    return [(voice.label, voice.name) for voice in catalogue.grouped_voices(model)]


def own_voice_choices(book: VoiceBook, token: str, family: str) -> list[tuple[str, str]]:
    """(label, DashScope name) of the voices of this family ("design" or "clone") the browser
    holding `token` made: never another visitor's (voices.py)."""
    return [
        (voice.label, voice.voice) for voice in book.mine(token or "") if voice.family == family
    ]


def custom_model_choices(catalogue: Catalogue, region: str) -> list[tuple[str, str]]:
    """(label, id) of the VD and VC models the region offers, labelled as the visitor's own
    voices (a list's labels are not translated, so both languages)."""
    return [
        (say(CUSTOM_MODEL_LABELS[model.family], model=model.id).en, model.id)
        for model in catalogue.custom_models
        if model.offered_in(region)
    ]


def voice_picker(
    catalogue: Catalogue,
    model: str,
    wanted: str,
    book: VoiceBook | None = None,
    token: str = "",
) -> gr.Dropdown:
    """The model's voices with the wanted one chosen, or the default voice (else the first) when
    the model lacks it. A VD or VC model offers only the visitor's own voices of its family
    (the newest chosen when the wanted one is not among them), none without the `book`."""
    family = catalogue.model(model).family
    if family:
        own = own_voice_choices(book, token, family) if book else []
        names = [name for _, name in own]
        chosen = wanted if wanted in names else (names[-1] if names else None)
        return gr.Dropdown(choices=own, value=chosen)
    choices = voice_choices(catalogue, model)
    names = [name for _, name in choices]
    chosen = next((name for name in (wanted, catalogue.default_voice) if name in names), names[0])
    return gr.Dropdown(choices=choices, value=chosen)


def opening_line(catalogue: Catalogue) -> str:
    """The editor's text when the page opens: a blog line of the default voice (else the blog's
    first), so the first press of Generate speaks."""
    spoken = [s for s in catalogue.samples if s.voice == catalogue.default_voice]
    lines = spoken or list(catalogue.samples)
    return lines[0].text if lines else ""


def offered_voices(catalogue: Catalogue, model: str, wanted: list[str]) -> list[str]:
    """The wanted voices the model offers, in the order given."""
    names = set(catalogue.model(model).voices)
    return [name for name in wanted if name in names]


def download_button(path: Path | None) -> dict:
    """A DownloadButton's update: a download of the file; disabled without one. (An update, not
    a new gr.DownloadButton: that copies its file into Gradio's folder once more when made.)"""
    return gr.update(value=str(path) if path else None, interactive=path is not None)


def as_sent(updates: Updates) -> Updates:
    """The updates in the form Gradio sends them to the page, for an event that skips Gradio's
    own pass (postprocess=False): each value through its component's postprocess, in a gr.update
    too. Gradio's pass costs a worker-thread hop per value, more than the values' own work
    (bench: app CPU per visit)."""
    sent = {}
    for component, value in updates.items():
        if not is_update(value):
            sent[component] = _sent(component, value)
        elif "value" in value:
            sent[component] = {**value, "value": _sent(component, value["value"])}
        else:
            sent[component] = value
    return sent


def _sent(component: Block, value: Any) -> Any:
    if value is None or not isinstance(component, gr.components.Component):
        return value
    sent = component.postprocess(value)
    return sent.model_dump() if isinstance(sent, GradioModel | GradioRootModel) else sent


def file_caption(path: Path) -> str:
    """The file's name and size, under a download button."""
    size_kb = math.ceil(path.stat().st_size / 1024)
    return f'<code class="file-name">{html.escape(path.name)}</code> · {size_kb} KB'
