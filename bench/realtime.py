"""Bench for the realtime models (issue 13): first sound of speak-as-written, measured from the
first piece of text, through the app's one synthesis path against the simulator's WebSocket; and,
in Chromium (bench/browser_realtime.py), the drift of the words lit during a live stream and the
first sound of speak-as-I-type from the first typed character.

    python bench/realtime.py              # prints Markdown tables
    python bench/realtime.py --runs 10
    python bench/realtime.py --no-browser # the synthesis path only

The simulator answers like the real service is said to: first audio `--first-delay` seconds after
a commit, then faster than real time. The app commits a written text phrase by phrase
(dashscope_client.text_pieces.written_phrases), so the first sound should not wait for the end of
a long first sentence: the table shows it for a short and a long one, with the stalls a player fed
by the stream would have after its first sound (the writing slower than the speech shows there).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashscope_sim import DashScopeSimulator, UpstreamProfile  # noqa: E402
from qwen_tts_showcase.audio import SAMPLE_RATE_HZ  # noqa: E402
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


PLAYER_LEAD_S = 0.04  # the live player's jitter buffer (page.js)
STALL_S = 0.03  # a silence the listener notices (issue 10's gap bound)


def first_sound(synth: Synthesizer, text: str, written: bool) -> tuple[float, int, float]:
    """(seconds from the first piece of text, or the start, to the first audio; stalls over 30 ms
    a player fed by the stream would have after its first sound; their seconds in all)."""
    order = SpeechOrder(
        text,
        "Cherry",
        "qwen3-tts-flash-realtime",
        "beijing",
        written_pace=WRITTEN_PACE if written else None,
    )
    speech = synth.speech(order, visitor=Visitor("bench", "10.0.0.9"))
    arrivals = [(time.perf_counter(), len(chunk)) for chunk in speech]
    # a player that starts the first audio PLAYER_LEAD_S after it arrives and plays each chunk
    # after the last, waiting where the next has not arrived yet
    stalls, stalled, playing_until = 0, 0.0, arrivals[0][0] + PLAYER_LEAD_S
    for arrived, size in arrivals:
        if arrived > playing_until:
            wait = arrived - playing_until
            stalls, stalled = stalls + (wait > STALL_S), stalled + wait
            playing_until = arrived
        playing_until += size / 2 / SAMPLE_RATE_HZ
    return speech.result.first_audio_s, stalls, stalled


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
    print("| Text | Mode | First sound, median (min–max) | Stalls over 30 ms after it, per run |")
    print("|---|---|---|---|")
    with DashScopeSimulator(profile=profile) as simulator:
        synth = synthesizer(simulator)
        for name, text in TEXTS.items():
            for written in (True, False):
                runs = [first_sound(synth, text, written) for _ in range(args.runs)]
                times = [first for first, _, _ in runs]
                stalls = statistics.median(count for _, count, _ in runs)
                stalled = statistics.median(seconds for _, _, seconds in runs)
                mode = "speak as written (from the first word)" if written else "whole text, commit"
                print(
                    f"| {name} | {mode} | {statistics.median(times):.3f} s "
                    f"({min(times):.3f}–{max(times):.3f}) | {stalls:g} ({stalled:.2f} s) |"
                )
        if not args.no_browser:
            from bench.browser_realtime import in_chromium

            in_chromium(simulator, settings(simulator), args.runs, TEXTS["long first sentence"])


if __name__ == "__main__":
    main()
