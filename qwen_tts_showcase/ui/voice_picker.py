"""The voice pickers of the Studio and Compare: a Dropdown on the page whose value reaches the
handlers even when it is not in the list.

The list follows the model, and a press in the instant the new list is on the server but not
yet on the page carries the voice before it: Gradio's own check of the choices stopped that
event with a bare "Error". Let through, the synthesis path names the model's voices in words
(Catalogue.check_voice). On the page it stays a plain Dropdown, which puts back the chosen voice
when typed words match none (allow_custom_value would keep them as the voice).

Gradio writes a type stub (voice_picker.pyi) beside any module that subclasses a component, at
import; .gitignore leaves it out.
"""

from __future__ import annotations

import gradio as gr


class VoicePicker(gr.Dropdown):
    def get_block_name(self) -> str:
        return "dropdown"  # the page draws gr.Dropdown's own

    def preprocess(self, payload: str | list[str] | None) -> str | list[str] | None:
        return payload
