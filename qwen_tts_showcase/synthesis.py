"""The one way to synthesize: a visitor's order in, a Speech out (see speech.py for the rest).

Every feature (Studio, gallery cards, Compare, Batch, the showcase pack, /synthesize and the MCP
tool) calls `Synthesizer.speech(order, ...)`: the order is checked and its text split once into a
Plan, the Route (region, key, timeouts) is chosen once, and the Speech they make does the cache,
the quota, the retries and the join as it is iterated (or drained with `complete()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import downloads
from .cache import AudioCache
from .catalogue import Catalogue, Model
from .config import Settings
from .dashscope_client import SynthesisRequest, TextSource, Upstream
from .errors import InputError, echo
from .messages import Both, listing, say
from .quota import DiskShare, Limits, Visitor
from .realtime import check_controls
from .shared_state import Stores
from .speech import Notice, Plan, RetryPolicy, Route, Speech, SpeechResult
from .text import clean_text, input_size, split_text

# DashScope keys are "sk-" and letters or digits; anything else would be refused by DashScope,
# or break the Authorization header (and end up in an exception message, key included).
_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
MAX_KEY_CHARS = 256


@dataclass(frozen=True)
class SpeechOrder:
    """What a visitor asked to hear, as given (by the page, a batch row, the API): unchecked.

    language_type "Auto" (or None) is not sent; instructions are for the instruct models only.
    """

    text: str
    voice: str
    model: str
    region: str
    language_type: str | None = None
    instructions: str | None = None
    # The browser's owner token (voices.py): a designed or cloned voice speaks only for its maker.
    owner: str = field(default="", repr=False)
    # Or an API caller's handle of such a voice ("<voice id>#<secret>", voices.py): a secret.
    handle: str = field(default="", repr=False)
    # The realtime models' controls (realtime.py); None: the model's default, nothing sent.
    speech_rate: float | None = None
    pitch_rate: float | None = None
    volume: int | None = None
    sample_rate: int | None = None
    response_format: str | None = None
    written_pace: float | None = None  # speak as written: pieces a second (realtime.py)
    typed: bool = False  # speak as I type: the text comes from the page while it plays


class Synthesizer:
    """Checks orders against the catalogue and runs them against the right DashScope region."""

    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue = catalogue
        self.settings = settings
        self.cache = AudioCache(settings.cache_dir, settings.cache_max_mb * 1024 * 1024)
        # In memory, or in Redis shared by every replica (SHOWCASE_REDIS_URL).
        self.stores = Stores(settings.redis_url)
        self.voices = self.stores.voice_book(settings.cache_dir)  # who made which custom voice
        self.quota = self.stores.quota(
            Limits(
                settings.visitor_requests,
                settings.visitor_window_s,
                settings.ip_requests,
                settings.ip_window_s,
                settings.daily_char_budget,
                settings.visitor_daily_chars,
                settings.ip_daily_chars,
            )
        )
        self.answers = self.stores.cached_answers(
            settings.cached_requests, settings.cached_window_s
        )
        self.disk = DiskShare(
            settings.visitor_disk_mb * 1024 * 1024, settings.visitor_disk_window_s
        )
        # The gallery's lines are public: a cached one may say so to anyone.
        self._public_texts = frozenset(
            sample.text for sample in catalogue.samples + catalogue.extra_samples
        )
        downloads.set_max_bytes(settings.downloads_max_mb * 1024 * 1024)

    def speech(
        self,
        order: SpeechOrder,
        *,
        visitor: Visitor,
        api_key: str = "",
        streaming: bool = True,
        on_notice: Notice | None = None,
        viewer: Visitor | None = None,
        typed: TextSource | None = None,
    ) -> Speech:
        """A Speech to iterate, or an InputError before anything is sent.

        The key and the visitor's quota are needed only when the cache cannot answer; the
        visitor's own `api_key` is used for this speech only ("" for the server's key). The
        `viewer` hears the result when it is not the visitor (a batch's rows). `typed` is the
        text of a speak-as-I-type order, as the page sends it (live.py).
        """
        settings = self.settings
        plan = self.plan(order)
        if plan.request.typed and typed is None:
            raise InputError(say("typed_needs_live"))
        return Speech(
            plan,
            self.route(order.region, api_key),
            cache=self.cache,
            retry=RetryPolicy(
                settings.max_retries, settings.retry_base_s, deadline_s=settings.total_timeout_s
            ),
            quota=self.quota,
            visitor=visitor,
            streaming=streaming,
            on_notice=on_notice,
            answers=self.answers,
            disk=self.disk,
            viewer=viewer,
            public_text=plan.request.text in self._public_texts,
            typed=typed if plan.request.typed else None,
        )

    def plan(self, order: SpeechOrder) -> Plan:
        """The order checked and split into the requests sent, or an InputError saying what to
        fix; never reaches the network."""
        # The UI only offers valid choices, but the API endpoint can be called with anything.
        model = self.catalogue.model(order.model)
        region = self.catalogue.region(order.region)
        if not model.offered_in(region.id):
            offered = listing(Both(r.en, r.zh) for r in map(self.catalogue.region, model.regions))
            raise InputError(
                say("model_not_offered", model=model.id, region=region, offered=offered)
            )
        if model.family:  # a VD or VC model: only the visitor's own voices of its family
            own = self.voices.check_use(order.voice, model, order.owner, order.handle)
            if own.region != region.id:  # a custom voice lives in its key's region only
                made = self.catalogue.region(own.region)
                raise InputError(
                    say("custom_voice_other_region", voice=own.label, made=Both(made.en, made.zh))
                )
        else:
            self.catalogue.check_voice(model.id, order.voice)
        # Speak as I type: the text is not known yet (the page sends it while the audio plays)
        text = "" if order.typed and model.realtime else self._clean_text(order.text)
        pieces = split_text(text, model.max_input, model.input_unit) if text else [text]
        for piece in pieces:
            if input_size(piece, model.input_unit) > model.max_input:
                raise _unsplittable(piece, model)
        request = SynthesisRequest(
            text=text,
            voice=order.voice,
            model=model.id,
            language_type=self.catalogue.check_language(model.id, order.language_type),
            instructions=self.catalogue.check_instructions(model.id, order.instructions),
            **check_controls(self.catalogue, model, order),
        )
        parts = tuple(replace(request, text=piece) for piece in pieces)
        return Plan(request, parts, sdk=model.sdk, billing=model.billing)

    def route(self, region: str, api_key: str = "") -> Route:
        """Where requests go: the visitor's own key if given (an InputError if it cannot be a
        key), else the server's; a Route without an upstream when there is no key at all."""
        own_key = _own_key(api_key)
        key = own_key or self.settings.api_key
        here = self.catalogue.region(region)
        settings = self.settings
        upstream = (
            Upstream(
                base_url=settings.base_urls[here.id],
                api_key=key,
                connect_timeout_s=settings.connect_timeout_s,
                read_timeout_s=settings.read_timeout_s,
                total_timeout_s=settings.total_timeout_s,
                download_timeout_s=settings.download_timeout_s,
                realtime_url=settings.realtime_urls.get(here.id, ""),
                task_url=settings.task_urls.get(here.id, ""),
            )
            if key
            else None
        )
        home = self.catalogue.region(settings.default_region)
        hint = None
        if not own_key and here.id != home.id:  # the demo's own key belongs to its home region
            hint = say("own_key_other_region", home=home, here=here, where_key=say("where_key"))
        return Route(upstream, owner_key=not own_key, refused_key_hint=hint)

    def cached_result(self, cache_key: str, visitor: Visitor) -> SpeechResult | None:
        """A finished synthesis from the cache (for replaying history), or None; counted as one
        of the visitor's cached answers (LimitReachedError beyond them), found or not."""
        self.answers.admit(visitor)
        try:
            hit = self.cache.get(cache_key)
        except ValueError:  # not a key at all
            return None
        if hit is None:
            return None
        return SpeechResult(
            request=SynthesisRequest(**hit.request),
            pcm=hit.pcm,
            usage=hit.usage,
            billing=hit.billing,
            request_id=hit.request_id,
            first_audio_s=0.0,
            total_s=0.0,
            cache_key=cache_key,
            cached=True,
        )

    def admit_batch(self, visitor: Visitor) -> Visitor:
        """Count a whole batch as one request of the visitor, or raise LimitReachedError; the
        Visitor its rows speak as: each row is charged, as it runs, to the owner key's budget
        and to the visitor's and the address's share of it, but counts as no further request."""
        self.quota.admit(visitor, 0, owner_key=False)
        return replace(visitor, request_counted=True)

    def _clean_text(self, text: str | None) -> str:
        """The text cleaned, or an InputError when there is none or too much of it."""
        cap = self.settings.max_text_chars
        if len(text or "") > 2 * cap:  # refused unread: cleaning megabytes would hold a worker
            raise _too_long(len(text), cap)
        text = clean_text(text or "")
        if not text:
            raise InputError(say("no_text"))
        if len(text) > cap:
            raise _too_long(len(text), cap)
        return text


def _unsplittable(piece: str, model: Model) -> InputError:
    unit = say("unit_tokens_estimated" if model.input_unit == "tokens" else "unit_characters")
    return InputError(
        say("unsplittable", piece=echo(piece), limit=model.max_input, unit=unit, model=model.id)
    )


def _too_long(length: int, cap: int) -> InputError:
    return InputError(say("too_long", length=length, cap=cap))


def _own_key(user_key: str | None) -> str:
    """The visitor's own key, trimmed; "" when none. Refuses what cannot be a DashScope key
    without echoing it."""
    key = (user_key or "").strip()
    if key and (len(key) > MAX_KEY_CHARS or not set(key) <= _KEY_CHARACTERS):
        raise InputError(say("not_a_key"))
    return key
