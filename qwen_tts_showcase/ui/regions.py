"""Models by region: every model is listed, those the region lacks are marked, and choosing one
says where it is offered and offers to switch there."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from ..catalogue import Catalogue, Model
from .i18n import bilingual
from .runs import PAGE_EVENT


def offered_where(catalogue: Catalogue, model: Model) -> tuple[str, str]:
    """The regions offering a model, short: ("Beijing", "北京")."""
    regions = [catalogue.region(region_id) for region_id in model.regions]
    return " and ".join(r.short_en for r in regions), "、".join(r.short_zh for r in regions)


def model_choices(catalogue: Catalogue, region: str) -> list[tuple[str, str]]:
    """(label, id) of every model; one the region lacks is marked, e.g.
    "qwen-tts-latest · Beijing only · 仅北京"."""
    choices = []
    for model in catalogue.models:
        if model.offered_in(region):
            choices.append((model.id, model.id))
        else:
            en, zh = offered_where(catalogue, model)
            choices.append((f"{model.id} · {en} only · 仅{zh}", model.id))
    return choices


def preferred_model(catalogue: Catalogue, region: str, wanted: str = "") -> str:
    """The wanted model if the region offers it, else the default, else the region's first."""
    offered = [model.id for model in catalogue.models_in(region)]
    for candidate in (wanted, catalogue.default_model):
        if candidate in offered:
            return candidate
    return offered[0]


def region_note(catalogue: Catalogue, region: str, model_id: str) -> tuple[str, str]:
    """HTML saying a chosen model is not offered in the region, and the region to switch to;
    ("", "") when the region offers it."""
    model = catalogue.model(model_id)
    if model.offered_in(region):
        return "", ""
    here = catalogue.region(region)
    where_en, where_zh = (html.escape(name) for name in offered_where(catalogue, model))
    code = f"<code>{html.escape(model.id)}</code>"
    en = (
        f"{code} is offered in {where_en} only, not in {html.escape(here.short_en)}. Switch the "
        "region (and use a key from its console), or pick another model."
    )
    zh = (
        f"{code} 仅在{where_zh}提供，{html.escape(here.short_zh)}地域没有。请切换地域（并使用该地域"
        "控制台的 Key），或选择其他模型。"
    )
    return f'<div class="region-note">{bilingual(en, zh)}</div>', model.regions[0]


def switch_label(catalogue: Catalogue, region: str) -> str:
    target = catalogue.region(region)
    return f"Switch to {target.short_en} · 切换到{target.short_zh}"


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
    def __init__(self, catalogue: Catalogue, announce: bool = False) -> None:
        self.catalogue = catalogue
        self.announce = announce  # say so when the model had to change (once per page)

    def change_region(self, region: str, model: str) -> gr.Dropdown:
        """Every model, marked for the new region; the chosen one stays if the region offers it."""
        value = preferred_model(self.catalogue, region, model)
        if self.announce and model and value != model:
            gr.Info(
                f"{model} is not offered in {self.catalogue.region(region).short_en}: "
                f"switched to {value}.\n"
                f"{self.catalogue.region(region).short_zh}地域不提供 {model}，已切换到 {value}。",
                duration=6,
            )
        return gr.Dropdown(choices=model_choices(self.catalogue, region), value=value)

    def show_note(self, region: str, model: str) -> tuple:
        """The note and its button when the model is not offered in the region; hidden otherwise."""
        note, target = region_note(self.catalogue, region, model)
        if not note:
            return gr.Row(visible=False), "", gr.Button()
        return gr.Row(visible=True), note, gr.Button(value=switch_label(self.catalogue, target))

    def switch(self, model: str) -> str:
        """The first region that offers the model."""
        return self.catalogue.model(model).regions[0]


def wire_region_note(
    catalogue: Catalogue, parts: RegionNote, region: gr.Radio, model: gr.Dropdown
) -> None:
    """Show the note whenever region or model change; its button switches the region."""
    handlers = RegionHandlers(catalogue)
    gr.on(
        [region.change, model.change],
        handlers.show_note,
        [region, model],
        [parts.row, parts.note, parts.switch],
        show_progress="hidden",
        **PAGE_EVENT,
    )
    parts.switch.click(handlers.switch, model, region, **PAGE_EVENT)
