"""The one loader: every data file read through it, checked, failing with file and field or row;
nothing read when the package is imported."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qwen_tts_showcase import datafiles
from qwen_tts_showcase.catalogue import _build
from qwen_tts_showcase.datafiles import (
    DataFileError,
    data_path,
    load_compare_preset,
    load_csv,
    load_json,
    load_links,
)
from qwen_tts_showcase.seedtts_eval import load_scores


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """data/ moved to a scratch folder holding copies of the real files, to be spoiled."""
    for name in ("links.json", "compare.json"):
        (tmp_path / name).write_bytes(data_path(name).read_bytes())
    monkeypatch.setattr(datafiles, "DATA_DIR", tmp_path)
    return tmp_path


def _spoil(path, **changes):
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_real_files_load():
    assert set(load_links()) == {"blog", "api_docs", "api_docs_zh"}
    preset = load_compare_preset()
    assert preset["model"] == "qwen-tts-latest" and len(preset["voices"]) == 4
    assert list(load_scores()["voice"]) == ["Chelsie", "Serena", "Ethan", "Cherry"]


def test_names_resolve_in_data_or_samples():
    assert data_path("links.json").parent.name == "data"
    assert data_path("samples/blog_samples.json").parent.name == "samples"
    assert data_path("samples/blog_samples.json").exists()


def test_a_missing_or_broken_file_fails_naming_it(tmp_path):
    with pytest.raises(DataFileError, match="nowhere.json"):
        load_json(tmp_path / "nowhere.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"blog": ', encoding="utf-8")
    with pytest.raises(DataFileError, match="broken.json: not UTF-8 JSON"):
        load_json(broken)
    broken.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataFileError, match="broken.json: expected a JSON object"):
        load_json(broken)


def test_a_bad_link_fails_naming_the_file_and_the_field(data_dir):
    _spoil(data_dir / "links.json", api_docs="ftp://example.com/")
    with pytest.raises(DataFileError, match=r"links.json: field 'api_docs' must be an https URL"):
        load_links()
    _spoil(data_dir / "links.json", blog=None)
    with pytest.raises(DataFileError, match=r"links.json: field 'blog' must be a str"):
        load_links()


def test_a_bad_compare_preset_fails_naming_the_file_and_the_field(data_dir):
    _spoil(data_dir / "compare.json", voices="Cherry")
    with pytest.raises(DataFileError, match=r"compare.json: field 'voices' must be a list"):
        load_compare_preset()
    _spoil(data_dir / "compare.json", voices=["Cherry", 7], text="")
    with pytest.raises(DataFileError, match=r"compare.json: field 'text' is empty"):
        load_compare_preset()


def test_a_bad_csv_row_fails_naming_the_file_and_the_row(tmp_path):
    bad = tmp_path / "seedtts_eval.csv"
    header = "voice,wer_zh,wer_en,wer_hard,sim_zh,sim_en,sim_hard\n"
    bad.write_text(header + "Chelsie,1,2,3,4,5,6\nSerena,1,2,three,4,5,6\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"seedtts_eval.csv: row 2 \(Serena\)"):
        load_scores(bad)
    bad.write_text("# a comment\n" + header + "Chelsie,1,2\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"seedtts_eval.csv: row 1: 3 cells"):
        load_csv(bad)


def test_importing_the_package_reads_no_data_file():
    """Files are read when the app is built or a handler runs, never as a side effect of import."""
    probe = f"""
import pathlib
watched = ({str(datafiles.DATA_DIR)!r}, {str(datafiles.SAMPLES_DIR)!r})
read = []
for name in ("read_bytes", "read_text", "open"):
    original = getattr(pathlib.Path, name)
    def spy(self, *args, _original=original, **kwargs):
        if str(self).startswith(watched):
            read.append(self.name)
        return _original(self, *args, **kwargs)
    setattr(pathlib.Path, name, spy)
import qwen_tts_showcase.ui, qwen_tts_showcase.pack
print(sorted(read))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda raw: raw["regions"][1].pop("base_url"), r"catalogue.json: region 2: .*base_url"),
        (lambda raw: raw["languages"]["English"].pop("zh"), r"catalogue.json: language 'English'"),
        (lambda raw: raw.update(default_voice="Nobody"), r"catalogue.json: defaults: .*'Nobody'"),
        (lambda raw: raw.update(models={}), r"catalogue.json: field 'models' must be a list"),
    ],
)
def test_a_bad_catalogue_part_fails_naming_the_file_and_the_row(change, words):
    raw = load_json("catalogue.json")
    change(raw)
    with pytest.raises(DataFileError, match=words):
        _build(raw)
