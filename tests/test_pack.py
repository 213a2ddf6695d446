"""The showcase pack fills the cache so the whole gallery plays with no key and no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import BEIJING_KEY
from .helpers import assert_wav_is, generate

ROOT = Path(__file__).resolve().parent.parent
DEAD_URL = "http://127.0.0.1:9/api/v1"  # the discard port: nothing answers there


def run_pack(simulator, cache_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DASHSCOPE_API_KEY": BEIJING_KEY,
        "DASHSCOPE_HTTP_BASE_URL": simulator.base_url("beijing"),
        "DASHSCOPE_INTL_HTTP_BASE_URL": simulator.base_url("singapore"),
        "SHOWCASE_CACHE_DIR": str(cache_dir),
        "SHOWCASE_CACHE_MAX_MB": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", "qwen_tts_showcase.pack", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def gallery(catalogue):
    """Every line the page's gallery offers: the blog's samples and our own dialect lines."""
    return catalogue.samples + catalogue.extra_samples


def previews(catalogue):
    """(text, voice) of every voice preview of the default model (ui/pickers.py)."""
    model = catalogue.default_model_in("beijing")
    return [(catalogue.preview_text(voice), voice) for voice in catalogue.model(model).voices]


def packed_count(catalogue) -> int:
    return len(gallery(catalogue)) + len(previews(catalogue))


@pytest.fixture(scope="module")
def packed(simulator_server, catalogue, tmp_path_factory):
    """The pack run once against the simulator: the cache folder and the audio it was sent."""
    simulator_server.clear()
    cache_dir = tmp_path_factory.mktemp("pack-cache")
    first = run_pack(simulator_server, cache_dir)
    assert first.returncode == 0, first.stderr
    sent = {
        (r.body["input"]["text"], r.body["input"]["voice"]): r.pcm
        for r in simulator_server.generation_requests()
    }
    return cache_dir, sent, first.stdout


def test_the_pack_renders_every_gallery_sample_and_voice_preview_once(packed, catalogue):
    _, sent, summary = packed
    lines = {(s.text, s.voice) for s in gallery(catalogue)} | set(previews(catalogue))
    assert set(sent) == lines and len(lines) == packed_count(catalogue)
    assert f"{packed_count(catalogue)} rendered, 0 already cached, 0 failed" in summary


def test_a_second_pack_skips_what_is_cached_without_calling_the_api(packed, simulator, catalogue):
    cache_dir, _, _ = packed
    again = run_pack(simulator, cache_dir)
    assert again.returncode == 0, again.stderr
    assert f"0 rendered, {packed_count(catalogue)} already cached" in again.stdout
    assert simulator.generation_requests() == []


def test_after_the_pack_every_sample_plays_with_no_key_and_no_network(
    packed, launch_app, simulator, catalogue
):
    cache_dir, sent, _ = packed
    client, _ = launch_app(
        DASHSCOPE_API_KEY="",
        DASHSCOPE_HTTP_BASE_URL=DEAD_URL,
        DASHSCOPE_INTL_HTTP_BASE_URL=DEAD_URL,
        SHOWCASE_CACHE_DIR=str(cache_dir),
        SHOWCASE_CACHE_MAX_MB="100",
    )
    for sample in catalogue.samples:  # the page's Generate, as a gallery card presses it
        seen, (_, complete, readout) = generate(
            client, text=sample.text, model=sample.model, voice=sample.voice
        )
        assert any(isinstance(out[0], str) for out in seen), "the live player got the audio"
        assert_wav_is(complete, sent[(sample.text, sample.voice)])
        assert 'data-cached="true"' in readout
    for sample in catalogue.extra_samples:  # voices of other models: through the API
        wav = client.predict(sample.text, sample.voice, sample.model, api_name="/synthesize")
        assert_wav_is(wav, sent[(sample.text, sample.voice)])
    assert simulator.generation_requests() == []


def test_given_texts_are_packed_in_each_voice_and_a_failure_does_not_stop_the_rest(
    simulator, tmp_path
):
    texts = tmp_path / "talk.txt"
    texts.write_text("Welcome to the talk.\n\n欢迎来到今天的分享。\n", encoding="utf-8")
    result = run_pack(
        simulator,
        tmp_path / "cache",
        "--no-gallery",
        "--texts",
        str(texts),
        "--voices",
        "Cherry,Nobody",
    )
    assert result.returncode == 1
    assert "2 rendered, 0 already cached, 2 failed" in result.stdout
    assert "FAILED text 1 (Nobody)" in result.stderr and "FAILED text 2 (Nobody)" in result.stderr
    spoken = {
        (r.body["input"]["text"], r.body["input"]["voice"]) for r in simulator.generation_requests()
    }
    assert spoken == {("Welcome to the talk.", "Cherry"), ("欢迎来到今天的分享。", "Cherry")}


def test_the_pack_refuses_to_run_with_the_cache_off(simulator, tmp_path):
    env_off = {"SHOWCASE_CACHE_MAX_MB": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "qwen_tts_showcase.pack"],
        cwd=ROOT,
        env={**os.environ, **env_off},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "cache is off" in result.stderr
    assert simulator.generation_requests() == []
