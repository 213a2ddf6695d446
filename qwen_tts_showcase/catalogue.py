"""Models, voices, languages, regions, instruction presets and gallery samples, loaded once from
the data files and checked there: a bad row fails at start-up, naming its file and row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from pathlib import Path
from typing import TypeVar

from .datafiles import SAMPLES_DIR, DataFileError, checked_row, data_path, field, load_json
from .errors import InputError, echo
from .messages import Message, say
from .text import clean_text, estimated_tokens

_Row = TypeVar("_Row")

CATALOGUE_FILE = data_path("catalogue.json")
PRESETS_FILE = data_path("instruction_presets.json")
BLOG_SAMPLE_FILES = (data_path("samples/blog_samples.json"),)
EXTRA_SAMPLE_FILES = (data_path("samples/extra_samples.json"),)

AUTO_LANGUAGE = "Auto"  # the API's default language_type: choosing it sends nothing
MAX_INSTRUCTION_TOKENS = 1600  # qwen3-tts-instruct-flash's limit on `instructions`
# The HTTP entry points, then the WebSocket ones: "realtime" (QwenTtsRealtime's session events)
# and "task" (Qwen-Audio TTS 3.x's run-task protocol, with word times).
SDKS = ("speech_synthesizer", "multimodal_conversation", "realtime", "task")
WEBSOCKET_SDKS = ("realtime", "task")
# The formats the app asks the WebSocket models for: what the live player can play as it arrives.
# mp3 and opus would need a decoder per stream, so they are not offered.
PLAYABLE_FORMATS = ("pcm", "wav")
UNITS = ("tokens", "characters")
FAMILIES = ("design", "clone")  # custom voices: designed from words, cloned from a recording


@dataclass(frozen=True)
class Region:
    id: str
    en: str  # "Beijing (China mainland)"
    zh: str
    short_en: str  # "Beijing", where space is short (the model list's marks)
    short_zh: str
    base_url: str
    base_url_env: str
    # The WebSocket URLs, without ?model= (the SDK appends it): the realtime models, and
    # Qwen-Audio TTS 3.x's task route.
    realtime_url: str
    realtime_url_env: str
    task_url: str
    task_url_env: str


@dataclass(frozen=True)
class Language:
    id: str  # the API's language_type value, e.g. "English"
    en: str
    zh: str

    @property
    def label(self) -> str:
        return f"{self.en} · {self.zh}"


GENDERS = {"female": "\u2640", "male": "\u2642"}  # the pickers' signs: the same in both languages


@dataclass(frozen=True)
class Voice:
    name: str  # the API's voice string: case-sensitive, may hold spaces ("Eldric Sage")
    zh_name: str
    variety: str  # a key of the catalogue's varieties
    variety_en: str
    variety_zh: str
    gender: str = "female"  # a key of GENDERS
    character_en: str = ""  # a few words on how the voice sounds
    character_zh: str = ""
    # The voice's own group in the pickers: its Chinese variety, or the language a Mandarin
    # voice was made for ("Ono Anna" speaks Chinese with a Japanese voice): (id, en, zh).
    group: tuple[str, str, str] = ("", "", "")

    @property
    def label(self) -> str:
        """What the dropdown shows: the name, its group in Chinese and English, its gender's sign
        (content in both languages, as a dropdown's labels are not translated)."""
        _, group_en, group_zh = (
            self.group if self.group[0] else ("", self.variety_en, self.variety_zh)
        )
        return f"{self.name} · {group_zh} {group_en} · {GENDERS[self.gender]}"


@dataclass(frozen=True)
class Model:
    id: str
    en: str
    zh: str
    name: str  # the readable name the pickers show ("Qwen3-TTS Flash"), the same in both languages
    sdk: str  # which dashscope entry point the model expects
    billing: str  # "tokens" or "characters"
    max_input: int
    input_unit: str  # what max_input counts: "tokens" or "characters"
    regions: tuple[str, ...]
    voices: tuple[str, ...]
    language_types: tuple[str, ...] = ()  # empty: the model takes no language_type
    instructions: bool = False  # takes `instructions` (the qwen3-tts-instruct models)
    family: str = ""  # "design" or "clone": speaks only the custom voices of that family
    # The WebSocket models' own controls (empty for HTTP models): what the page offers.
    formats: tuple[str, ...] = ()  # response_format values the app can play ("pcm", "wav")
    sample_rates: tuple[int, ...] = ()
    word_times: bool = False  # returns the time of every word (Qwen-Audio TTS 3.x)

    def offered_in(self, region_id: str) -> bool:
        return region_id in self.regions

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the model may be told the text is in (Auto left out)."""
        return tuple(name for name in self.language_types if name != AUTO_LANGUAGE)

    @property
    def realtime(self) -> bool:
        """Spoken over a WebSocket, with speech rate, pitch, volume, sample rate and format."""
        return self.sdk in WEBSOCKET_SDKS


@dataclass(frozen=True)
class InstructionPreset:
    """A ready-made instruction for the instruct models, with a voice and a line to try it on."""

    id: str
    en: str
    zh: str
    voice: str
    instructions_en: str
    instructions_zh: str
    text_en: str
    text_zh: str


@dataclass(frozen=True)
class Sample:
    id: str
    group: str  # "dialect" or "bilingual"
    voice: str
    model: str
    variety: str
    language: str
    text: str
    official_audio: str  # the blog's recording, played by the browser; "" for our own samples
    source: str  # the file's source: the blog's URL, or a note that the sample is ours

    @property
    def has_official_audio(self) -> bool:
        return bool(self.official_audio)


@dataclass(frozen=True)
class Catalogue:
    regions: tuple[Region, ...]
    voices: dict[str, Voice]
    models: tuple[Model, ...]
    samples: tuple[Sample, ...]  # the blog's, in the blog's order (the gallery indexes them)
    default_voice: str
    languages: dict[str, Language]
    extra_samples: tuple[Sample, ...] = ()  # ours, kept apart from the blog's
    presets: tuple[InstructionPreset, ...] = ()
    # The VD and VC models: they speak only designed or cloned voices (voices.py), so the
    # pickers that list `models` leave them out.
    custom_models: tuple[Model, ...] = ()
    # A line each voice introduces itself with, by its group (voice_group): "{name}", "{zh_name}".
    preview_lines: dict[str, str] = dataclass_field(default_factory=dict)
    varieties: tuple[str, ...] = ("mandarin",)  # the Chinese varieties, in the data's order

    @property
    def default_model(self) -> str:
        """The model the page opens on where no region is known: that of the first region."""
        return self.default_model_in(self.regions[0].id)

    def default_model_in(self, region_id: str) -> str:
        """The region's model with the most Chinese varieties (the showcase is its dialects),
        the first in catalogue order on a tie."""
        offered = self.models_in(region_id)
        return max(offered, key=lambda m: len(self.varieties_of(m.id))).id

    def grouped_voices(self, model_id: str) -> list[Voice]:
        """The model's voices by group, as the pickers list them: the dialects first (the
        showcase), then Mandarin, then the voices made for other languages; within a group,
        in catalogue order."""
        order = [v for v in self.varieties if v != "mandarin"] + ["mandarin", *self.languages]
        return sorted(self.voices_of(model_id), key=lambda voice: order.index(voice.group[0]))

    def varieties_of(self, model_id: str) -> list[str]:
        """The Chinese varieties the model's voices speak, each once, in the voices' order."""
        return list(dict.fromkeys(voice.variety for voice in self.voices_of(model_id)))

    def preview_text(self, voice_name: str) -> str:
        """The line the voice introduces itself with (the showcase pack renders it)."""
        voice = self.voices[voice_name]
        return self.preview_lines[voice.group[0]].format(name=voice.name, zh_name=voice.zh_name)

    def sample_model(self, sample: Sample, region_id: str) -> str:
        """The model a sample speaks with in the region: its own, or where the region lacks it
        the region's first model with the same voice (the dialect voices of qwen-tts live on in
        qwen3-tts-flash)."""
        if self.model(sample.model).offered_in(region_id):
            return sample.model
        speaking = [m.id for m in self.models_in(region_id) if sample.voice in m.voices]
        return speaking[0] if speaking else sample.model

    def model(self, model_id: str) -> Model:
        """The model with this id, or an InputError listing the valid ones."""
        return _find(self.models + self.custom_models, model_id, say("noun_model"))

    def custom_model(self, family: str, region_id: str) -> Model | None:
        """The model that speaks custom voices of this family in the region, if any."""
        return next(
            (m for m in self.custom_models if m.family == family and m.offered_in(region_id)), None
        )

    def region(self, region_id: str) -> Region:
        return _find(self.regions, region_id, say("noun_region"))

    def models_in(self, region_id: str) -> tuple[Model, ...]:
        """The models the region offers, in catalogue order."""
        region = self.region(region_id)
        return tuple(m for m in self.models if m.offered_in(region.id))

    def voices_of(self, model_id: str) -> list[Voice]:
        return [self.voices[name] for name in self.model(model_id).voices]

    def check_voice(self, model_id: str, voice: str) -> Voice:
        """The voice if the model offers it, else an InputError naming the model's voices."""
        model = self.model(model_id)
        if voice not in model.voices:
            raise InputError(
                say(
                    "voice_not_offered",
                    voice=echo(voice),
                    model=model.id,
                    valid=", ".join(model.voices),
                )
            )
        return self.voices[voice]

    def check_language(self, model_id: str, language_type: str | None) -> str | None:
        """The language_type to send (None for Auto or none), or an InputError with the choices."""
        model = self.model(model_id)
        wanted = (language_type or "").strip()
        if not wanted or wanted.lower() == AUTO_LANGUAGE.lower():
            return None
        if not model.language_types:
            raise InputError(say("language_not_taken", model=model.id))
        for name in model.language_types:  # the API's spelling, whatever case was typed
            if name.lower() == wanted.lower():
                return name
        raise InputError(
            say(
                "language_unknown",
                language=echo(wanted),
                model=model.id,
                valid=", ".join(model.language_types),
            )
        )

    def check_instructions(self, model_id: str, instructions: str | None) -> str | None:
        """The cleaned instructions to send (None if blank), or an InputError saying what to do."""
        text = clean_text(instructions or "")
        if not text:
            return None
        model = self.model(model_id)
        if not model.instructions:
            instruct = ", ".join(m.id for m in self.models if m.instructions)
            raise InputError(say("instructions_not_taken", model=model.id, instruct=instruct))
        size = estimated_tokens(text)
        if size > MAX_INSTRUCTION_TOKENS:
            raise InputError(
                say("instructions_too_long", size=size, model=model.id, cap=MAX_INSTRUCTION_TOKENS)
            )
        return text

    def sample(self, sample_id: str) -> Sample:
        for sample in self.samples + self.extra_samples:
            if sample.id == sample_id:
                return sample
        raise InputError(say("sample_unknown", sample=echo(sample_id)))

    def preset(self, preset_id: str) -> InstructionPreset:
        return _find(self.presets, preset_id, say("noun_preset"))


