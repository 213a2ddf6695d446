"""Models, voices, regions and gallery samples, loaded once from the data files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import InputError

DATA_DIR = Path(__file__).parent / "data"
SAMPLES_DIR = Path(__file__).parent.parent / "samples"
CATALOGUE_FILE = DATA_DIR / "catalogue.json"
SAMPLE_FILES = (SAMPLES_DIR / "blog_samples.json",)


@dataclass(frozen=True)
class Region:
    id: str
    en: str
    zh: str
    base_url: str
    base_url_env: str
    console: str


@dataclass(frozen=True)
class Voice:
    name: str  # the API's voice string, case-sensitive
    zh_name: str
    gender: str
    variety: str  # a key of Catalogue.varieties
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
    instructions: bool = False


@dataclass(frozen=True)
class Sample:
    id: str
    group: str  # "dialect" or "bilingual"
    voice: str
    model: str
    variety: str
    language: str
    text: str
    official_audio: str  # the blog's recording, played by the browser, never fetched by the server
    source: str


@dataclass(frozen=True)
class Catalogue:
    regions: tuple[Region, ...]
    voices: dict[str, Voice]
    models: tuple[Model, ...]
    samples: tuple[Sample, ...]
    default_model: str
    default_voice: str

    def model(self, model_id: str) -> Model:
        """The model with this id, or an InputError listing the valid ones."""
        for model in self.models:
            if model.id == model_id:
                return model
        valid = ", ".join(m.id for m in self.models)
        raise InputError(
            f"Unknown model {model_id!r}. Choose one of: {valid}.",
            f"未知模型 {model_id!r}。可选：{valid}。",
        )

    def region(self, region_id: str) -> Region:
        for region in self.regions:
            if region.id == region_id:
                return region
        valid = ", ".join(r.id for r in self.regions)
        raise InputError(
            f"Unknown region {region_id!r}. Choose one of: {valid}.",
            f"未知地域 {region_id!r}。可选：{valid}。",
        )

    def voices_of(self, model_id: str) -> list[Voice]:
        return [self.voices[name] for name in self.model(model_id).voices]

    def check_voice(self, model_id: str, voice: str) -> Voice:
        """The voice if the model offers it, else an InputError naming the model's voices."""
        model = self.model(model_id)
        if voice not in model.voices:
            valid = ", ".join(model.voices)
            raise InputError(
                f"Voice {voice!r} is not available for {model.id}. Choose one of: {valid}.",
                f"{model.id} 没有音色 {voice!r}。可选：{valid}。",
            )
        return self.voices[voice]

    def sample(self, sample_id: str) -> Sample:
        for sample in self.samples:
            if sample.id == sample_id:
                return sample
        raise InputError(f"Unknown sample {sample_id!r}.", f"未知样例 {sample_id!r}。")


def _read_json(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def _build(raw: dict, sample_files: tuple[Path, ...]) -> Catalogue:
    varieties = raw["varieties"]
    voices = {
        name: Voice(
            name=name,
            zh_name=row["zh_name"],
            gender=row["gender"],
            variety=row["variety"],
            variety_en=varieties[row["variety"]]["en"],
            variety_zh=varieties[row["variety"]]["zh"],
        )
        for name, row in raw["voices"].items()
    }
    regions = tuple(Region(**row) for row in raw["regions"])
    region_ids = {region.id for region in regions}
    models = []
    for row in raw["models"]:
        model = Model(
            **{
                **row,
                "regions": tuple(row["regions"]),
                "voices": tuple(row["voices"]),
                "language_types": tuple(row.get("language_types", ())),
            }
        )
        unknown = [v for v in model.voices if v not in voices] + [
            r for r in model.regions if r not in region_ids
        ]
        if unknown:
            raise ValueError(f"{CATALOGUE_FILE}: model {model.id} names unknown {unknown}")
        models.append(model)
    samples = []
    for path in sample_files:
        data = _read_json(path)
        for row in data["samples"]:
            sample = Sample(**row, source=data["source"])
            if sample.voice not in next(m for m in models if m.id == sample.model).voices:
                raise ValueError(f"{path}: sample {sample.id} uses a voice its model lacks")
            samples.append(sample)
    return Catalogue(
        regions=regions,
        voices=voices,
        models=tuple(models),
        samples=tuple(samples),
        default_model=raw["default_model"],
        default_voice=raw["default_voice"],
    )


@cache
def load_catalogue() -> Catalogue:
    """The catalogue from the data files; a bad row fails here, naming file and row."""
    return _build(_read_json(CATALOGUE_FILE), SAMPLE_FILES)
