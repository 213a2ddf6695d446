"""Bench for the realtime models (issue 13): first sound of speak-as-written, measured from the
first piece of text, through the app's one synthesis path against the simulator's WebSocket; and,
in Chromium (bench/browser_realtime.py), the drift of the words lit during a live stream and the
first sound of speak-as-I-type from the first typed character.

    python bench/realtime.py              # prints Markdown tables
    python bench/realtime.py --runs 10
    python bench/realtime.py --no-browser # the synthesis path only

The simulator answers like the real service is said to: first audio `--first-delay` seconds after
a sentence is committed, then faster than real time. In server_commit mode it speaks a sentence
once its end has been written (dashscope_sim/realtime_tables.py), so the first sound waits for
the first sentence: the table shows it for a short and a long first sentence.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashscope_sim import DashScopeSimulator, UpstreamProfile  # noqa: E402
from qwen_tts_showcase.catalogue import load_catalogue  # noqa: E402
from qwen_tts_showcase.config import Settings  # noqa: E402
from qwen_tts_showcase.quota import Visitor  # noqa: E402
from qwen_tts_showcase.realtime import WRITTEN_PACE  # noqa: E402
from qwen_tts_showcase.synthesis import SpeechOrder, Synthesizer  # noqa: E402

TEXTS = {
    "short first sentence": "Sure! Here is how a voice assistant sounds while it is still "
    "writing its answer. Each sentence is spoken as soon as it is complete.",
    "long first sentence": "Here is how a voice assistant sounds while it is still writing "
    "its answer, one word after the other. Each sentence is spoken as soon as it is complete.",
}


def settings(simulator: DashScopeSimulator) -> Settings:
    """The app's settings against the simulator, limits off."""
    catalogue = load_catalogue()
    env = {
        **simulator.app_env("sk-sim-beijing"),
        "SHOWCASE_CACHE_MAX_MB": "0",
        "SHOWCASE_CACHE_DIR": tempfile.mkdtemp(prefix="bench-realtime-"),
        "SHOWCASE_VISITOR_REQUESTS": "0",
        "SHOWCASE_IP_REQUESTS": "0",
        "SHOWCASE_DAILY_CHAR_BUDGET": "0",
        "SHOWCASE_VISITOR_DAILY_CHARS": "0",
        "SHOWCASE_IP_DAILY_CHARS": "0",
        "SHOWCASE_VISITOR_DISK_MB": "0",
    }
    return Settings.from_env(catalogue, env)


def synthesizer(simulator: DashScopeSimulator) -> Synthesizer:
    return Synthesizer(load_catalogue(), settings(simulator))


def first_sound(synth: Synthesizer, text: str, written: bool) -> float:
    order = SpeechOrder(
        text,
        "Cherry",
        "qwen3-tts-flash-realtime",
        "beijing",
        written_pace=WRITTEN_PACE if written else None,
    )
    result = synth.speech(order, visitor=Visitor("bench", "10.0.0.9")).complete()
    return result.first_audio_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--first-delay", type=float, default=0.2, help="seconds, per sentence")
    parser.add_argument("--realtime-factor", type=float, default=0.3)
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium measures")
    args = parser.parse_args(argv)
    profile = UpstreamProfile(args.first_delay, args.realtime_factor)
    print(
        f"Simulator: first audio {args.first_delay} s after a commit, "
        f"{args.realtime_factor} s per audio second; {WRITTEN_PACE:g} words a second.\n"
    )
    print("| Text | Mode | First sound, median (min–max) |")
    print("|---|---|---|")
    with DashScopeSimulator(profile=profile) as simulator:
        synth = synthesizer(simulator)
        for name, text in TEXTS.items():
            for written in (True, False):
                times = [first_sound(synth, text, written) for _ in range(args.runs)]
                mode = "speak as written (from the first word)" if written else "whole text, commit"
                print(
                    f"| {name} | {mode} | {statistics.median(times):.3f} s "
                    f"({min(times):.3f}–{max(times):.3f}) |"
                )
        if not args.no_browser:
            from bench.browser_realtime import in_chromium

            in_chromium(simulator, settings(simulator), args.runs)


if __name__ == "__main__":
    main()