_Item = TypeVar("_Item", Model, Region, InstructionPreset)


def _find(items: tuple[_Item, ...], wanted: str, noun: Message) -> _Item:
    """The item with this id, or an InputError listing the valid ones."""
    for item in items:
        if item.id == wanted:
            return item
    valid = ", ".join(item.id for item in items)
    raise InputError(say("name_unknown", noun=noun, name=echo(wanted), valid=valid))


# --- Loading and checking the data files --------------------------------------------------------


def _checked(path: Path, what: str, make: Callable[..., _Row], *args: object) -> _Row:
    """make(*args), or a DataFileError naming the file and the row."""
    return checked_row(f"{path}: {what}", make, *args)


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _region(row: dict) -> Region:
    region = Region(**row)
    _require(
        all(isinstance(value, str) and value for value in vars(region).values()), "a blank field"
    )
    return region


def _language(name: str, row: dict) -> Language:
    return Language(id=name, **row)


def _voice(name: str, row: dict, varieties: dict, languages: dict) -> Voice:
    variety = varieties[row["variety"]]
    accent = row.get("accent")
    if accent:  # a Mandarin voice made for another language's speakers: grouped by it
        _require(row["variety"] == "mandarin", "only a Mandarin voice has an accent")
        language = languages[accent]
        group = (language.id, language.en, language.zh)
    else:
        group = (row["variety"], variety["en"], variety["zh"])
    voice = Voice(
        name=name,
        zh_name=row["zh_name"],
        variety=row["variety"],
        variety_en=variety["en"],
        variety_zh=variety["zh"],
        gender=row["gender"],
        character_en=row["character_en"],
        character_zh=row["character_zh"],
        group=group,
    )
    _require(voice.gender in GENDERS, f"gender must be one of {tuple(GENDERS)}")
    _require(bool(voice.character_en and voice.character_zh), "a blank character line")
    return voice


