"""What the simulated DashScope accepts, refuses and bills, as the reference describes the real
service; simulator.py does the HTTP. Every refusal is (HTTP status, DashScope code, message)."""

from __future__ import annotations

import math

from .catalogue import Catalogue, Model
from .text import billed_characters, estimated_tokens, input_size

Refusal = tuple[int, str, str]
INSTRUCTION_OPTIONS = ("instructions", "optimize_instructions")  # instruct models only


def model_named(catalogue: Catalogue, model_id: object) -> Model | None:
    return next((m for m in catalogue.models if m.id == model_id), None)


def refusal(
    catalogue: Catalogue, keys: dict[str, str], region: str, headers: dict, body: dict | None
) -> Refusal | None:
    """How the real service would refuse this request, or None if it would answer it."""
    return _key_refusal(keys, region, headers) or _body_refusal(catalogue, region, body)


def _key_refusal(keys: dict[str, str], region: str, headers: dict) -> Refusal | None:
    auth = headers.get("authorization", "")
    key = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else ""
    if not key:
        return 401, "InvalidApiKey", "No API-key provided."
    if keys.get(key) != region:  # keys work only in their own region
        return 401, "InvalidApiKey", "Invalid API-key provided."
    return None


def _body_refusal(catalogue: Catalogue, region: str, body: dict | None) -> Refusal | None:
    if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
        message = "Required body invalid, please check the request body format."
        return 400, "InvalidParameter", message
    if not body.get("model"):
        return 400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'
    model = model_named(catalogue, body["model"])
    if model is None or not model.offered_in(region):
        return 400, "InvalidParameter", "Model not exist."
    inputs = body["input"]
    text = inputs.get("text")
    if not isinstance(text, str) or not text:
        return 400, "BadRequest.EmptyInput", "Required input parameter missing from request."
    if inputs.get("voice") not in model.voices:  # each snapshot has its own voice table
        return 400, "InvalidParameter", f"Voice '{inputs.get('voice')}' is not supported."
    if input_size(text, model.input_unit) > model.max_input:
        return 400, "InvalidParameter", f"Range of input length should be [1, {model.max_input}]"
    return _option_refusal(model, inputs, body.get("parameters") or {})


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
    optimize = option(inputs, parameters, "optimize_instructions")
    if optimize is not None and not isinstance(optimize, bool):
        return 400, "InvalidParameter", "optimize_instructions must be a boolean."
    return None


def style(inputs: dict, parameters: dict) -> str:
    """What, besides model, voice and text, changes the delivery: language and instructions."""
    parts = (option(inputs, parameters, name) for name in ("language_type", "instructions"))
    return "|".join(str(part) for part in parts if part is not None)


def usage(model: Model, text: str, audio_seconds: float, final: bool) -> dict:
    """The usage object of a frame: characters for qwen3 (the same in every frame), cumulative
    tokens for qwen-tts (50 per second of audio, at least 50 in the last frame)."""
    if model.billing == "characters":
        return {"characters": billed_characters(text)}
    tokens_in = estimated_tokens(text)
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
