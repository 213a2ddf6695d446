"""Making, deleting and expiring visitors' voices through DashScope's customization route, with
the owner's switches, caps and budget applied to the Space's key (the rules are in voices.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .catalogue import Model
from .dashscope_client import VoiceService
from .errors import DashScopeError, InputError, echo
from .messages import say
from .quota import Visitor
from .speech import Route
from .voices import (
    VOICE_BUDGET_CHARACTERS,
    OwnedVoice,
    check_description,
    check_name,
    handle_hash,
    is_gone,
    make_handle,
    makers,
    new_api_salt,
    owner_id,
    switch_refusal,
)

if TYPE_CHECKING:
    from .synthesis import Synthesizer

log = logging.getLogger(__name__)

VOICE_SWEEP_S = 600  # how often the Space key's voices past their retention are looked for


class VoiceMaker:
    """Designs, clones and deletes visitors' voices through the customization route, and deletes
    the Space key's voices once their retention period is over."""

    def __init__(self, synthesizer: Synthesizer) -> None:
        self.synthesizer = synthesizer
        self.settings = synthesizer.settings
        self.book = synthesizer.voices

    def design(
        self,
        description: str,
        preview_text: str,
        label: str,
        *,
        region: str,
        token: str,
        visitor: Visitor,
        api_key: str = "",
    ) -> tuple[OwnedVoice, bytes]:
        """A new designed voice of this visitor and its preview (audio file bytes)."""
        description, preview_text = check_description(description, preview_text)
        name = check_name(label)
        model, route = self._model_and_route("design", region, api_key)
        with self._admitted("design", route, visitor, token):
            created = VoiceService(route.open()).design(model.id, description, preview_text, name)
        return self._keep(
            created.voice, model, region, name, (token, visitor), route
        ), created.preview

    def clone(
        self,
        audio_uri: str,
        transcript: str,
        label: str,
        *,
        region: str,
        token: str,
        visitor: Visitor,
        api_key: str = "",
    ) -> OwnedVoice:
        """A new cloned voice of this visitor from a checked recording (a data: URI)."""
        name = check_name(label)
        model, route = self._model_and_route("clone", region, api_key)
        with self._admitted("clone", route, visitor, token):
            created = VoiceService(route.open()).enroll(
                model.id, audio_uri, name, (transcript or "").strip()
            )
        return self._keep(created.voice, model, region, name, (token, visitor), route)

    def delete(self, voice: str, *, token: str, api_key: str = "") -> OwnedVoice:
        """Delete the visitor's own voice from DashScope (one already gone is forgotten too)."""
        found = self.book.get(voice)
        if found is None or not token or found.owner != owner_id(token):
            raise InputError(say("custom_voice_not_yours", voice=echo(voice)))
        if not found.owner_key and not api_key:  # it lives in the visitor's own account
            raise InputError(say("voice_delete_needs_key", voice=found.label))
        route = self.synthesizer.route(found.region, "" if found.owner_key else api_key)
        try:
            VoiceService(route.open()).delete(found.family, found.voice)
        except DashScopeError as err:
            if not is_gone(err):
                raise
        self.book.remove(found.voice)
        return found

    def sweep(self) -> list[str]:
        """Delete the Space key's voices older than the retention period; the names deleted.
        A voice DashScope could not delete now stays in the book for the next sweep."""
        deleted = []
        for voice in self.book.expired(self.settings.voice_retention_h * 3600):
            try:
                route = self.synthesizer.route(voice.region, "")
                VoiceService(route.open()).delete(voice.family, voice.voice)
            except DashScopeError as err:
                if not is_gone(err):
                    log.warning("custom voice not deleted yet: %s", err.en)
                    continue
            self.book.remove(voice.voice)
            deleted.append(voice.voice)
        return deleted

    def sweep_every(self, interval_s: float) -> threading.Thread:
        """Sweep now and then every interval, on a daemon thread."""

        def run() -> None:
            while True:
                try:
                    self.sweep()
                except Exception:  # a sweep must never end the thread
                    log.exception("custom voice sweep failed")
                time.sleep(interval_s)

        thread = threading.Thread(target=run, name="voice-retention", daemon=True)
        thread.start()
        return thread

    def _model_and_route(self, family: str, region: str, api_key: str) -> tuple[Model, Route]:
        catalogue = self.synthesizer.catalogue
        model = catalogue.custom_model(family, catalogue.region(region).id)
        if model is None:
            raise InputError(say("voice_family_not_offered", region=catalogue.region(region)))
        return model, self.synthesizer.route(region, api_key)

    @contextmanager
    def _admitted(self, family: str, route: Route, visitor: Visitor, token: str) -> Iterator[None]:
        """Check the owner's switches and caps and charge the daily budget (the Space's key
        only); refunded when no voice was made."""
        if not token:
            raise InputError(say("voice_owner_missing"))
        refusal = self.book.room_for(token)
        if refusal:
            raise refusal
        if not route.owner_key:
            yield
            return
        settings = self.settings
        allowed = settings.allow_design if family == "design" else settings.allow_cloning
        refusal = switch_refusal(family, allowed)
        if refusal:
            raise refusal
        route.open()  # no key at all: said before anything is counted
        # The caps are counted first (one step: no two creations take the last one), then the
        # budget; both are given back when no voice was made.
        uncount = self.book.claim(
            makers(token, visitor), settings.voices_per_day, settings.voices_per_visitor_day
        )
        try:
            admission = self.synthesizer.quota.admit(
                visitor, VOICE_BUDGET_CHARACTERS, owner_key=True
            )
        except BaseException:
            uncount()
            raise
        try:
            yield
        except BaseException:
            admission.refund()
            uncount()
            raise

    def _keep(
        self, name: str, model: Model, region: str, label: str, maker: tuple, route: Route
    ) -> OwnedVoice:
        token, visitor = maker
        made_at = self.book.now()
        salt = new_api_salt() if route.owner_key else ""  # a visitor's key: no API handle
        voice = OwnedVoice(
            name,
            model.family,
            model.id,
            region,
            label,
            owner_id(token),
            route.owner_key,
            made_at,
            api_salt=salt,
            api_hash=handle_hash(make_handle(token, name, salt)) if salt else "",
        )
        self.book.add(voice)
        return voice