def _model(row: dict, voices: dict, region_ids: set, languages: dict) -> Model:
    model = Model(
        **{
            **row,
            "regions": tuple(row["regions"]),
            "voices": tuple(row["voices"]),
            "language_types": tuple(row.get("language_types", ())),
            "formats": tuple(row.get("formats", ())),
            "sample_rates": tuple(row.get("sample_rates", ())),
        }
    )
    unknown = (
        [v for v in model.voices if v not in voices]
        + [r for r in model.regions if r not in region_ids]
        + [lang for lang in model.language_types if lang not in languages]
    )
    _require(not unknown, f"names unknown {unknown}")
    _require(
        model.sdk in SDKS and model.billing in UNITS and model.input_unit in UNITS,
        f"sdk must be one of {SDKS}, billing and input_unit one of {UNITS}",
    )
    _require(
        model.realtime == bool(model.formats and model.sample_rates)
        and set(model.formats) <= set(PLAYABLE_FORMATS),
        f"formats (of {PLAYABLE_FORMATS}) and sample_rates: for the WebSocket models only",
    )
    _require(
        not model.language_types or model.language_types[0] == AUTO_LANGUAGE,
        f"language_types must start with {AUTO_LANGUAGE}",
    )
    return model


def _sample(row: dict, source: str, models: dict, voices: dict) -> Sample:
    sample = Sample(**row, source=source)
    _require(sample.model in models, f"unknown model {sample.model!r}")
    _require(
        sample.voice in models[sample.model].voices,
        f"voice {sample.voice!r} is not offered by {sample.model}",
    )
    _require(
        sample.variety == voices[sample.voice].variety,
        f"variety {sample.variety!r} is not {sample.voice}'s",
    )
    _require(bool(sample.text.strip()), "empty text")
    return sample


