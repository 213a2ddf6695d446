"""Run the DashScope simulator by hand: `python -m dashscope_sim --port 8765`."""

from __future__ import annotations

import argparse
import threading

from .records import REAL_CHUNK_SECONDS, UpstreamProfile
from .server import DashScopeSimulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local DashScope that speaks the wire protocol.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--realtime-port", type=int, default=0, help="the WebSocket models' port (0: any free)"
    )
    parser.add_argument("--first-chunk-delay", type=float, default=0.3, help="seconds")
    parser.add_argument(
        "--realtime-factor", type=float, default=0.3, help="wall seconds per second of audio"
    )
    parser.add_argument("--chunk-seconds", type=float, default=REAL_CHUNK_SECONDS)
    parser.add_argument(
        "--fixed-audio-seconds",
        type=float,
        default=None,
        help="speak this long whatever the text (default: from the text)",
    )
    args = parser.parse_args(argv)
    profile = UpstreamProfile(
        args.first_chunk_delay, args.realtime_factor, args.chunk_seconds, args.fixed_audio_seconds
    )
    simulator = DashScopeSimulator(port=args.port, profile=profile)
    simulator.realtime_port = args.realtime_port
    simulator.start()
    print(f"DashScope simulator listening on {simulator.origin}. Point the app at it with:")
    keys = ", ".join(f"{key} ({region})" for key, region in simulator.keys.items())
    for name, value in simulator.app_env("sk-sim-beijing").items():
        note = f"    # keys it accepts: {keys}" if name == "DASHSCOPE_API_KEY" else ""
        print(f"  export {name}={value}{note}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        simulator.stop()


if __name__ == "__main__":
    main()
