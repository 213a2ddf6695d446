"""Every data file the app reads, read here: parsed and checked, failing with the file's name and
the field or row that is wrong, so a bad file stops the app at start-up, not a visitor's request.

The files live in two places: the package's data/ ("catalogue.json") and the repository's
samples/ ("samples/blog_samples.json"). Nothing is read at import time; the callers cache.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

PACKAGE_DIR = Path(__file__).parent
DATA_DIR = PACKAGE_DIR / "data"
SAMPLES_DIR = PACKAGE_DIR.parent / "samples"
SAMPLES_PREFIX = "samples/"

_Row = TypeVar("_Row")


class DataFileError(ValueError):
    """A data file is missing, unreadable or holds a bad field or row; the message names them."""


def data_path(name: str | Path) -> Path:
    """The file behind a name: "links.json" in data/, "samples/<file>" in samples/; a Path as is."""
    if isinstance(name, Path):
        return name
    if name.startswith(SAMPLES_PREFIX):
        return SAMPLES_DIR / name.removeprefix(SAMPLES_PREFIX)
    return DATA_DIR / name


def load_bytes(name: str | Path) -> bytes:
    """A file's bytes, or a DataFileError naming it."""
    path = data_path(name)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{path}: {exc.strerror or exc}") from exc


def load_json(name: str | Path) -> dict:
    """A JSON file holding one object, or a DataFileError naming the file (and the line)."""
    path = data_path(name)
    try:
        data = json.loads(load_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFileError(f"{path}: not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DataFileError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def load_csv(name: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's columns (its first row) and rows; lines starting with "#" are comments."""
    path = data_path(name)
    try:
        lines = load_bytes(path).decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8: {exc}") from exc
    records = list(csv.reader(line for line in lines if not line.startswith("#")))
    if not records:
        raise DataFileError(f"{path}: no header row")
    columns, rows = records[0], []
    for number, record in enumerate(records[1:], start=1):
        if len(record) != len(columns):
            raise DataFileError(f"{path}: row {number}: {len(record)} cells for {columns}")
        rows.append(dict(zip(columns, record, strict=True)))
    return columns, rows


def field(data: dict, name: str, kind: type, where: str) -> object:
    """data[name] if it is a `kind` (and, for a string, not blank), else a DataFileError."""
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise DataFileError(f"{where}: field {name!r} must be a {kind.__name__}, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise DataFileError(f"{where}: field {name!r} is empty")
    return value


def checked_row(where: str, make: Callable[..., _Row], *args: object) -> _Row:
    """make(*args), or a DataFileError saying `where` (file and row) and what was wrong."""
    try:
        return make(*args)
    except DataFileError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(f"{where}: {type(exc).__name__} {exc}") from exc


# --- The small files, typed ----------------------------------------------------------------------

LINK_NAMES = ("blog", "api_docs", "api_docs_zh")


def load_links() -> dict[str, str]:
    """links.json: the footer's web addresses, each an https URL."""
    path = data_path("links.json")
    data = load_json(path)
    links = {name: field(data, name, str, str(path)) for name in LINK_NAMES}
    for name, url in links.items():
        if urlsplit(url).scheme != "https":
            raise DataFileError(f"{path}: field {name!r} must be an https URL, got {url!r}")
    return links


def load_compare_preset() -> dict:
    """compare.json: what the Compare tab starts with ({"model", "voices", "text"})."""
    path = data_path("compare.json")
    data = load_json(path)
    preset = {
        "model": field(data, "model", str, str(path)),
        "voices": field(data, "voices", list, str(path)),
        "text": field(data, "text", str, str(path)),
    }
    if not all(isinstance(voice, str) and voice for voice in preset["voices"]):
        raise DataFileError(f"{path}: field 'voices' must list voice names")
    return preset


def load_voice_designs() -> list[dict[str, str]]:
    """voice_designs.json: ready-made voice descriptions for the Design tab, each with a name
    and a preview line ({"name", "description", "preview_text"})."""
    path = data_path("voice_designs.json")
    rows = field(load_json(path), "designs", list, str(path))
    designs = []
    for number, row in enumerate(rows, start=1):
        where = f"{path}: design {number}"
        designs.append(
            {name: field(row, name, str, where) for name in ("name", "description", "preview_text")}
        )
    return designs
