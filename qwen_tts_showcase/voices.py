"""Voices of a visitor's own: designed from a description or cloned from a recording.

Who owns which voice: each browser holds a random owner token (kept in its storage with its
history, never the key); the server keeps, per voice it helped make, a hash of that token, so a
visitor sees, speaks and deletes only their own voices. Who pays: with the Space's key, creating
is off unless the owner turns it on (SHOWCASE_ALLOW_DESIGN, SHOWCASE_ALLOW_CLONING), capped per
day for the Space and per visitor, and each voice counts against the daily character budget;
with a visitor's own key nothing here limits it. Voices the Space's key made are deleted from
DashScope after the retention period; the book of voices is a small JSON file under the cache
directory, written atomically, so a restart forgets none of them. The calls to DashScope
(creating, deleting, the retention sweep) are in voice_maker.py.

API handles: an API caller has no browser, so each voice the Space's key made also has a handle,
"<voice id>#<secret>", that /synthesize and the MCP tool speak. The secret is an HMAC of the
maker's owner token and a random salt of the voice: the page can show it again to its maker
(who sends the token) without it being stored anywhere; the book keeps the salt and a hash of
the handle. Deleting or expiring the voice revokes it. Voices made with a visitor's own key live
in their account, which the Space's key cannot speak: they have none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .catalogue import Model
from .errors import DashScopeError, InputError, LimitReachedError, echo
from .messages import say
from .quota import Visitor

log = logging.getLogger(__name__)

BOOK_FILE = "custom_voices.json"
DAY_S = 86_400
MAX_DESCRIPTION_CHARS = 2048  # qwen-voice-design's voice_prompt
MAX_PREVIEW_CHARS = 200  # the preview line: a sentence or two is enough to judge a voice
NAME_PATTERN = re.compile(r"[A-Za-z0-9_]{1,16}")  # DashScope's preferred_name
# A created voice costs USD 0.20, what 20,000 characters of qwen3-tts-flash cost (USD 0.10 per
# 10,000): that many characters of the owner key's daily budget.
VOICE_BUDGET_CHARACTERS = 20_000
# What the book keeps: a browser's voices (a new owner token is free to make, so this is a
# courtesy), and all voices (each creation rewrites the book): past it the oldest voice made with
# a visitor's own key is forgotten here (it stays in their DashScope account). The Space key's
# voices are bounded by its daily caps and the retention period.
MAX_VOICES_PER_OWNER = 20
MAX_VOICES = 5_000


def new_owner_token() -> str:
    """A browser's secret that proves which voices it made."""
    return secrets.token_urlsafe(18)


