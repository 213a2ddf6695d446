"""The showcase pack: render every gallery sample, every voice preview of the region's default
model, and any texts given, into the result cache.

    python -m qwen_tts_showcase.pack
    python -m qwen_tts_showcase.pack --texts talk.txt --voices Cherry,Dylan

It reads the same settings as the app (DASHSCOPE_API_KEY, SHOWCASE_CACHE_DIR, ...), so an app
started afterwards on the same cache plays all of it with no key and no network: a presenter's
gallery clicks and voice previews then count only against the cached answers one visitor may
have a minute (SHOWCASE_CACHED_REQUESTS), not against the syntheses. What is cached already is
skipped; a failure is reported for its item and the others go on.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .catalogue import Catalogue, load_catalogue
from .config import Settings
from .errors import DemoError
from .messages import say
from .quota import UNMETERED
from .synthesis import SpeechOrder, Synthesizer


@dataclass(frozen=True)
class Item:
    """One clip to have in the cache."""

    label: str
    text: str
    voice: str
    model: str


@dataclass
class Outcome:
    rendered: int = 0
    already_cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, message)


def gallery_items(catalogue: Catalogue, region: str) -> list[Item]:
    """Every sample the page's gallery offers (the blog's and ours), as the page asks for it in
    the region (a model the region lacks is replaced as the gallery does)."""
    samples = catalogue.samples + catalogue.extra_samples
    return [
        Item(f"gallery {s.id} ({s.voice})", s.text, s.voice, catalogue.sample_model(s, region))
        for s in samples
    ]


def preview_items(catalogue: Catalogue, region: str) -> list[Item]:
    """Every voice of the region's default model introducing itself: the pickers' previews."""
    model = catalogue.default_model_in(region)
    return [
        Item(f"preview {voice} ({model})", catalogue.preview_text(voice), voice, model)
        for voice in catalogue.model(model).voices
    ]


def text_items(texts: Iterable[str], voices: list[str], model: str) -> list[Item]:
    """Each non-blank text in each of the voices."""
    lines = [line.strip() for line in texts if line.strip()]
    return [
        Item(f"text {number} ({voice})", text, voice, model)
        for number, text in enumerate(lines, start=1)
        for voice in voices
    ]


def render(
    synthesizer: Synthesizer,
    items: list[Item],
    region: str,
    progress: Callable[[list[Item]], Iterable[Item]] = iter,
) -> Outcome:
    """Synthesize what the cache lacks; a cached item costs one read and no API call."""
    outcome = Outcome()
    for item in progress(items):
        order = SpeechOrder(item.text, item.voice, item.model, region)
        try:
            # UNMETERED: the pack runs for the Space's owner, on the owner's key.
            result = synthesizer.speech(order, visitor=UNMETERED).complete()
        except DemoError as err:
            outcome.failed.append((item.label, err.en))
            continue
        if result.cached:
            outcome.already_cached += 1
        else:
            outcome.rendered += 1
    return outcome


def parse_args(argv: list[str] | None, catalogue: Catalogue) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, help="a UTF-8 file with one text per line")
    parser.add_argument(
        "--voices",
        default=catalogue.default_voice,
        help="comma-separated voices for --texts (default %(default)s)",
    )
    parser.add_argument(
        "--model", default=catalogue.default_model, help="model for --texts (default %(default)s)"
    )
    parser.add_argument("--region", help="DashScope region (default: DASHSCOPE_REGION)")
    parser.add_argument(
        "--no-gallery", action="store_true", help="only the --texts: no gallery, no previews"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    catalogue = load_catalogue()
    args = parse_args(argv, catalogue)
    settings = Settings.from_env(catalogue)
    if settings.cache_max_mb <= 0:
        print(say("pack_cache_off").en, file=sys.stderr)  # the pack speaks English
        return 2
    region = args.region or settings.default_region
    items = [] if args.no_gallery else gallery_items(catalogue, region)
    items += [] if args.no_gallery else preview_items(catalogue, region)
    if args.texts:
        texts = args.texts.read_text(encoding="utf-8").splitlines()
        items += text_items(texts, [v.strip() for v in args.voices.split(",")], args.model)
    outcome = render(
        Synthesizer(catalogue, settings),
        items,
        region,
        progress=lambda todo: tqdm(todo, desc="Showcase pack", unit="clip"),
    )
    print(
        f"{outcome.rendered} rendered, {outcome.already_cached} already cached, "
        f"{len(outcome.failed)} failed; cache: {settings.cache_dir}"
    )
    for label, message in outcome.failed:
        print(f"FAILED {label}: {message}", file=sys.stderr)
    return 1 if outcome.failed else 0


if __name__ == "__main__":
    sys.exit(main())
