"""Settings read from the environment once, then passed down as arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import Catalogue


def _float(env: dict[str, str], name: str, default: float) -> float:
    value = env.get(name, "").strip()
    return float(value) if value else default


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    return int(value) if value else default


def _websocket_url(env: dict[str, str], name: str, default: str) -> str:
    """A WebSocket URL from the environment, any ?query dropped: the SDK appends ?model= itself,
    and a URL that already holds one would become ...?model=a?model=b."""
    return (env.get(name, "").strip() or default).split("?", 1)[0]


@dataclass(frozen=True)
class Settings:
    api_key: str = field(default="", repr=False)  # the Space owner's key; never shown or logged
    default_region: str = "beijing"
    base_urls: dict[str, str] = field(default_factory=dict)  # region id -> DashScope HTTP base
    # region id -> the realtime WebSocket URL (DASHSCOPE_REALTIME_URL, ..._INTL_...), and the
    # Qwen-Audio task URL; both without ?model= (the SDK appends it to the realtime one).
    realtime_urls: dict[str, str] = field(default_factory=dict)
    task_urls: dict[str, str] = field(default_factory=dict)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0  # the longest silence tolerated between two bytes of a response
    total_timeout_s: float = 120.0  # one synthesis, start to last byte
    download_timeout_s: float = 30.0  # fetching the WAV behind audio.url
    concurrency_limit: int = 16  # syntheses running at once; more wait in the queue
    queue_size: int = 64  # waiting beyond the running ones; the next visitor is told to retry
    cache_dir: Path = Path.home() / ".cache" / "qwen-tts-showcase"
    cache_max_mb: int = 500  # 0 turns the result cache off
    max_text_chars: int = 5_000  # longer texts are refused; shorter ones are split per request
    batch_max_rows: int = 50  # lines per batch on the page: a few minutes of one worker
    max_retries: int = 3  # for 429, 5xx and dropped connections, before any audio arrived
    retry_base_s: float = 0.5  # first backoff; doubles each retry, with jitter
    # Quotas (quota.py); 0 turns a limit off. A person trying voices stays far below the first
    # two; a script opening a fresh session per request meets the per-address limit.
    visitor_requests: int = 10  # syntheses per visitor (Gradio session) per visitor_window_s
    visitor_window_s: float = 60.0
    ip_requests: int = 60  # syntheses per IP address per ip_window_s
    ip_window_s: float = 3600.0
    # Characters as DashScope bills them (a Han character is 2 on qwen3): about CNY 8 a day on
    # qwen3-tts-flash (CNY 0.8 per 10,000 billed characters); own keys don't count.
    daily_char_budget: int = 100_000
    # Answers from the cache (quota.CachedAnswers): free of the budget, never unlimited.
    cached_requests: int = 60  # per visitor per cached_window_s; below 1 counts as 1
    cached_window_s: float = 60.0
    # Files made for visitors to download (downloads.py), batch ZIPs included: all of them
    # together, the oldest removed first; and the most one batch's ZIP may hold.
    downloads_max_mb: int = 1_000
    # Gradio's own temporary folder (uploads, its copies of served files): all of it (disk.py).
    gradio_files_max_mb: int = 1_000
    # What one visitor's new recordings may add to the disk per window (quota.DiskShare).
    visitor_disk_mb: int = 50
    visitor_disk_window_s: float = 60.0
    batch_max_mb: float = 200.0
    # Each visitor's (session's) and each address's share of that budget a day: one visitor
    # cannot spend the day's budget for everyone.
    visitor_daily_chars: int = 10_000
    ip_daily_chars: int = 20_000
    # What the server keeps and accepts (ui/__init__.py launch options, ui/guard.py).
    max_upload_mb: float = 2.0  # one uploaded file (a batch's CSV: the app reads at most 2 MB)
    max_sessions: int = 2_000  # Gradio sessions kept in memory (~250 KB each); the oldest go
    session_idle_s: float = 1_800.0  # a session unused this long is forgotten; 0 keeps them
    # Proxies in front of the app that append to X-Forwarded-For: Hugging Face's on a Space
    # (SPACE_ID set), none elsewhere, where the TCP peer is the visitor.
    trusted_proxy_hops: int = 0
    # Custom voices (voices.py). With the Space's key, designing and cloning are off unless the
    # owner turns them on; each created voice costs the owner USD 0.20 and is deleted after the
    # retention period. Visitors' own keys have no limit here.
    allow_design: bool = False
    allow_cloning: bool = False
    voices_per_day: int = 20  # voices the Space's key may create a day (UTC), all visitors
    voices_per_visitor_day: int = 3  # the same for one visitor (browser, or address)
    voice_retention_h: float = 24.0
    # Several replicas: the limits above kept in one Redis (shared_state.py), e.g.
    # redis://redis:6379/0; "" keeps them in this process's memory.
    redis_url: str = field(default="", repr=False)  # may hold a password

    @classmethod
    def from_env(cls, catalogue: Catalogue, env: dict[str, str] | None = None) -> Settings:
        """Settings from environment variables (see the README's Configuration section)."""
        env = dict(os.environ if env is None else env)
        return cls(
            api_key=env.get("DASHSCOPE_API_KEY", "").strip(),
            default_region=env.get("DASHSCOPE_REGION", "beijing").strip() or "beijing",
            base_urls={
                region.id: env.get(region.base_url_env, "").strip() or region.base_url
                for region in catalogue.regions
            },
            realtime_urls={
                region.id: _websocket_url(env, region.realtime_url_env, region.realtime_url)
                for region in catalogue.regions
            },
            task_urls={
                region.id: _websocket_url(env, region.task_url_env, region.task_url)
                for region in catalogue.regions
            },
            connect_timeout_s=_float(env, "SHOWCASE_CONNECT_TIMEOUT_S", cls.connect_timeout_s),
            read_timeout_s=_float(env, "SHOWCASE_READ_TIMEOUT_S", cls.read_timeout_s),
            total_timeout_s=_float(env, "SHOWCASE_TOTAL_TIMEOUT_S", cls.total_timeout_s),
            download_timeout_s=_float(env, "SHOWCASE_DOWNLOAD_TIMEOUT_S", cls.download_timeout_s),
            concurrency_limit=_int(env, "SHOWCASE_CONCURRENCY_LIMIT", cls.concurrency_limit),
            queue_size=_int(env, "SHOWCASE_QUEUE_SIZE", cls.queue_size),
            cache_dir=Path(env.get("SHOWCASE_CACHE_DIR", "").strip() or cls.cache_dir),
            cache_max_mb=_int(env, "SHOWCASE_CACHE_MAX_MB", cls.cache_max_mb),
            max_text_chars=_int(env, "SHOWCASE_MAX_TEXT_CHARS", cls.max_text_chars),
            batch_max_rows=_int(env, "SHOWCASE_BATCH_MAX_ROWS", cls.batch_max_rows),
            max_retries=_int(env, "SHOWCASE_MAX_RETRIES", cls.max_retries),
            retry_base_s=_float(env, "SHOWCASE_RETRY_BASE_S", cls.retry_base_s),
            visitor_requests=_int(env, "SHOWCASE_VISITOR_REQUESTS", cls.visitor_requests),
            visitor_window_s=_float(env, "SHOWCASE_VISITOR_WINDOW_S", cls.visitor_window_s),
            ip_requests=_int(env, "SHOWCASE_IP_REQUESTS", cls.ip_requests),
            ip_window_s=_float(env, "SHOWCASE_IP_WINDOW_S", cls.ip_window_s),
            daily_char_budget=_int(env, "SHOWCASE_DAILY_CHAR_BUDGET", cls.daily_char_budget),
            cached_requests=_int(env, "SHOWCASE_CACHED_REQUESTS", cls.cached_requests),
            cached_window_s=_float(env, "SHOWCASE_CACHED_WINDOW_S", cls.cached_window_s),
            downloads_max_mb=_int(env, "SHOWCASE_DOWNLOADS_MAX_MB", cls.downloads_max_mb),
            gradio_files_max_mb=_int(env, "SHOWCASE_GRADIO_FILES_MAX_MB", cls.gradio_files_max_mb),
            visitor_disk_mb=_int(env, "SHOWCASE_VISITOR_DISK_MB", cls.visitor_disk_mb),
            visitor_disk_window_s=_float(
                env, "SHOWCASE_VISITOR_DISK_WINDOW_S", cls.visitor_disk_window_s
            ),
            batch_max_mb=_float(env, "SHOWCASE_BATCH_MAX_MB", cls.batch_max_mb),
            allow_design=env.get("SHOWCASE_ALLOW_DESIGN", "").strip() == "1",
            allow_cloning=env.get("SHOWCASE_ALLOW_CLONING", "").strip() == "1",
            voices_per_day=_int(env, "SHOWCASE_VOICES_PER_DAY", cls.voices_per_day),
            voices_per_visitor_day=_int(
                env, "SHOWCASE_VOICES_PER_VISITOR_DAY", cls.voices_per_visitor_day
            ),
            voice_retention_h=_float(env, "SHOWCASE_VOICE_RETENTION_H", cls.voice_retention_h),
            redis_url=env.get("SHOWCASE_REDIS_URL", "").strip(),
            visitor_daily_chars=_int(env, "SHOWCASE_VISITOR_DAILY_CHARS", cls.visitor_daily_chars),
            ip_daily_chars=_int(env, "SHOWCASE_IP_DAILY_CHARS", cls.ip_daily_chars),
            max_upload_mb=_float(env, "SHOWCASE_MAX_UPLOAD_MB", cls.max_upload_mb),
            max_sessions=_int(env, "SHOWCASE_MAX_SESSIONS", cls.max_sessions),
            session_idle_s=_float(env, "SHOWCASE_SESSION_IDLE_S", cls.session_idle_s),
            trusted_proxy_hops=_int(
                env,
                "SHOWCASE_TRUSTED_PROXY_HOPS",
                1 if env.get("SPACE_ID") else cls.trusted_proxy_hops,
            ),
        )
