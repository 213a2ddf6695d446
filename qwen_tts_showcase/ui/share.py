"""A link to share: `/?voice=Jada&model=qwen-tts-latest&text=…` (and `language`, `instructions`
where the model takes them) opens the page with the editor filled; the Share button makes the
link for what the editor holds and copies it.

A link is a visitor's input like any other: each value is checked against the catalogue, and
one that does not fit is left out with a note in the visitor's language, never an error. A link
carries no key and no custom voice (those are the visitor's own: VD and VC models are unknown
here). Nothing of the link reaches the server but the query string of the page's own address.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import gradio as gr

from ..catalogue import AUTO_LANGUAGE, Catalogue, Model
from ..errors import echo
from ..messages import Message, say
from .i18n import I18N, localized_html
from .runs import PAGE_EVENT
from .widgets import Studio, Updates, voice_picker

FIELDS = ("text", "model", "voice", "language", "instructions")


@dataclass(frozen=True)
class SharedEditor:
    """What a link puts in the editor, and what it said that was left out (as notes)."""

    model: str
    voice: str
    text: str | None  # None: the link names no text, the editor keeps its own
    language: str
    instructions: str | None
    notes: tuple[Message, ...]


@dataclass(frozen=True)
class ShareControls:
    button: gr.Button
    link: gr.HTML  # the link made, and whether it was copied
    note: gr.HTML  # what an opened link left out


def read_link(
    query: Mapping[str, str],
    catalogue: Catalogue,
    *,
    current_model: str,
    current_voice: str,
    max_text_chars: int,
) -> SharedEditor | None:
    """The editor a page address asks for; None when it names none of the editor's fields.

    Values are matched as the pickers would offer them (case aside); a model the page does not
    offer keeps the editor's model, a voice that model lacks its voice (else the default), a
    language it does not take Auto; instructions only go to a model that takes them; a text
    over the page's cap is cut there."""
    wanted = {name: str(query.get(name) or "").strip() for name in FIELDS}
    if not any(wanted.values()):
        return None
    notes: list[Message] = []
    models = {model.id: model for model in catalogue.models}
    model = models.get(current_model) or models[catalogue.default_model]
    if wanted["model"]:
        chosen = _matching(wanted["model"], models)
        if chosen:
            model = models[chosen]
        else:
            notes.append(say("share_unknown_model", model=echo(wanted["model"]), used=model.id))
    voice = _voice(catalogue, model, wanted["voice"] or current_voice)
    if wanted["voice"] and voice.lower() != wanted["voice"].lower():
        notes.append(
            say("share_unknown_voice", voice=echo(wanted["voice"]), model=model.id, used=voice)
        )
    language = _language(model, wanted["language"], notes)
    instructions = None
    if wanted["instructions"]:
        if model.instructions:
            instructions = wanted["instructions"][:max_text_chars]
        else:
            notes.append(say("share_instructions_not_taken", model=model.id))
    text = str(query.get("text") or "") or None  # the text as written, spaces and all
    if text is not None and len(text) > max_text_chars:
        text = text[:max_text_chars]
        notes.append(say("share_text_cut", cap=max_text_chars))
    return SharedEditor(model.id, voice, text, language, instructions, tuple(notes))


def _matching(wanted: str, names: Mapping[str, object] | tuple[str, ...]) -> str | None:
    """The name spelled as the catalogue spells it, whatever case the link used."""
    return next((name for name in names if name.lower() == wanted.lower()), None)


def _voice(catalogue: Catalogue, model: Model, wanted: str) -> str:
    """The wanted voice if the model has it, else the default voice, else the model's first."""
    for candidate in (wanted, catalogue.default_voice):
        chosen = _matching(candidate, model.voices) if candidate else None
        if chosen:
            return chosen
    return model.voices[0]


def _language(model: Model, wanted: str, notes: list[Message]) -> str:
    if not wanted:
        return AUTO_LANGUAGE
    if not model.language_types:
        notes.append(say("share_language_not_taken", model=model.id))
        return AUTO_LANGUAGE
    chosen = _matching(wanted, model.language_types)
    if not chosen:
        notes.append(say("share_unknown_language", language=echo(wanted), model=model.id))
    return chosen or AUTO_LANGUAGE


def notes_html(notes: tuple[Message, ...]) -> str:
    if not notes:
        return ""
    lines = "".join(f"<p>{localized_html(note)}</p>" for note in notes)
    return f'<div class="share-note">{lines}</div>'


def model_options(catalogue: Catalogue) -> str:
    """{model: [takes a language, takes instructions]} as JSON, for the link made in the page."""
    return json.dumps(
        {model.id: [bool(model.language_types), model.instructions] for model in catalogue.models}
    )


class ShareHandlers:
    def __init__(
        self, catalogue: Catalogue, studio: Studio, note: gr.HTML, max_text_chars: int
    ) -> None:
        self.catalogue, self.studio, self.note = catalogue, studio, note
        self.max_text_chars = max_text_chars

    def _read(self, request: gr.Request, model: str, voice: str) -> SharedEditor | None:
        return read_link(
            request.query_params,
            self.catalogue,
            current_model=model,
            current_voice=voice,
            max_text_chars=self.max_text_chars,
        )

    def open_link(self, model: str, voice: str, request: gr.Request) -> Updates:
        """On the page's load: the editor as the address asks (nothing when it asks nothing).

        The model comes after (open_model): a model change re-picks the voice from the voice
        the page holds, which must be the link's by then."""
        shared = self._read(request, model, voice)
        if shared is None:  # the editor stays as it opened
            return {self.note: ""}
        studio = self.studio
        updates: Updates = {
            studio.voice: voice_picker(self.catalogue, shared.model, shared.voice),
            studio.language: shared.language,
            self.note: notes_html(shared.notes),
        }
        if shared.text is not None:
            updates[studio.text] = shared.text
        if shared.instructions is not None:
            updates[studio.instructions] = shared.instructions
        return updates

    def open_model(self, model: str, voice: str, request: gr.Request) -> str:
        """The link's model, when it is not the one the editor opened with."""
        shared = self._read(request, model, voice)
        if shared is None or shared.model == model:
            return gr.skip()
        return shared.model


def build_share() -> ShareControls:
    """The Share button, where the link it made shows, and the notes on an opened link."""
    with gr.Row(elem_id="share_row"):
        button = gr.Button(
            I18N("ui_share"), size="sm", variant="secondary", elem_id="share", scale=0
        )
        link = gr.HTML(elem_id="share_link")
    note = gr.HTML(elem_id="share_note")
    return ShareControls(button, link, note)


def wire_share(
    demo: gr.Blocks, catalogue: Catalogue, studio: Studio, share: ShareControls, max_chars: int
) -> None:
    """The link opened on load; Share makes the link in the browser (no round trip, so the
    clipboard is written inside the click) from what the editor holds."""
    handlers = ShareHandlers(catalogue, studio, share.note, max_chars)
    outputs = [studio.text, studio.model, studio.voice, studio.language, studio.instructions]
    current = [studio.model, studio.voice]
    demo.load(handlers.open_link, current, [*outputs, share.note], **PAGE_EVENT).then(
        handlers.open_model, current, [studio.model], **PAGE_EVENT
    )
    options = model_options(catalogue)
    share.button.click(
        None, outputs, share.link, js=f"(...editor) => window.qwenTtsCards.share(editor, {options})"
    )
