"""Models, voices, languages, regions, instruction presets and gallery samples, loaded once from
the data files and checked there: a bad row fails at start-up, naming its file and row."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

from .errors import InputError, echo
from .text import clean_text, estimated_tokens

DATA_DIR = Path(__file__).parent / "data"
SAMPLES_DIR = Path(__file__).parent.parent / "samples"
CATALOGUE_FILE = DATA_DIR / "catalogue.json"
PRESETS_FILE = DATA_DIR / "instruction_presets.json"
BLOG_SAMPLE_FILES = (SAMPLES_DIR / "blog_samples.json",)
EXTRA_SAMPLE_FILES = (SAMPLES_DIR / "extra_samples.json",)

AUTO_LANGUAGE = "Auto"  # the API's default language_type: choosing it sends nothing
MAX_INSTRUCTION_TOKENS = 1600  # qwen3-tts-instruct-flash's limit on `instructions`
SDKS = ("speech_synthesizer", "multimodal_conversation")
UNITS = ("tokens", "characters")


class CatalogueError(ValueError):
    """A data file holds a bad row; the message names the file and the row."""


@dataclass(frozen=True)
class Region:
    id: str
    en: str  # "Beijing (China mainland)"
    zh: str
    short_en: str  # "Beijing", where space is short (the model list's marks)
    short_zh: str
    base_url: str
    base_url_env: str
    console: str


@dataclass(frozen=True)
class Language:
    id: str  # the API's language_type value, e.g. "English"
    en: str
    zh: str

    @property
    def label(self) -> str:
        return f"{self.en} · {self.zh}"


@dataclass(frozen=True)
class Voice:
    name: str  # the API's voice string: case-sensitive, may hold spaces ("Eldric Sage")
    zh_name: str
    gender: str
    variety: str  # a key of the catalogue's varieties
    variety_en: str
    variety_zh: str

    @property
    def label(self) -> str:
        """What the dropdown shows, e.g. "Dylan · 北京话 Beijing"."""
        return f"{self.name} · {self.variety_zh} {self.variety_en}"


@dataclass(frozen=True)
class Model:
    id: str
    en: str
    zh: str
    sdk: str  # which dashscope entry point the model expects
    billing: str  # "tokens" or "characters"
    max_input: int
    input_unit: str  # what max_input counts: "tokens" or "characters"
    regions: tuple[str, ...]
    voices: tuple[str, ...]
    language_types: tuple[str, ...] = ()  # empty: the model takes no language_type
    instructions: bool = False  # takes `instructions` (the qwen3-tts-instruct models)

    def offered_in(self, region_id: str) -> bool:
        return region_id in self.regions


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
    default_model: str
    default_voice: str
    languages: dict[str, Language]
    extra_samples: tuple[Sample, ...] = ()  # ours, kept apart from the blog's
    presets: tuple[InstructionPreset, ...] = ()

    def model(self, model_id: str) -> Model:
        """The model with this id, or an InputError listing the valid ones."""
        return _find(self.models, model_id, "model", "模型")

    def region(self, region_id: str) -> Region:
        return _find(self.regions, region_id, "region", "地域")

    def models_in(self, region_id: str) -> tuple[Model, ...]:
        """The models the region offers, in catalogue order."""
        region = self.region(region_id)
        return tuple(m for m in self.models if m.offered_in(region.id))

    def voices_of(self, model_id: str) -> list[Voice]:
        return [self.voices[name] for name in self.model(model_id).voices]

    def languages_of(self, model_id: str) -> list[Language]:
        """The language_type choices of a model, Auto first; empty for the qwen-tts models."""
        return [self.languages[name] for name in self.model(model_id).language_types]

    def check_voice(self, model_id: str, voice: str) -> Voice:
        """The voice if the model offers it, else an InputError naming the model's voices."""
        model = self.model(model_id)
        if voice not in model.voices:
            valid = ", ".join(model.voices)
            raise InputError(
                f"Voice {echo(voice)} is not available for {model.id}. Choose one of: {valid}.",
                f"{model.id} 没有音色 {echo(voice)}。可选：{valid}。",
            )
        return self.voices[voice]

    def check_language(self, model_id: str, language_type: str | None) -> str | None:
        """The language_type to send (None for Auto or none), or an InputError with the choices."""
        model = self.model(model_id)
        wanted = (language_type or "").strip()
        if not wanted or wanted.lower() == AUTO_LANGUAGE.lower():
            return None
        if not model.language_types:
            raise InputError(
                f"{model.id} takes no language setting: it reads the text as written. Set the "
                "language to Auto, or pick a qwen3-tts model.",
                f"{model.id} 不支持设置语言，会按文本原样朗读。请将语言设为“自动”，或选择 qwen3-tts 模型。",
            )
        for name in model.language_types:  # the API's spelling, whatever case was typed
            if name.lower() == wanted.lower():
                return name
        valid = ", ".join(model.language_types)
        raise InputError(
            f"Unknown language {echo(wanted)} for {model.id}. Choose one of: {valid}.",
            f"{model.id} 不支持语言 {echo(wanted)}。可选：{valid}。",
        )

    def check_instructions(self, model_id: str, instructions: str | None) -> str | None:
        """The cleaned instructions to send (None if blank), or an InputError saying what to do."""
        text = clean_text(instructions or "")
        if not text:
            return None
        model = self.model(model_id)
        if not model.instructions:
            instruct = ", ".join(m.id for m in self.models if m.instructions)
            raise InputError(
                f"{model.id} does not follow instructions. Clear the instructions, or pick a "
                f"model that does: {instruct}.",
                f"{model.id} 不支持指令控制。请清空指令，或选择支持指令的模型：{instruct}。",
            )
        size = estimated_tokens(text)
        if size > MAX_INSTRUCTION_TOKENS:
            raise InputError(
                f"The instructions are about {size} tokens long; {model.id} accepts at most "
                f"{MAX_INSTRUCTION_TOKENS}. Shorten them and try again.",
                f"指令约 {size} 个 token，{model.id} 最多接受 {MAX_INSTRUCTION_TOKENS} 个。请缩短后重试。",
            )
        return text

    def sample(self, sample_id: str) -> Sample:
        for sample in self.samples + self.extra_samples:
            if sample.id == sample_id:
                return sample
        raise InputError(f"Unknown sample {echo(sample_id)}.", f"未知样例 {echo(sample_id)}。")

    def preset(self, preset_id: str) -> InstructionPreset:
        return _find(self.presets, preset_id, "instruction preset", "指令预设")


