"""Models by region: every model is listed, those the region lacks are marked, and choosing one
says where it is offered and offers to switch there."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import reduce

import gradio as gr

from ..catalogue import Catalogue, Model, Region
from ..messages import Both, Message, in_both, say
from .i18n import bilingual
from .runs import PAGE_EVENT
from .widgets import Updates, custom_model_choices


def _short_name(region: Region, escape: bool = False) -> Both:
    names = (region.short_en, region.short_zh)
    return Both(*(html.escape(name) for name in names)) if escape else Both(*names)


def offered_where(catalogue: Catalogue, model: Model, escape: bool = False) -> Both | Message:
    """The regions offering a model, by their short names (HTML-escaped if asked)."""
    names = [_short_name(catalogue.region(region_id), escape) for region_id in model.regions]
    return reduce(lambda first, second: say("names_and", first=first, second=second), names)


def model_choices(catalogue: Catalogue, region: str) -> list[tuple[str, str]]:
    """(readable name, id) of every model; one the region lacks is marked where it is offered,
    in both languages (a list's labels are not translated: see model_only_in in messages.json).
    The id is what DashScope is sent; the line under the picker names it (ui/pickers.py)."""
    choices = []
    for model in catalogue.models:
        if model.offered_in(region):
            choices.append((model.name, model.id))
        else:
            where = offered_where(catalogue, model)
            label = say(
                "model_only_in",
                model=model.name,
                where_en=where.text("en"),
                where_zh=where.text("zh"),
            )
            choices.append((label.en, model.id))
    return choices


def preferred_model(catalogue: Catalogue, region: str, wanted: str = "") -> str:
    """The wanted model if the region offers it, else the region's default (the one with the
    most Chinese varieties)."""
    offered = [model.id for model in catalogue.models_in(region)]
    for candidate in (wanted, catalogue.default_model_in(region)):
        if candidate in offered:
            return candidate
    return offered[0]


def speaking_model_choices(catalogue: Catalogue, region: str) -> list[tuple[str, str]]:
    """Every model, then the VD and VC models the region offers, which speak the visitor's own
    designed and cloned voices."""
    return model_choices(catalogue, region) + custom_model_choices(catalogue, region)


def region_note(catalogue: Catalogue, region: str, model_id: str) -> tuple[str, str]:
    """HTML saying a chosen model is not offered in the region, and the region to switch to;
    ("", "") when the region offers it."""
    model = catalogue.model(model_id)
    if model.offered_in(region):
        return "", ""
    note = say(
        "model_not_in_region",
        model=f"<code>{html.escape(model.id)}</code>",
        where=offered_where(catalogue, model, escape=True),
        here=_short_name(catalogue.region(region), escape=True),
    )
    # The fields are HTML already (escaped names, the model in <code>); the words are plain.
    return f'<div class="region-note">{bilingual(note.en, note.zh)}</div>', model.regions[0]


def switch_label(catalogue: Catalogue, region: str) -> str:
    target = catalogue.region(region)
    return say("switch_region", region_en=target.short_en, region_zh=target.short_zh).en


@dataclass(frozen=True)
class RegionNote:
    """The note under the pickers and its switch button."""

    row: gr.Row
    note: gr.HTML
    switch: gr.Button


def build_region_note() -> RegionNote:
    with gr.Row(visible=False, elem_id="region_note_row", equal_height=True) as row:
        note = gr.HTML(elem_id="region_note")
        switch = gr.Button(
            "", size="sm", variant="secondary", elem_id="region_switch", scale=0, min_width=230
        )
    return RegionNote(row, note, switch)


class RegionHandlers:
    def __init__(
        self,
        catalogue: Catalogue,
        announce: bool = False,
        note: RegionNote | None = None,
        own_voices: bool = False,
    ) -> None:
        self.catalogue = catalogue
        self.note = note  # the note show_note fills
        self.announce = announce  # say so when the model had to change (once per page)
        self.own_voices = own_voices  # the picker also offers the VD and VC models

    def change_region(self, region: str, model: str) -> gr.Dropdown:
        """Every model, marked for the new region; the chosen one stays if the region offers it."""
        choices = (speaking_model_choices if self.own_voices else model_choices)(
            self.catalogue, region
        )
        return gr.Dropdown(choices=choices, value=self.followed(region, model))

    def followed(self, region: str, model: str) -> str:
        """The model to show in the new region: the chosen one if the region offers it (a VD or
        VC model included), else the region's default (announced, when asked to)."""
        chosen = self.catalogue.model(model) if model else None
        if chosen is not None and chosen.family and chosen.offered_in(region):
            return model
        value = preferred_model(self.catalogue, region, model)
        if self.announce and model and value != model:
            here = _short_name(self.catalogue.region(region))
            switched = say("model_switched", model=model, region=here, chosen=value)
            gr.Info(in_both(switched), duration=6)
        return value

    def show_note(self, region: str, model: str) -> Updates:
        """The note and its button when the model is not offered in the region; hidden otherwise."""
        parts = self.note
        note, target = region_note(self.catalogue, region, model)
        if not note:
            return {parts.row: gr.Row(visible=False), parts.note: ""}
        return {
            parts.row: gr.Row(visible=True),
            parts.note: note,
            parts.switch: gr.Button(value=switch_label(self.catalogue, target)),
        }

    def switch(self, model: str) -> str:
        """The first region that offers the model."""
        return self.catalogue.model(model).regions[0]


def wire_region_note(
    catalogue: Catalogue, parts: RegionNote, region: gr.Radio, model: gr.Dropdown
) -> None:
    """Show the note whenever region or model change; its button switches the region."""
    handlers = RegionHandlers(catalogue, note=parts)
    gr.on(
        [region.change, model.change],
        handlers.show_note,
        [region, model],
        [parts.row, parts.note, parts.switch],
        show_progress="hidden",
        **PAGE_EVENT,
    )
    parts.switch.click(handlers.switch, model, region, **PAGE_EVENT)
