"""What the simulated DashScope accepts, refuses and bills, by its own tables and its own text
measures; server.py does the HTTP. Every refusal is (HTTP status, DashScope code, message)."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable

from .tables import (
    ERRORS,
    INSTRUCTION_OPTIONS,
    MAX_INSTRUCTION_TOKENS,
    MODELS,
    NO_KEY,
    Model,
)
from .voices import VOICE_GONE, WRONG_FAMILY

Refusal = tuple[int, str, str]
_HAN_NAMES = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")


# --- Text measures (§4) -------------------------------------------------------------------------


def is_han(character: str) -> bool:
    """A Han ideograph (hanzi, kanji or hanja), in any CJK block including the extensions."""
    return unicodedata.name(character, "").startswith(_HAN_NAMES)


def billed_characters(text: str) -> int:
    """qwen3 billing: a Han character counts 2; every other letter, mark or space counts 1."""
    return sum(2 if is_han(ch) else 1 for ch in text)


def text_tokens(text: str) -> int:
    """The simulator's guess at qwen-tts text tokens, as DashScope publishes no tokenizer: one
    per Han character, one per started four letters, digits or underscores of a word, one per other visible
    symbol; spaces are free."""
    tokens = run = 0
    for ch in text + " ":
        if (ch.isalnum() or ch == "_") and not is_han(ch):
            run += 1
            continue
        tokens += math.ceil(run / 4)
        run = 0
        if not ch.isspace():
            tokens += 1
    return tokens


def input_size(model: Model, text: str) -> int:
    """The text's size against the model's limit: tokens for qwen-tts, characters for qwen3."""
    return text_tokens(text) if model.billing == "tokens" else len(text)


# --- Refusals -----------------------------------------------------------------------------------


def model_named(model_id: object, models: tuple[Model, ...] = MODELS) -> Model | None:
    return next((m for m in models if m.id == model_id), None)


def refusal(
    keys: dict[str, str],
    region: str,
    headers: dict,
    body: dict | None,
    models: tuple[Model, ...] = MODELS,
    custom_family: Callable[[str], str | None] = lambda voice: None,
) -> Refusal | None:
    """How the real service would refuse this request, or None if it would answer it;
    `custom_family` names the family of the caller's custom voice (None: no such voice)."""
    return key_refusal(keys, region, headers) or _body_refusal(models, region, body, custom_family)


def bearer_key(headers: dict) -> str:
    auth = headers.get("authorization", "")
    return auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""


def key_refusal(keys: dict[str, str], region: str, headers: dict) -> Refusal | None:
    key = bearer_key(headers)
    if not key:
        return NO_KEY
    if keys.get(key) != region:  # keys work only in their own region
        return ERRORS["invalid_key"]
    return None


def _body_refusal(
    models: tuple[Model, ...], region: str, body: dict | None, custom_family: Callable
) -> Refusal | None:
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        return ERRORS["invalid_body"]
    if not body.get("model"):
        return ERRORS["empty_model"]
    model = model_named(body["model"], models)
    if model is None or not model.offered_in(region):
        return ERRORS["model_not_exist"]
    inputs = body["input"]
    text = inputs.get("text")
    if not isinstance(text, str) or not text:
        return ERRORS["empty_input"]
    if model.family:
        voice = inputs.get("voice")
        found = custom_family(voice) if isinstance(voice, str) else None
        if found != model.family:
            status, code, message = WRONG_FAMILY if found else VOICE_GONE
            return status, code, message.format(voice=voice, model=model.id)
    elif inputs.get("voice") not in model.voices:  # each snapshot has its own voice table
        return 400, "InvalidParameter", _voice_message(model, inputs.get("voice"))
    if input_size(model, text) > model.max_input:
        return 400, "InvalidParameter", f"Range of input length should be [1, {model.max_input}]"
    return _option_refusal(model, inputs, body.get("parameters") or {})


def _voice_message(model: Model, voice: object) -> str:
    """qwen-tts names its voices as the docs show (§1.6); for qwen3 the text is [uncertain] and
    this is the third-party fixtures' form."""
    if model.billing == "tokens":
        *first, last = (f"'{name}'" for name in model.voices)
        return f"Input should be {', '.join(first)} or {last}: parameters.audio.voice"
    return f"Voice '{voice}' is not supported."


def option(inputs: dict, parameters: dict, name: str) -> object:
    """An option the API accepts in `input` (the HTTP docs) or `parameters` (where the SDK puts
    anything it does not name); `input` wins when both carry it."""
    return inputs[name] if name in inputs else parameters.get(name)


def _option_refusal(model: Model, inputs: dict, parameters: dict) -> Refusal | None:
    language = option(inputs, parameters, "language_type")
    if language is not None and language not in model.language_types:
        return 400, "InvalidParameter", f"language_type '{language}' is not supported."
    sent = [name for name in INSTRUCTION_OPTIONS if option(inputs, parameters, name) is not None]
    if sent and not model.instructions:
        return 400, "InvalidParameter", f"{sent[0]} is not supported by model {model.id}."
    instructions = option(inputs, parameters, "instructions")
    if instructions is not None and (not isinstance(instructions, str) or not instructions.strip()):
        return 400, "InvalidParameter", "instructions must be a non-empty string."
    if isinstance(instructions, str) and text_tokens(instructions) > MAX_INSTRUCTION_TOKENS:
        message = f"Range of instructions length should be [1, {MAX_INSTRUCTION_TOKENS}]"
        return 400, "InvalidParameter", message
    optimize = option(inputs, parameters, "optimize_instructions")
    if optimize is not None and not isinstance(optimize, bool):
        return 400, "InvalidParameter", "optimize_instructions must be a boolean."
    return None


# --- What changes the audio, and what is billed -------------------------------------------------


def style(inputs: dict, parameters: dict) -> str:
    """What, besides model, voice and text, changes the delivery: language and instructions."""
    parts = (option(inputs, parameters, name) for name in ("language_type", "instructions"))
    return "|".join(str(part) for part in parts if part is not None)


def usage(model: Model, text: str, audio_seconds: float, final: bool) -> dict:
    """The usage object of a frame (§1.4, §1.5): characters for qwen3 (the same in every frame),
    cumulative tokens for qwen-tts (audio is 50 tokens a second, under 1 s counted as 50)."""
    if model.billing == "characters":
        return {"characters": billed_characters(text)}
    tokens_in = text_tokens(text)
    tokens_out = math.ceil(audio_seconds * 50)
    if final:
        tokens_out = max(50, math.ceil(audio_seconds) * 50)
    return {
        "total_tokens": tokens_in + tokens_out,
        "input_tokens_details": {"text_tokens": tokens_in},
        "output_tokens": tokens_out,
        "input_tokens": tokens_in,
        "output_tokens_details": {"audio_tokens": tokens_out, "text_tokens": 0},
    }
