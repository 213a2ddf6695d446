"""Replicas sharing their limits in Redis (issue 15): does a second replica serve twice the crowd,
and what does an admission through Redis cost?

    python bench/replicas.py            # about 3 minutes on 2 cores
    python bench/replicas.py --quick

It starts a real redis-server (Debian's) on a free loopback port, the simulator, and one then
two `python app.py` replicas with SHOWCASE_REDIS_URL, each admission going through the Redis
script (the owner's daily budget on, large enough never to refuse). The crowd is the one of
run.py (everyone presses Generate at once, 1 s upstream latency, 2 s of speech), split evenly
between the replicas as a load balancer would; the ratio is makespan / ideal, where ideal is
ceil(visitors per replica / concurrency limit) rounds of the upstream. Nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import measures, services  # noqa: E402
from bench.report import percentile  # noqa: E402
from bench.visitor import http_client  # noqa: E402

TARGET_SCALING = 1.2  # 2 replicas' crowd ratio / 1 replica's, with twice the crowd
TARGET_ADMISSION_P95_S = 0.002  # Redis admission's extra p95 over the in-memory one
CONCURRENCY_LIMIT = 16  # the app's default: a crowd of 32 takes two rounds


def admission_latency(url: str, samples: int) -> tuple[list[float], list[float]]:
    """Seconds per Quota.admit (the owner's key, every limit on): in memory, then in Redis."""
    from qwen_tts_showcase.quota import Limits, Quota, Visitor
    from qwen_tts_showcase.shared_state import RedisQuota, connect

    limits = Limits(1_000_000, 60, 1_000_000, 3600, 10**9, 10**9, 10**9)
    results = []
    for quota in (Quota(limits), RedisQuota(limits, connect(url))):
        quota.admit(Visitor("warm", "10.9.9.9"), 1, owner_key=True)  # script loaded, connected
        times = []
        for i in range(samples):
            visitor = Visitor(f"s{i % 50}", f"10.0.{i % 7}.1")
            started = time.perf_counter()
            quota.admit(visitor, 40, owner_key=True)
            times.append(time.perf_counter() - started)
        results.append(times)
    return results[0], results[1]


def _inputs(text: str) -> list:
    """The page's Generate inputs (the owner token's State is the session's: None)."""
    return measures.studio_inputs(text, owner=None)


async def _crowd(lab: measures.Lab, visitors: int) -> tuple[float, float, float, int]:
    """measures.crowd's crowd: (first join, last completion, ideal, failed)."""
    await lab.set_upstream(
        measures.CROWD_AUDIO_S, first_chunk_s=measures.CROWD_FIRST_CHUNK_S, realtime_factor=0.0
    )
    sessions = await asyncio.gather(*(lab.app.open_page() for _ in range(visitors)))
    visits = await asyncio.gather(
        *(lab.app.visit("generate", _inputs(measures.unique_text()), s) for s in sessions)
    )
    done = [v for v in visits if v.completed_at and not v.error]
    ideal = math.ceil(visitors / CONCURRENCY_LIMIT) * measures.CROWD_FIRST_CHUNK_S
    last = max((v.completed_at for v in done), default=0.0)
    return min(v.joined_at for v in visits), last, ideal, len(visits) - len(done)


async def crowd_on(replicas: list[services.Service], simulator, upstream, visitors: int):
    """`visitors` split evenly over the replicas, all pressing Generate at once: the ratio
    makespan / ideal, the makespan, and how many failed."""
    async with http_client() as http:
        labs = [await measures.Lab(app, simulator, upstream, http).connect() for app in replicas]
        for lab in labs:  # warm-up: imports and first-use costs out of the crowd
            warm = await lab.app.visit("generate", _inputs(measures.unique_text()))
            if warm.error:
                raise RuntimeError(f"generate failed: {warm.error}")
        await labs[0].reset_simulator()
        crowds = await asyncio.gather(*(_crowd(lab, visitors // len(labs)) for lab in labs))
    makespan = max(c[1] for c in crowds) - min(c[0] for c in crowds)
    return makespan / crowds[0][2], makespan, sum(c[3] for c in crowds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--crowd", type=int, default=32, help="visitors on one replica")
    parser.add_argument(
        "--pin",
        action="store_true",
        help="replica i on CPU i only (taskset), as replicas on machines of their own would be",
    )
    parser.add_argument(
        "--admission-only", action="store_true", help="only the Redis admission's latency"
    )
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        raise SystemExit("redis-server is missing: apt-get install redis-server")
    crowd = 8 if args.quick else args.crowd
    samples = 200 if args.quick else 2_000
    work = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    redis_port = services.free_port()
    redis_process = services.start_redis(redis_port, work)
    url = f"redis://127.0.0.1:{redis_port}/0"
    upstream = measures.Upstream(0.3, 0.3, 0.72)
    simulator = services.simulator(work, 0.3, 0.3, 0.72)
    simulator.start("/_sim/requests")
    env = {
        "SHOWCASE_REDIS_URL": url,
        "SHOWCASE_CONCURRENCY_LIMIT": str(CONCURRENCY_LIMIT),
        "SHOWCASE_QUEUE_SIZE": "256",
        "SHOWCASE_VISITOR_REQUESTS": "0",
        "SHOWCASE_IP_REQUESTS": "0",
        "SHOWCASE_DAILY_CHAR_BUDGET": str(10**9),  # on: every admission runs the Redis script
        "SHOWCASE_VISITOR_DAILY_CHARS": "0",
        "SHOWCASE_IP_DAILY_CHARS": "0",
        "SHOWCASE_VISITOR_DISK_MB": "0",
    }
    replicas = []
    try:
        memory, shared = admission_latency(url, samples)
        for i in range(0 if args.admission_only else 2):
            app = services.app(work, simulator, {**env, "SHOWCASE_CACHE_DIR": str(work / f"c{i}")})
            app.name, app.log_path = f"app{i + 1}", work / f"app{i + 1}.log"
            if args.pin:
                app.argv = ["taskset", "-c", str(i), *app.argv]
            replicas.append(app)
        if replicas:
            replicas[0].start()
            one = asyncio.run(crowd_on(replicas[:1], simulator, upstream, crowd))
            replicas[1].start()
            two = asyncio.run(crowd_on(replicas, simulator, upstream, 2 * crowd))
    finally:
        for app in replicas:
            app.stop()
        simulator.stop()
        redis_process.kill()
        redis_process.wait()
        if sys.exc_info()[0] is None:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"logs kept in {work}", file=sys.stderr)
    p95_memory, p95_redis = percentile(memory, 0.95), percentile(shared, 0.95)
    extra = p95_redis - p95_memory
    if args.admission_only:
        print(
            f"Admission p95, {samples} samples: in memory {p95_memory * 1000:.3f} ms, Redis "
            f"{p95_redis * 1000:.3f} ms (+{extra * 1000:.3f} ms; target 2 ms)"
        )
        return 0
    scaling = two[0] / one[0]
    if args.pin:
        print("Replica i pinned to CPU i (taskset).")
    print("| Measure | Result | Target |")
    print("|---|---|---|")
    print(
        f"| Crowd of {crowd} on 1 replica: makespan / ideal | {one[1]:.2f} s, "
        f"{one[0]:.2f}× ({one[2]} failed) | |"
    )
    print(
        f"| Crowd of {2 * crowd} on 2 replicas: makespan / ideal | {two[1]:.2f} s, "
        f"{two[0]:.2f}× ({two[2]} failed) | |"
    )
    print(
        f"| 2 replicas' ratio / 1 replica's | {scaling:.2f} | ≤ {TARGET_SCALING:g} "
        f"{'✅' if scaling <= TARGET_SCALING else '❌'} |"
    )
    print(
        f"| Admission p95, {samples} samples: in memory / Redis (extra) | "
        f"{p95_memory * 1000:.3f} ms / {p95_redis * 1000:.3f} ms (+{extra * 1000:.3f} ms) | "
        f"≤ {TARGET_ADMISSION_P95_S * 1000:g} ms "
        f"{'✅' if extra <= TARGET_ADMISSION_P95_S else '❌'} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
