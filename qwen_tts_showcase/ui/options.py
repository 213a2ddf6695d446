"""The qwen3 options beside the voice: the text's language, and instructions with their presets.

Each control shows only for the models that take it. A hidden control keeps its value, so a
visitor who tries another model and comes back finds it as they left it, but nothing hidden is
ever sent: what the page shows is what DashScope receives.
"""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..catalogue import AUTO_LANGUAGE, MAX_INSTRUCTION_TOKENS, Catalogue
from ..text import clean_text
from .i18n import I18N
from .runs import PAGE_EVENT
from .widgets import Updates

# The preset's instruction and line follow the page's language, which Gradio's Settings may
# have changed since the page loaded: the browser sends it along.
PAGE_LANGUAGE_JS = "(preset, text, language) => [preset, text, document.documentElement.lang]"


@dataclass(frozen=True)
class Instructions:
    """The instruct models' box: a preset list, the instructions and their length."""

    box: gr.Column
    preset: gr.Dropdown
    text: gr.Textbox


def language_choices(catalogue: Catalogue) -> list[tuple[str, str]]:
    """(label, id) of every language a model takes, Auto first; labels in both scripts."""
    ids = dict.fromkeys(name for model in catalogue.models for name in model.language_types)
    return [(catalogue.languages[name].label, name) for name in ids]


def sent_options(
    catalogue: Catalogue, model: str, language: str | None, instructions: str | None
) -> dict:
    """language_type and instructions as the page sends them: only those the model shows."""
    info = catalogue.model(model)
    return dict(
        language_type=language if info.language_types else None,
        instructions=instructions if info.instructions else None,
    )


def snippet_extra(
    catalogue: Catalogue, model: str, language: str | None, instructions: str | None
) -> dict[str, str]:
    """The same options as the code snippets spell them: Auto and blank are not sent."""
    options = sent_options(catalogue, model, language, instructions)
    language_type = catalogue.check_language(model, options["language_type"])
    instructions = clean_text(options["instructions"] or "")
    return {
        **({"language_type": language_type} if language_type else {}),
        **({"instructions": instructions} if instructions else {}),
    }


def preset_choices(catalogue: Catalogue) -> list[tuple[str, str]]:
    return [(f"{preset.en} · {preset.zh}", preset.id) for preset in catalogue.presets]


def build_language(catalogue: Catalogue, model: str, elem_id: str = "language") -> gr.Dropdown:
    """The language of the text, Auto by default; shown for the models that take one."""
    return gr.Dropdown(
        language_choices(catalogue),
        value=AUTO_LANGUAGE,
        label=I18N("ui_language"),
        visible=bool(catalogue.model(model).language_types),
        elem_id=elem_id,
        min_width=160,
    )


def build_instructions(catalogue: Catalogue, model: str) -> Instructions:
    """Presets and the instructions box, with a live length hint; for instruct models only."""
    with gr.Column(visible=catalogue.model(model).instructions, elem_id="instructions_box") as box:
        # The presets on a row of their own: beside the box their names were cut short.
        preset = gr.Dropdown(
            preset_choices(catalogue),
            value=None,
            label=I18N("ui_preset"),
            info=I18N("ui_preset_info"),
            elem_id="preset",
        )
        text = gr.Textbox(
            label=I18N("ui_instructions"),
            lines=2,
            max_lines=6,
            placeholder=I18N("ui_instructions_placeholder"),
            elem_id="instructions",
        )
        counter = gr.HTML(elem_id="instructions_counter")
    gr.on(  # every change of the instructions, and the page's load
        None,
        None,
        text,
        counter,
        js=f"(text) => window.qwenTts.instructionCounter(text, {MAX_INSTRUCTION_TOKENS})",
    )
    return Instructions(box, preset, text)


@dataclass(frozen=True)
class OptionTargets:
    """What the options change on the editor: their own controls, the text and the voice."""

    language: gr.Dropdown
    instructions: Instructions
    text: gr.Textbox
    voice: gr.Dropdown


class OptionHandlers:
    def __init__(self, catalogue: Catalogue, targets: OptionTargets | None = None) -> None:
        self.catalogue = catalogue
        self.targets = targets
        # Lines the page itself put in the editor (a preset's, the gallery's, the opening line):
        # a preset may replace them; anything else is the visitor's own text.
        self.given_lines = {
            line for preset in catalogue.presets for line in (preset.text_en, preset.text_zh)
        } | {sample.text for sample in catalogue.samples}

    def show_language(self, model: str) -> gr.Dropdown:
        """The language list, for the models that take a language."""
        return gr.Dropdown(visible=bool(self.catalogue.model(model).language_types))

    def follow_model(self, model: str) -> Updates:
        """The language list and the instructions box, for the models that take them."""
        targets = self.targets
        return {
            targets.language: self.show_language(model),
            targets.instructions.box: gr.Column(visible=self.catalogue.model(model).instructions),
        }

    def apply_preset(self, preset_id: str | None, text: str, page_language: str) -> Updates:
        """The preset's instruction and suggested voice; its line too, unless the visitor has
        written their own text."""
        if not preset_id:
            return {}
        preset = self.catalogue.preset(preset_id)
        chinese = (page_language or "").lower().startswith("zh")
        targets = self.targets
        updates = {
            targets.instructions.text: preset.instructions_zh
            if chinese
            else preset.instructions_en,
            targets.voice: preset.voice,
        }
        if not (text or "").strip() or text in self.given_lines:  # never the visitor's own text
            updates[targets.text] = preset.text_zh if chinese else preset.text_en
        return updates


def wire_options(catalogue: Catalogue, model: gr.Dropdown, targets: OptionTargets) -> None:
    """Options follow the model; a preset fills the instructions, the voice and maybe the text."""
    handlers = OptionHandlers(catalogue, targets)
    model.change(
        handlers.follow_model,
        model,
        [targets.language, targets.instructions.box],
        show_progress="hidden",
        **PAGE_EVENT,
    )
    page_language = gr.Textbox(visible=False)
    instructions = targets.instructions
    instructions.preset.input(
        handlers.apply_preset,
        [instructions.preset, targets.text, page_language],
        [instructions.text, targets.text, targets.voice],
        js=PAGE_LANGUAGE_JS,
        **PAGE_EVENT,
    )