def _samples(paths: tuple[Path, ...], models: dict, voices: dict) -> tuple[Sample, ...]:
    samples = []
    for path in paths:
        data = load_json(path)
        source = field(data, "source", str, str(path))
        for number, row in enumerate(field(data, "samples", list, str(path)), start=1):
            what = f"sample {row.get('id', number)!r}"
            samples.append(_checked(path, what, _sample, row, source, models, voices))
    return tuple(samples)


def _preset(row: dict, instruct_models: list[Model]) -> InstructionPreset:
    preset = InstructionPreset(**row)
    lacking = [m.id for m in instruct_models if preset.voice not in m.voices]
    _require(not lacking, f"voice {preset.voice!r} is not offered by {lacking}")
    for text in (preset.instructions_en, preset.instructions_zh):
        _require(
            0 < estimated_tokens(clean_text(text)) <= MAX_INSTRUCTION_TOKENS,
            f"instructions must be 1 to {MAX_INSTRUCTION_TOKENS} tokens",
        )
    return preset


def _build(
    raw: dict,
    blog_sample_files: tuple[Path, ...] = (),
    extra_sample_files: tuple[Path, ...] = (),
    presets: dict | None = None,
) -> Catalogue:
    regions, voices, languages, models = _catalogue_rows(raw)
    preview_lines = field(raw, "preview_lines", dict, str(CATALOGUE_FILE))
    default_voice = _checked(
        CATALOGUE_FILE, "defaults", _defaults, raw, models, regions, voices, preview_lines
    )
    blog = _samples(blog_sample_files, models, voices)
    extra = _samples(extra_sample_files, models, voices)
    ids = [s.id for s in blog + extra]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise DataFileError(f"{SAMPLES_DIR}: sample ids used twice: {duplicated}")
    instruct = [m for m in models.values() if m.instructions]
    preset_rows = field(presets, "presets", list, str(PRESETS_FILE)) if presets else []
    return Catalogue(
        regions=regions,
        voices=voices,
        models=tuple(models.values()),
        samples=blog,
        default_voice=default_voice,
        languages=languages,
        extra_samples=extra,
        presets=tuple(
            _checked(PRESETS_FILE, f"preset {row.get('id')!r}", _preset, row, instruct)
            for row in preset_rows
        ),
        custom_models=_custom_models(raw, regions, languages),
        preview_lines=preview_lines,
        varieties=tuple(field(raw, "varieties", dict, str(CATALOGUE_FILE))),
    )


