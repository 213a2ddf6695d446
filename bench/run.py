"""The performance benchmark: one command starts everything, measures side by side, prints a table.

    python bench/run.py                # the full run (about 10 minutes on 2 cores)
    python bench/run.py --quick        # a short smoke of every measurement
    python bench/run.py --write docs/performance.md

It starts the DashScope simulator and `python app.py` in their own processes, plays visitors over
Gradio's queue protocol, and starts a bare Gradio hello-world for the cold-start comparison.
Nothing is written into the repository unless --write is given.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import browser, measures, report, services  # noqa: E402
from bench.report import Row, median, megabytes, percentile, seconds  # noqa: E402
from bench.visitor import http_client  # noqa: E402

TARGET_FIRST_AUDIO_RATIO = 0.2  # streaming first audio / baseline, 30 s of speech
TARGET_OVERHEAD_P95_S = 0.100
TARGET_CROWD_RATIO = 1.5  # 32 visitors, makespan / ideal
TARGET_CACHE_HIT_P50_S = 0.050
TARGET_COLD_START_RATIO = 1.5
TARGET_COST_GROWTH = 1.3  # CPU per audio second at the longest length / at the shortest
TARGET_LENGTH_S = 30.0
TARGET_CROWD = 32
TARGET_LIVE_SOUND_S = 0.100  # first sound in Chromium after the upstream's first chunk
TARGET_LIVE_GAPS = 0
TARGET_STOP_S = 0.200  # Stop clicked to DashScope's stream closed
LIVE_AUDIO_S = 5.0  # speech per live-player sample
LIVE_REPETITIONS = 5
LIVE_CACHE_HITS = 5
LIVE_CROWDS = {32: 1.5, 64: 2.0}  # visitors: most makespan / ideal
TARGET_LIVE_CPU_PER_AUDIO_S = 0.026  # half of the streamed player's 52-61 ms
TARGET_LIVE_RSS_PER_STREAM = 2**20
QUOTA_SETTINGS = (
    "SHOWCASE_VISITOR_REQUESTS",
    "SHOWCASE_IP_REQUESTS",
    "SHOWCASE_DAILY_CHAR_BUDGET",
    "SHOWCASE_VISITOR_DISK_MB",  # every visitor is 127.0.0.1: one share for the whole bench
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--write", type=Path, help="put the results into this Markdown file")
    parser.add_argument(
        "--first-chunk",
        type=float,
        default=0.3,
        help="upstream seconds before the first audio (default 0.3)",
    )
    parser.add_argument(
        "--realtime-factor",
        type=float,
        default=0.3,
        help="upstream wall seconds per second of audio after that (default 0.3)",
    )
    parser.add_argument(
        "--chunk-seconds",
        type=float,
        default=0.72,
        help="audio per upstream frame (default 0.72, as DashScope sends)",
    )
    parser.add_argument(
        "--concurrency-limit",
        type=int,
        default=64,
        help="SHOWCASE_CONCURRENCY_LIMIT of the app under test (default 64)",
    )
    parser.add_argument("--queue-size", type=int, default=64, help="SHOWCASE_QUEUE_SIZE")
    parser.add_argument(
        "--repetitions",
        type=int,
        default=3,
        help="runs of each length in the first-audio comparison",
    )
    parser.add_argument(
        "--browser-only",
        action="store_true",
        help="only first sound in Chromium, the live player against the streamed one",
    )
    parser.add_argument(
        "--live-only",
        action="store_true",
        help="only the live player's crowds, CPU and memory over HTTP (no browser)",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="skip first sound in Chromium (skipped anyway without Playwright)",
    )
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> dict:
    """How much of each measurement to run."""
    if args.browser_only:
        return dict(browser_only=True, realtime_factor=args.realtime_factor)
    if args.live_only:
        return dict(live_only=True, realtime_factor=args.realtime_factor)
    if args.quick:
        return dict(
            lengths=[10.0, 30.0],
            repetitions=1,
            overhead=5,
            cache=5,
            crowds=[1, 8],
            cold=1,
            realtime_factor=args.realtime_factor,
        )
    return dict(
        lengths=[10.0, 30.0, 60.0],
        repetitions=args.repetitions,
        overhead=40,
        cache=20,
        crowds=[1, 8, 32, 64],
        cold=3,
        realtime_factor=args.realtime_factor,
        browser=not args.no_browser and browser.available(),
    )


async def measure_running_app(lab: measures.Lab, scope: dict, limit: int) -> dict:
    """Everything measured against one running app, in an order that keeps them apart."""
    results = {"idle_rss": lab.app_service.rss_bytes()}
    await lab.generate(streaming=True)  # warm-up: imports and first-use costs out of the samples
    if scope.get("live_only"):
        return await measure_live(lab, limit, results)
    if scope.get("browser") or scope.get("browser_only"):
        results["players"] = await measures.player_first_sound(
            lab, LIVE_AUDIO_S, LIVE_REPETITIONS, LIVE_CACHE_HITS
        )
        results["stops"] = await measures.stop_closes(lab, LIVE_REPETITIONS)
    if scope.get("browser_only"):
        return results
    results["first_audio"] = await measures.first_audio(lab, scope["lengths"], scope["repetitions"])
    if scope.get("browser"):
        results["browser"] = await measures.browser_first_sound(
            lab, TARGET_LENGTH_S, scope["repetitions"]
        )
    results["overhead"] = await measures.overhead(lab, scope["overhead"])
    results["cache_page"], results["cache_api"] = await measures.cache_hits(lab, scope["cache"])
    with measures.MemorySampler(lab.app_service) as memory:
        results["crowds"] = []
        for visitors in scope["crowds"]:
            await lab.reset_simulator()
            results["crowds"].append(await measures.crowd(lab, visitors, limit))
    results["loaded_rss"] = memory.peak_bytes
    return await measure_live(lab, limit, results)


async def measure_live(lab: measures.Lab, limit: int, results: dict) -> dict:
    """The live player's path over HTTP: crowds (the press as the page does it, its ticket asked
    for ahead, then as it was, the ticket event in the press), then CPU and memory per stream."""
    results["live_crowds"] = []
    for visitors in LIVE_CROWDS:
        for style in (measures.AHEAD, measures.IN_PRESS):
            await lab.reset_simulator()
            crowd = await measures.live_crowd(lab, visitors, limit, style)
            results["live_crowds"].append(crowd)
    await lab.reset_simulator()
    results["live_phases"] = await measures.live_phases(lab)
    results["live_footprint"] = await measures.live_footprint(lab)
    return results


def rows_for(results: dict) -> list[Row]:
    if "first_audio" not in results:  # --browser-only, --live-only
        return player_rows(results) + live_rows(results)
    return (
        player_rows(results)
        + first_audio_rows(results)
        + overhead_rows(results)
        + cache_rows(results)
        + crowd_rows(results)
        + footprint_rows(results)
        + live_rows(results)
    )


def live_rows(results: dict) -> list[Row]:
    if "live_crowds" not in results:
        return []
    rows = []
    before = {c.visitors: c for c in results["live_crowds"] if c.style == measures.IN_PRESS}
    for crowd in results["live_crowds"]:
        if crowd.style != measures.AHEAD:
            continue
        most = LIVE_CROWDS[crowd.visitors]
        failed = f", {crowd.failed} failed" if crowd.failed else ""
        for what, makespan, ratio in (
            ("audio delivered", crowd.delivered_s, crowd.delivered_ratio),
            ("recording offered", crowd.offered_s, crowd.offered_ratio),
        ):
            rows.append(
                Row(
                    f"Live player, {crowd.visitors} visitors at once, ticket ahead: {what},"
                    " makespan / ideal",
                    f"{seconds(makespan)} / {seconds(crowd.ideal_s)} = {ratio:.2f}×{failed};"
                    f" upstream had {crowd.upstream_peak} at once",
                    f"≤ {most:g}×",
                    ratio <= most and not crowd.failed,
                )
            )
        rows.append(
            Row(
                f"Live player, {crowd.visitors} visitors at once, ticket ahead: CPU from the press"
                " to the last visit done, app / the bench's own visitors",
                f"{crowd.app_cpu_s:.2f} s / {crowd.bench_cpu_s:.2f} s"
                f" ({crowd.app_cpu_s / crowd.visitors * 1000:.0f} ms of app per visit)",
            )
        )
        old = before.get(crowd.visitors)
        if old and old.delivered_s and crowd.delivered_s:
            failed = f", {old.failed} failed" if old.failed else ""
            rows.append(
                Row(
                    f"Live player, {crowd.visitors} visitors at once, ticket event in the press"
                    " (before): audio delivered / recording offered, × ideal",
                    f"{old.delivered_ratio:.2f}× / {old.offered_ratio:.2f}×{failed}"
                    f" (ticket ahead: {crowd.delivered_ratio / old.delivered_ratio:.2f}× /"
                    f" {crowd.offered_ratio / old.offered_ratio:.2f}× of these);"
                    f" upstream had {old.upstream_peak} at once",
                    "",
                    None,
                )
            )
    phases = results["live_phases"]
    rows.append(
        Row(
            f"Live player, app CPU per visit ({measures.CROWD_AUDIO_S:g} s of audio), one at a"
            " time: " + " / ".join(phases),
            " / ".join(f"{cpu * 1000:.1f}" for cpu in phases.values())
            + f" ms = {sum(phases.values()) * 1000:.1f} ms",
        )
    )
    f = results["live_footprint"]
    single = median(f.single_cpu_per_audio_s)
    worst = max(f.cpu_per_audio_s, single)
    rows += [
        Row(
            f"Live player, app CPU per second of streamed audio: {f.streams} streams at once /"
            " one at a time",
            f"{f.cpu_per_audio_s * 1000:.1f} ms / {single * 1000:.1f} ms",
            f"≤ {TARGET_LIVE_CPU_PER_AUDIO_S * 1000:.0f} ms",
            worst <= TARGET_LIVE_CPU_PER_AUDIO_S,
        ),
        Row(
            f"Live player, resident memory per live stream ({f.streams} at once,"
            f" {f.audio_s:g} s each)",
            f"{f.rss_per_stream_bytes / 2**10:.0f} KB",
            f"≤ {TARGET_LIVE_RSS_PER_STREAM / 2**20:g} MB",
            f.rss_per_stream_bytes <= TARGET_LIVE_RSS_PER_STREAM,
        ),
    ]
    return rows


def first_audio_rows(results: dict) -> list[Row]:
    rows = []
    for fa in results["first_audio"]:
        target = f"≤ {TARGET_FIRST_AUDIO_RATIO:g}×" if fa.audio_s == TARGET_LENGTH_S else ""
        rows.append(
            Row(
                f"First audio, {fa.audio_s:g} s of speech: streaming / blog's way",
                f"{seconds(median(fa.streaming_s))} / {seconds(median(fa.baseline_s))}"
                f" = {fa.ratio:.3f}×",
                target,
                fa.ratio <= TARGET_FIRST_AUDIO_RATIO if target else None,
            )
        )
    if "browser" in results:
        streaming, baseline = results["browser"]
        rows.append(
            Row(
                f"First sound in Chromium, {TARGET_LENGTH_S:g} s of speech: streaming / blog's way",
                f"{seconds(median(streaming))} / {seconds(median(baseline))}"
                f" = {median(streaming) / median(baseline):.3f}×",
            )
        )
    costs = [(fa.audio_s, median(fa.cpu_per_audio_s)) for fa in results["first_audio"]]
    growth = costs[-1][1] / costs[0][1]
    rows.append(
        Row(
            "Streaming path CPU per audio second, " + " / ".join(f"{s:g} s" for s, _ in costs),
            " / ".join(f"{c * 1000:.1f} ms" for _, c in costs) + f" ({growth:.2f}×)",
            f"flat: ≤ {TARGET_COST_GROWTH:g}×",
            growth <= TARGET_COST_GROWTH,
        )
    )
    return rows


def player_rows(results: dict) -> list[Row]:
    if "players" not in results:
        return []
    p = results["players"]
    live, stream = median(p.live_after_upstream_s), median(p.stream_after_upstream_s)
    hit = median(p.live_cache_hit_s)
    n = len(p.live_after_upstream_s)
    return [
        Row(
            f"First sound in Chromium after the upstream's first chunk, median of {n}: "
            "live player / streamed gr.Audio",
            f"{seconds(live)} / {seconds(stream)}",
            f"live ≤ {seconds(TARGET_LIVE_SOUND_S)}",
            live <= TARGET_LIVE_SOUND_S,
        ),
        Row(
            f"Click to first sound in Chromium, median of {n}: live player / streamed gr.Audio",
            f"{seconds(median(p.live_click_s))} / {seconds(median(p.stream_click_s))}",
        ),
        Row(
            f"Cache hit, click to first sound in Chromium (live player), median of "
            f"{len(p.live_cache_hit_s)}",
            seconds(hit),
            f"≤ {seconds(TARGET_CACHE_HIT_P50_S)}",
            hit <= TARGET_CACHE_HIT_P50_S,
        ),
        Row(
            "Live presses that found their ticket asked for ahead (one request)",
            f"{p.live_presses_ready} of {p.live_presses}",
        ),
        Row(
            f"Silent gaps > 30 ms inside {n} live streams ({LIVE_AUDIO_S:g} s each)",
            str(p.live_gaps),
            str(TARGET_LIVE_GAPS),
            p.live_gaps <= TARGET_LIVE_GAPS,
        ),
    ] + stop_rows(results)


def stop_rows(results: dict) -> list[Row]:
    if "stops" not in results:
        return []
    stops = results["stops"]
    return [
        Row(
            f"Stop: DashScope stream closed after the click, median of {len(stops)}",
            seconds(median(stops)),
            f"≤ {seconds(TARGET_STOP_S)}",
            median(stops) <= TARGET_STOP_S,
        )
    ]


def overhead_rows(results: dict) -> list[Row]:
    samples = results["overhead"]
    p95 = percentile(samples, 0.95)
    return [
        Row("App overhead on first audio, p50", seconds(percentile(samples, 0.5))),
        Row(
            "App overhead on first audio, p95",
            seconds(p95),
            f"≤ {seconds(TARGET_OVERHEAD_P95_S)}",
            p95 <= TARGET_OVERHEAD_P95_S,
        ),
    ]


def cache_rows(results: dict) -> list[Row]:
    page_p50 = percentile(results["cache_page"], 0.5)
    return [
        Row(
            "Cache hit, first audio on the page, p50",
            seconds(page_p50),
            f"≤ {seconds(TARGET_CACHE_HIT_P50_S)}",
            page_p50 <= TARGET_CACHE_HIT_P50_S,
        ),
        Row(
            "Cache hit, finished WAV from /synthesize, p50",
            seconds(percentile(results["cache_api"], 0.5)),
        ),
    ]


def crowd_rows(results: dict) -> list[Row]:
    rows = []
    for crowd in results["crowds"]:
        target = f"≤ {TARGET_CROWD_RATIO:g}×" if crowd.visitors == TARGET_CROWD else ""
        failed = f", {crowd.failed} failed ({crowd.busy} told busy)" if crowd.failed else ""
        rows.append(
            Row(
                f"{crowd.visitors} visitors at once: makespan / ideal",
                f"{seconds(crowd.makespan_s)} / {seconds(crowd.ideal_s)}"
                f" = {crowd.ratio:.2f}×{failed}; upstream had {crowd.upstream_peak} at once",
                target,
                (crowd.ratio <= TARGET_CROWD_RATIO and not crowd.failed) if target else None,
            )
        )
    return rows


def footprint_rows(results: dict) -> list[Row]:
    app_s, hello_s = results["cold_app"], results["cold_hello"]
    ratio = median(app_s) / median(hello_s)
    return [
        Row(
            "Memory, idle / under the largest crowd (app + ffmpeg)",
            f"{megabytes(results['idle_rss'])} / {megabytes(results['loaded_rss'])}",
        ),
        Row(
            "Cold start, command to first HTTP 200: app / bare Gradio",
            f"{seconds(median(app_s))} / {seconds(median(hello_s))} = {ratio:.2f}×",
            f"≤ {TARGET_COLD_START_RATIO:g}×",
            ratio <= TARGET_COLD_START_RATIO,
        ),
    ]


def details_for(results: dict) -> list[str]:
    """Every sample behind the medians, for the record."""

    def listing(values: list[float]) -> str:
        return ", ".join(f"{v:.3f}" for v in values)

    lines = []
    if "players" in results:
        p = results["players"]
        lines.append(
            "First sound in Chromium after the upstream's first chunk (s): live player "
            f"{listing(p.live_after_upstream_s)}; streamed gr.Audio "
            f"{listing(p.stream_after_upstream_s)}; live cache hits, click to sound "
            f"{listing(p.live_cache_hit_s)}; the same, as the page's thread noticed them: "
            f"{listing(p.live_after_upstream_noticed_s)}; cache hits "
            f"{listing(p.live_cache_hit_noticed_s)}"
        )
    if "live_footprint" in results:
        f = results["live_footprint"]
        lines.append(
            "Live player, app CPU per audio second, one stream at a time (s): "
            f"{listing(f.single_cpu_per_audio_s)}"
        )
    if "first_audio" not in results:
        return lines
    for fa in results["first_audio"]:
        lines.append(
            f"{fa.audio_s:g} s of speech, first audio (s): streaming "
            f"{listing(fa.streaming_s)}; blog's way {listing(fa.baseline_s)}; "
            f"streaming CPU per audio s (s) {listing(fa.cpu_per_audio_s)}"
        )
    if "browser" in results:
        streaming, baseline = results["browser"]
        lines.append(
            f"First sound in Chromium (s): streaming {listing(streaming)}; "
            f"blog's way {listing(baseline)}"
        )
    lines.append(
        f"Overhead (s), {len(results['overhead'])} requests: {listing(sorted(results['overhead']))}"
    )
    lines.append(
        f"Cache hits (s): first audio on the page {listing(sorted(results['cache_page']))};"
        f" /synthesize {listing(sorted(results['cache_api']))}"
    )
    lines.append(
        f"Cold start (s): app {listing(results['cold_app'])}; "
        f"bare Gradio {listing(results['cold_hello'])}"
    )
    return lines


async def run_bench(args: argparse.Namespace, scope: dict, work: Path) -> dict:
    upstream = measures.Upstream(args.first_chunk, scope["realtime_factor"], args.chunk_seconds)
    simulator = services.simulator(
        work, upstream.first_chunk_s, upstream.realtime_factor, upstream.chunk_s
    )
    app_env = {
        "SHOWCASE_CONCURRENCY_LIMIT": str(args.concurrency_limit),
        "SHOWCASE_QUEUE_SIZE": str(args.queue_size),
        "SHOWCASE_CACHE_DIR": str(work / "cache"),
        # Every benchmark visitor comes from 127.0.0.1: the per-visitor and per-address
        # quotas (and the owner's daily budget) would refuse most of them.
        **dict.fromkeys(QUOTA_SETTINGS, "0"),
        # The live crowd's visitors each come "through a proxy" from an address of their own.
        "SHOWCASE_TRUSTED_PROXY_HOPS": "1",
    }
    simulator.start("/_sim/requests")
    try:
        app = services.app(work, simulator, app_env)
        app.start()
        try:
            async with http_client() as http:
                lab = await measures.Lab(app, simulator, upstream, http).connect()
                results = await measure_running_app(lab, scope, args.concurrency_limit)
        finally:
            app.stop()
        if scope.get("browser_only") or scope.get("live_only"):
            return results
        results["cold_app"], results["cold_hello"] = measures.cold_starts(
            services.app(work, simulator, app_env), services.bare_gradio(work), scope["cold"]
        )
    finally:
        simulator.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if (args.browser_only or args.live_only) and args.write:
        raise SystemExit("--write needs the whole run: the file's table would lose its rows")
    scope = plan(args)
    facts = report.machine()
    with tempfile.TemporaryDirectory(prefix="qwen-tts-bench-") as work:
        results = asyncio.run(run_bench(args, scope, Path(work)))
    facts["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = rows_for(results)
    print(report.table(rows))
    for line in details_for(results):  # every sample behind the medians
        print(f"- {line}")
    if args.write:
        settings = {
            "upstream": f"first audio after {args.first_chunk:g} s, real-time factor "
            f"{scope['realtime_factor']:g}, {args.chunk_seconds:g} s per frame",
            "app": f"SHOWCASE_CONCURRENCY_LIMIT={args.concurrency_limit}, "
            f"SHOWCASE_QUEUE_SIZE={args.queue_size}, quotas off (every visitor is "
            "127.0.0.1)",
            "command": "python bench/run.py" + (" --quick" if args.quick else ""),
        }
        report.write_between_marks(
            args.write, report.markdown(rows, facts, settings, details_for(results))
        )
        print(f"Results written to {args.write}")
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