_Item = TypeVar("_Item", Model, Region, InstructionPreset)


def _find(items: tuple[_Item, ...], wanted: str, noun_en: str, noun_zh: str) -> _Item:
    """The item with this id, or an InputError listing the valid ones."""
    for item in items:
        if item.id == wanted:
            return item
    valid = ", ".join(item.id for item in items)
    raise InputError(
        f"Unknown {noun_en} {echo(wanted)}. Choose one of: {valid}.",
        f"未知{noun_zh} {echo(wanted)}。可选：{valid}。",
    )


# --- Loading and checking the data files --------------------------------------------------------

_Row = TypeVar("_Row")


def _read_json(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _checked(path: Path, what: str, make: Callable[..., _Row], *args: object) -> _Row:
    """make(*args) or a CatalogueError naming the file and the row, whatever was wrong with it."""
    try:
        return make(*args)
    except CatalogueError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise CatalogueError(f"{path}: {what}: {type(exc).__name__} {exc}") from exc


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _voice(name: str, row: dict, varieties: dict) -> Voice:
    variety = varieties[row["variety"]]
    return Voice(
        name=name,
        zh_name=row["zh_name"],
        gender=row["gender"],
        variety=row["variety"],
        variety_en=variety["en"],
        variety_zh=variety["zh"],
    )


def _model(row: dict, voices: dict, region_ids: set, languages: dict) -> Model:
    model = Model(
        **{
            **row,
            "regions": tuple(row["regions"]),
            "voices": tuple(row["voices"]),
            "language_types": tuple(row.get("language_types", ())),
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
        data = _read_json(path)
        source = data["source"]
        for number, row in enumerate(data["samples"], start=1):
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
    varieties = raw["varieties"]
    voices = {
        name: _checked(CATALOGUE_FILE, f"voice {name!r}", _voice, name, row, varieties)
        for name, row in raw["voices"].items()
    }
    languages = {name: Language(id=name, **row) for name, row in raw["languages"].items()}
    regions = tuple(Region(**row) for row in raw["regions"])
    region_ids = {region.id for region in regions}
    models = {
        row.get("id"): _checked(
            CATALOGUE_FILE,
            f"model {row.get('id')}",
            _model,
            row,
            voices,
            region_ids,
            languages,
        )
        for row in raw["models"]
    }
    blog = _samples(blog_sample_files, models, voices)
    extra = _samples(extra_sample_files, models, voices)
    ids = [s.id for s in blog + extra]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"{SAMPLES_DIR}: sample ids used twice: {duplicated}")
    instruct = [m for m in models.values() if m.instructions]
    return Catalogue(
        regions=regions,
        voices=voices,
        models=tuple(models.values()),
        samples=blog,
        default_model=raw["default_model"],
        default_voice=raw["default_voice"],
        languages=languages,
        extra_samples=extra,
        presets=tuple(
            _checked(PRESETS_FILE, f"preset {row.get('id')!r}", _preset, row, instruct)
            for row in (presets or {}).get("presets", ())
        ),
    )


@cache
def load_catalogue() -> Catalogue:
    """The catalogue from the data files; a bad row fails here, naming file and row."""
    return _build(
        _read_json(CATALOGUE_FILE), BLOG_SAMPLE_FILES, EXTRA_SAMPLE_FILES, _read_json(PRESETS_FILE)
    )