def owner_id(token: str) -> str:
    """What the server keeps of an owner token: its hash, never the token."""
    return hashlib.sha256(f"qwen-tts-showcase-voices|{token}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class OwnedVoice:
    voice: str  # DashScope's name for it: the `voice` a synthesis sends
    family: str  # "design" or "clone"
    model: str  # the VD or VC model that speaks it
    region: str
    label: str  # what the visitor called it
    owner: str  # owner_id() of the browser that made it
    owner_key: bool  # made with the Space's key: deleted after the retention period
    created_at: float  # epoch seconds
    # The API handle (the Space key's voices only): a random salt and the handle's hash; a book
    # written before handles existed has neither, and its voices have no handle.
    api_salt: str = ""
    api_hash: str = ""


HANDLE_SEPARATOR = "#"


def new_api_salt() -> str:
    return secrets.token_urlsafe(16)


def _api_secret(token: str, name: str, salt: str) -> str:
    """128 bits only the maker's token (and the voice's salt) can give."""
    digest = hmac.new(token.encode(), f"api-handle|{name}|{salt}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def handle_hash(handle: str) -> str:
    """What the book keeps of a handle: its hash, never the handle."""
    return hashlib.sha256(f"qwen-tts-showcase-handle|{handle}".encode()).hexdigest()


def make_handle(token: str, name: str, salt: str) -> str:
    return f"{name}{HANDLE_SEPARATOR}{_api_secret(token, name, salt)}"


def api_handle(voice: OwnedVoice, token: str) -> str | None:
    """The voice's API handle for its maker (None for anyone else, or a voice without one)."""
    if not (voice.owner_key and voice.api_salt and token) or voice.owner != owner_id(token):
        return None
    return make_handle(token, voice.voice, voice.api_salt)


class VoiceBook:
    """Every voice made through this app and today's creations, on disk; thread-safe."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(directory) / BOOK_FILE
        self._clock = clock
        self._lock = threading.Lock()
        self._voices: dict[str, OwnedVoice] = {}
        # (when, who) of the Space key's creations: who is the maker's owner id and address hash
        self._created: list[tuple[float, tuple[str, ...]]] = []
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self._voices = {row["voice"]: OwnedVoice(**row) for row in raw["voices"]}
            self._created = [(float(at), tuple(map(str, who))) for at, who in raw["created"]]
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:  # unreadable: say so, start empty
            log.warning("custom voice book %s unreadable (%s); starting empty", self.path, exc)

    def _save(self) -> None:
        """Write the book to a temporary file and rename it into place (never half-written)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "voices": [asdict(v) for v in self._voices.values()],
            "created": [list(row) for row in self._created],
        }
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".voices-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def add(self, voice: OwnedVoice) -> None:
        """Keep a new voice (the Space key's creation was counted by claim())."""
        with self._lock:
            self._voices[voice.voice] = voice
            visitors_own = [v for v in self._voices.values() if not v.owner_key]
            visitors_own.sort(key=lambda v: v.created_at)
            for old in visitors_own[: max(0, len(self._voices) - MAX_VOICES)]:
                del self._voices[old.voice]
            self._save()

    def remove(self, name: str) -> None:
        with self._lock:
            if self._voices.pop(name, None) is not None:
                self._save()

    def now(self) -> float:
        return self._clock()

    def room_for(self, token: str) -> InputError | None:
        """Why this browser may make no more voices now (it keeps MAX_VOICES_PER_OWNER), or None."""
        if len(self.mine(token)) >= MAX_VOICES_PER_OWNER:
            return InputError(say("voices_owner_full", cap=MAX_VOICES_PER_OWNER))
        return None

    def get(self, name: str) -> OwnedVoice | None:
        with self._lock:
            return self._voices.get(name)

    def mine(self, token: str) -> list[OwnedVoice]:
        """The voices this browser made, oldest first."""
        who = owner_id(token) if token else None
        with self._lock:
            return sorted(
                (v for v in self._voices.values() if v.owner == who), key=lambda v: v.created_at
            )

    def expired(self, retention_s: float) -> list[OwnedVoice]:
        """The Space key's voices older than the retention period."""
        now = self._clock()
        with self._lock:
            return [
                v
                for v in self._voices.values()
                if v.owner_key and now - v.created_at >= retention_s
            ]

    def created_today(self, who: tuple[str, ...] | None = None) -> int:
        """Voices the Space's key made today (UTC), by anyone, or by a visitor known by any of
        `who` (their browser's owner id, or their address)."""
        today = int(self._clock() // DAY_S)
        with self._lock:
            self._created = [row for row in self._created if int(row[0] // DAY_S) == today]
            return sum(1 for _, by in self._created if who is None or set(by) & set(who))

    def claim(self, who: tuple[str, ...], per_day: int, per_visitor: int) -> Callable[[], None]:
        """Count one creation of the Space's key now, before the voice is made, or raise
        LimitReachedError at a cap (0 = no cap); the function returned uncounts it (no voice
        was made). Checked and counted at once, so racing creations never pass a cap."""
        with self._lock:
            today = int(self._clock() // DAY_S)
            self._created = [row for row in self._created if int(row[0] // DAY_S) == today]
            if per_day and len(self._created) >= per_day:
                raise self._cap_refusal(True, per_day, per_visitor)
            mine = sum(1 for _, by in self._created if set(by) & set(who))
            if per_visitor and mine >= per_visitor:
                raise self._cap_refusal(False, per_day, per_visitor)
            row = (self._clock(), tuple(who))
            self._created.append(row)

        def undo() -> None:
            with self._lock:
                if row in self._created:
                    self._created.remove(row)

        return undo

    def _cap_refusal(self, space: bool, per_day: int, per_visitor: int) -> LimitReachedError:
        wait_s = DAY_S - self._clock() % DAY_S
        if space:
            return LimitReachedError(say("voices_space_cap", cap=per_day), retry_after_s=wait_s)
        return LimitReachedError(say("voices_visitor_cap", cap=per_visitor), retry_after_s=wait_s)

    def by_handle(self, handle: str) -> OwnedVoice | None:
        """The voice this API handle speaks, or None (not a handle, wrong, revoked)."""
        name, separator, secret = (handle or "").partition(HANDLE_SEPARATOR)
        found = self.get(name) if separator and secret else None
        if found is None or not found.api_hash:
            return None
        return found if hmac.compare_digest(found.api_hash, handle_hash(handle)) else None

    def check_handle(self, handle: str, model: Model) -> OwnedVoice:
        """The voice an API caller named by its handle, if `model` can speak it; else an
        InputError that never repeats what was sent (it may hold a secret)."""
        name = (handle or "").partition(HANDLE_SEPARATOR)[0]
        known = self.get(name)
        if known is not None and not known.owner_key:
            raise InputError(say("voice_api_own_key", model=model.id))
        found = self.by_handle(handle)
        if found is None:
            raise InputError(say("voice_api_handle_wrong", model=model.id))
        if found.family != model.family:
            raise InputError(
                say(
                    "custom_voice_wrong_model", voice=found.label, model=model.id, right=found.model
                )
            )
        return found

    def check_use(self, voice: str, model: Model, token: str, handle: str = "") -> OwnedVoice:
        """The visitor's own voice if `model` can speak it (its maker's token, or its API
        handle), else an InputError saying why."""
        found = self.get(voice)
        mine = found is not None and bool(token) and found.owner == owner_id(token)
        if found is not None and not mine and handle:
            mine = self.by_handle(handle) == found
        if found is None or not mine:
            raise InputError(say("custom_voice_not_yours", voice=echo(voice)))
        if found.family != model.family:
            raise InputError(
                say(
                    "custom_voice_wrong_model", voice=found.label, model=model.id, right=found.model
                )
            )
        return found


def makers(token: str, visitor: Visitor) -> tuple[str, ...]:
    """How the per-visitor cap knows a visitor: the browser's owner id and a hash of its address,
    so a cleared browser storage does not start a fresh count."""
    address = hashlib.sha256(f"qwen-tts-showcase-address|{visitor.ip}".encode()).hexdigest()[:32]
    return (owner_id(token), address) if visitor.ip else (owner_id(token),)


def check_name(label: str) -> str:
    """The visitor's name for a voice as DashScope takes it, or an InputError."""
    name = (label or "").strip()
    if not NAME_PATTERN.fullmatch(name):
        raise InputError(say("voice_name_rules", name=echo(name)))
    return name


def check_description(description: str, preview_text: str) -> tuple[str, str]:
    """The description and the preview line, trimmed, or an InputError saying what to fix."""
    description, preview_text = (description or "").strip(), (preview_text or "").strip()
    if not description:
        raise InputError(say("voice_description_missing"))
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InputError(
            say("voice_description_long", length=len(description), cap=MAX_DESCRIPTION_CHARS)
        )
    if not preview_text:
        raise InputError(say("voice_preview_missing"))
    if len(preview_text) > MAX_PREVIEW_CHARS:
        raise InputError(say("voice_preview_long", length=len(preview_text), cap=MAX_PREVIEW_CHARS))
    return description, preview_text


def switch_refusal(family: str, allowed: bool) -> InputError | None:
    """Why the Space's key may not make voices of this family at all (the owner's switch), or
    None; its daily caps are counted by VoiceBook.claim()."""
    if allowed:
        return None
    key = "design_off_owner_key" if family == "design" else "cloning_off_owner_key"
    return InputError(say(key, where_key=say("where_key")))


def is_gone(err: DashScopeError) -> bool:
    """A voice DashScope no longer has (deleted elsewhere, or by retention)."""
    return err.msg.key == "voice_gone"
