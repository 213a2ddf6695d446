"""What the real DashScope offers, written from the wire reference (dashscope-qwen-tts.md), not
from the app's catalogue: models, the voices each accepts, regions, input limits, billing,
language_type values, instructions, and the error rows. Section numbers (§) are the reference's.

Where the reference is unsure, the choice made here is said next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATION_PATH = "/services/aigc/multimodal-generation/generation"  # the one route (§1.1)
URL_LIFETIME_S = 86_400  # audio.url is valid 24 h (§1.4)

# --- Regions (§5) -------------------------------------------------------------------------------
# Both regions share one port: Beijing answers at /api/v1, Singapore at /intl/api/v1.
REGION_PREFIXES = {"beijing": "/api/v1", "singapore": "/intl/api/v1"}
BEIJING_ONLY = ("beijing",)
BOTH_REGIONS = ("beijing", "singapore")  # Singapore offers only the qwen3-tts family
# API keys only work in their own region (§5); these are the simulator's own.
DEFAULT_KEYS = {"sk-sim-beijing": "beijing", "sk-sim-singapore": "singapore"}

# --- Voices (§3.2, §3.3) ------------------------------------------------------------------------
# qwen-tts: Mandarin + English; the three dialect voices arrived with 2025-05-22.
QWEN_TTS_VOICES = ("Cherry", "Serena", "Ethan", "Chelsie")
QWEN_TTS_DIALECT_VOICES = ("Dylan", "Jada", "Sunny")
# qwen3-tts-flash table A: the original 17 (qwen3-tts-flash-2025-09-18).
QWEN3_TABLE_A = (
    "Cherry",
    "Ethan",
    "Nofish",
    "Jennifer",
    "Ryan",
    "Katerina",
    "Elias",
    "Jada",
    "Dylan",
    "Sunny",
    "Li",  # wavespeed writes "li"; the official preview is Li.wav
    "Marcus",
    "Roy",
    "Peter",
    "Rocky",
    "Kiki",
    "Eric",
)
# Table B: the 32 added by qwen3-tts-flash-2025-11-27 (49 in all).
QWEN3_TABLE_B = (
    "Serena",
    "Chelsie",
    "Momo",
    "Vivian",
    "Moon",
    "Maia",
    "Kai",
    "Bella",
    "Aiden",
    "Eldric Sage",
    "Mia",
    "Mochi",
    "Bellona",
    "Vincent",
    "Bunny",
    "Neil",
    "Arthur",
    "Nini",
    "Ebona",
    "Seren",
    "Pip",
    "Stella",
    "Bodega",
    "Sonrisa",
    "Alek",
    "Dolce",
    "Sohee",
    "Ono Anna",
    "Lenn",
    "Emilien",
    "Andre",
    "Radio Gol",
)
# Table C: qwen3-tts-instruct-flash (24, no dialects).
QWEN3_INSTRUCT_VOICES = (
    "Cherry",
    "Serena",
    "Ethan",
    "Chelsie",
    "Momo",
    "Vivian",
    "Moon",
    "Maia",
    "Kai",
    "Nofish",
    "Bella",
    "Eldric Sage",
    "Mia",
    "Mochi",
    "Bellona",
    "Vincent",
    "Bunny",
    "Neil",
    "Elias",
    "Arthur",
    "Nini",
    "Seren",
    "Pip",
    "Stella",
)

# --- language_type (§3.4) -----------------------------------------------------------------------
# Exact spelling; no dialect values (the dialect comes from the voice).
LANGUAGE_TYPES = (
    "Auto",
    "Chinese",
    "English",
    "German",
    "Italian",
    "Portuguese",
    "Spanish",
    "Japanese",
    "Korean",
    "French",
    "Russian",
)

# --- Limits (§4, §3.1) --------------------------------------------------------------------------
MAX_INPUT_TOKENS = 512  # qwen-tts*
MAX_INPUT_CHARACTERS = 600  # qwen3-tts-*: each character 1 here (Han as 2 is [uncertain] in §4)
MAX_INSTRUCTION_TOKENS = 1600  # qwen3-tts-instruct-flash's `instructions`
INSTRUCTION_OPTIONS = ("instructions", "optimize_instructions")  # instruct models only


@dataclass(frozen=True)
class Model:
    """One synthesis model as the service sees it."""

    id: str
    billing: str  # "tokens" (usage in tokens, limit in tokens) or "characters"
    max_input: int  # in the billing's unit: tokens, or characters each counting 1
    regions: tuple[str, ...]
    voices: tuple[str, ...]
    language_types: tuple[str, ...] = ()  # empty: the model takes no language_type
    instructions: bool = False  # takes `instructions` and `optimize_instructions`
    family: str = ""  # "design" or "clone": speaks only custom voices of that family (voices.py)

    def offered_in(self, region: str) -> bool:
        return region in self.regions


def _qwen_tts(model_id: str, voices: tuple[str, ...]) -> Model:
    return Model(model_id, "tokens", MAX_INPUT_TOKENS, BEIJING_ONLY, voices)


def _qwen3(model_id: str, voices: tuple[str, ...], instructions: bool = False) -> Model:
    return Model(
        model_id,
        "characters",
        MAX_INPUT_CHARACTERS,
        BOTH_REGIONS,
        voices,
        LANGUAGE_TYPES,
        instructions,
    )


# §3.1. The realtime models are not served here. The voice-design (VD) and voice-clone (VC)
# models speak only custom voices of their own family (voices.py; the voices reference §1).
MODELS = (
    _qwen_tts("qwen-tts", QWEN_TTS_VOICES),  # = qwen-tts-2025-04-10
    _qwen_tts("qwen-tts-2025-04-10", QWEN_TTS_VOICES),
    _qwen_tts("qwen-tts-latest", QWEN_TTS_VOICES + QWEN_TTS_DIALECT_VOICES),  # = 2025-05-22
    _qwen_tts("qwen-tts-2025-05-22", QWEN_TTS_VOICES + QWEN_TTS_DIALECT_VOICES),
    # The stable alias: the Dec-2025 docs say -2025-09-18, the newer sources -2025-11-27
    # [uncertain]; the newer is taken.
    _qwen3("qwen3-tts-flash", QWEN3_TABLE_A + QWEN3_TABLE_B),
    _qwen3("qwen3-tts-flash-2025-11-27", QWEN3_TABLE_A + QWEN3_TABLE_B),
    _qwen3("qwen3-tts-flash-2025-09-18", QWEN3_TABLE_A),
    _qwen3("qwen3-tts-instruct-flash", QWEN3_INSTRUCT_VOICES, instructions=True),
    _qwen3("qwen3-tts-instruct-flash-2026-01-26", QWEN3_INSTRUCT_VOICES, instructions=True),
    Model(
        "qwen3-tts-vd-2026-01-26",
        "characters",
        MAX_INPUT_CHARACTERS,
        BOTH_REGIONS,
        (),
        LANGUAGE_TYPES,
        family="design",
    ),
    Model(
        "qwen3-tts-vc-2026-01-22",
        "characters",
        MAX_INPUT_CHARACTERS,
        BOTH_REGIONS,
        (),
        LANGUAGE_TYPES,
        family="clone",
    ),
)

# --- Errors (§1.6): fault name -> (HTTP status, code, message), every row of the table ---------
ERRORS = {
    "invalid_key": (401, "InvalidApiKey", "Invalid API-key provided."),
    "invalid_key_snake_case": (401, "invalid_api_key", "Invalid API-key provided."),
    "access_denied": (403, "AccessDenied", "Access denied."),
    "access_denied_unpurchased": (
        403,
        "AccessDenied.Unpurchased",
        "Access to model denied. Please make sure you are eligible for using the model.",
    ),
    "model_access_denied": (403, "Model.AccessDenied", "Model access denied."),
    "free_tier_only": (
        403,
        "AllocationQuota.FreeTierOnly",
        "The free tier of the model has been exhausted.",
    ),
    "arrearage": (
        400,
        "Arrearage",
        "Access denied, please make sure your account is in good standing.",
    ),
    "data_inspection": (
        400,
        "DataInspectionFailed",
        "Input data may contain inappropriate content.",
    ),
    "data_inspection_snake_case": (
        400,
        "data_inspection_failed",
        "Input or output data may contain inappropriate content.",
    ),
    "throttling": (
        429,
        "Throttling.RateQuota",
        "Requests rate limit exceeded, please try again later.",
    ),
    "throttling_plain": (429, "Throttling", "Requests throttling triggered."),
    "burst_rate": (
        429,
        "Throttling.BurstRate",
        "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time.",
    ),
    "quota_exceeded": (
        429,
        "Throttling.AllocationQuota",
        "Allocated quota exceeded, please increase your quota limit.",
    ),
    "insufficient_quota": (429, "insufficient_quota", "Free allocated quota exceeded."),
    "internal_error": (
        500,
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    ),
    "unavailable": (503, "ModelUnavailable", "Model is unavailable, please try again later."),
    "overloaded": (
        503,
        "ModelServingError",
        "Too many requests. Your requests are being throttled due to system capacity limits. Please try again later.",
    ),
    "invalid_parameter": (400, "InvalidParameter", "Range of input length should be [1, 512]"),
    "model_not_exist": (400, "InvalidParameter", "Model not exist."),
    "voice_not_supported": (
        400,
        "InvalidParameter",
        "Input should be 'Cherry', 'Serena', 'Ethan' or 'Chelsie': parameters.audio.voice",
    ),
    "invalid_body": (
        400,
        "InvalidParameter",
        "Required body invalid, please check the request body format.",
    ),
    "empty_input": (400, "BadRequest.EmptyInput", "Required input parameter missing from request."),
    "empty_model": (
        400,
        "BadRequest.EmptyModel",
        'Required parameter "model" missing from request.',
    ),
    "model_not_found": (404, "ModelNotFound", "Model can not be found."),
    "model_not_found_snake_case": (
        404,
        "model_not_found",
        "The model qwen-tts-latest does not exist or you do not have access to it.",
    ),
}
NO_KEY = (401, "InvalidApiKey", "No API-key provided.")  # a missing key (§1.6, §1.9)
MIDSTREAM_REJECTION = ("DataInspectionFailed", "Output data may contain inappropriate content.")