def _custom_models(raw: dict, regions: tuple[Region, ...], languages: dict) -> tuple[Model, ...]:
    """catalogue.json's VD and VC models: no voices of their own, a family each."""
    region_ids = {region.id for region in regions}
    rows = field(raw, "custom_voice_models", list, str(CATALOGUE_FILE))
    models = tuple(
        _checked(CATALOGUE_FILE, f"model {row.get('id')}", _model, row, {}, region_ids, languages)
        for row in rows
    )
    for model in models:
        _checked(
            CATALOGUE_FILE,
            f"model {model.id}",
            _require,
            model.family in FAMILIES and not model.voices,
            f"family must be one of {FAMILIES}, voices empty",
        )
    return models


def _catalogue_rows(raw: dict) -> tuple[tuple[Region, ...], dict, dict, dict]:
    """catalogue.json's regions, voices, languages and models, each row checked."""

    def part(name: str, kind: type):
        return field(raw, name, kind, str(CATALOGUE_FILE))

    varieties = part("varieties", dict)
    languages = {
        name: _checked(CATALOGUE_FILE, f"language {name!r}", _language, name, row)
        for name, row in part("languages", dict).items()
    }
    voices = {
        name: _checked(CATALOGUE_FILE, f"voice {name!r}", _voice, name, row, varieties, languages)
        for name, row in part("voices", dict).items()
    }
    regions = tuple(
        _checked(CATALOGUE_FILE, f"region {number}", _region, row)
        for number, row in enumerate(part("regions", list), start=1)
    )
    region_ids = {region.id for region in regions}
    models = {
        row.get("id"): _checked(
            CATALOGUE_FILE, f"model {row.get('id')}", _model, row, voices, region_ids, languages
        )
        for row in part("models", list)
    }
    return regions, voices, languages, models


def _defaults(
    raw: dict, models: dict, regions: tuple[Region, ...], voices: dict, preview_lines: dict
) -> str:
    """The default voice, one every region's default model offers (that model is computed: the
    one with the most Chinese varieties); every voice has a preview line for its group."""
    voice = raw["default_voice"]
    partial = Catalogue(regions, voices, tuple(models.values()), (), voice, {})
    for region in regions:
        model = partial.default_model_in(region.id)
        _require(
            voice in models[model].voices, f"default_voice {voice!r} is not offered by {model}"
        )
    lacking = sorted({v.group[0] for v in voices.values()} - set(preview_lines))
    _require(not lacking, f"preview_lines lacks {lacking}")
    return voice


@cache
def load_catalogue() -> Catalogue:
    """The catalogue from the data files; a bad row fails here, naming file and row."""
    return _build(
        load_json(CATALOGUE_FILE), BLOG_SAMPLE_FILES, EXTRA_SAMPLE_FILES, load_json(PRESETS_FILE)
    )
