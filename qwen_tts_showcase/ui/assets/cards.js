// The gallery's cards play where they are (ui/gallery.py): the blog's recording in the card,
// with its own bar and time, and the live result beside it through page.js's live player, whose
// progress the card's box shows. Nothing here scrolls the page. Also the Share button's link
// (ui/share.py).
(() => {
  const { words, live } = window.qwenTts;

  function card(element) { return element.closest(".sample-card"); }

  function officialAudio(element) { return card(element)?.querySelector(".card-official audio"); }

  // A card keeps its place on the screen while what it started changes the page above it (the
  // Studio's editor and result grow as the line is filled and spoken): the page scrolls by as
  // much as the card would have moved, until the visitor scrolls or types themselves.
  let pinned = null;  // {element, top}

  function pin(element) { pinned = { element, top: element.getBoundingClientRect().top }; }

  function keepPinned() {
    if (!pinned || !pinned.element.isConnected) return;
    const moved = pinned.element.getBoundingClientRect().top - pinned.top;
    if (Math.abs(moved) >= 0.5) window.scrollBy(0, moved);
  }

  new ResizeObserver(keepPinned).observe(document.body);
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    window.addEventListener(type, () => { pinned = null; }, { capture: true, passive: true });
  }

  // A card's button, inside the click (browsers let audio start only from a gesture).
  function clicked(button) {
    pin(card(button));
    window.qwenTtsCards.action = button.dataset.action;
    if (button.dataset.action === "official") return toggleOfficial(button);
    // One voice at a time: the recording pauses where it is, for the A/B.
    for (const audio of document.querySelectorAll("audio")) audio.pause();
    if (live.supported()) {
      live.context();
      live.aim(`#card-live-${CSS.escape(button.dataset.sample)}`);
    }
  }

  function toggleOfficial(button) {
    const audio = officialAudio(button);
    if (!audio) return;
    if (!audio.paused) { audio.pause(); return; }
    if (audio.ended) audio.currentTime = 0;
    show(audio, "loading");
    audio.play().catch((error) => {
      // A refused autoplay leaves it paused (the next click plays); a source that cannot be
      // loaded says so on the card (its "error" event does too).
      if (error && error.name === "NotSupportedError") show(audio, "failed");
      else if (audio.paused) show(audio, "idle");
    });
  }

  // After the server filled the editor with the card's line: a live click presses Generate,
  // the one way to synthesize (page.js sends it to the live player aimed at the card).
  function afterFill() {
    if (window.qwenTtsCards.action !== "live") return;
    window.qwenTtsCards.action = null;
    window.qwenTtsStudio?.beforeCard();
    document.querySelector("#generate")?.click();
  }

  function seconds(value) { return Number.isFinite(value) ? value.toFixed(1) : "0.0"; }

  // The official side of a card: idle, loading, playing, paused, ended or failed.
  function show(audio, state) {
    const progress = card(audio)?.querySelector(".card-progress");
    if (!progress) return;
    progress.dataset.state = state;
    const played = progress.querySelector(".card-played");
    const status = progress.querySelector(".card-status");
    if (state === "failed") {
      played.style.width = "0";
      status.innerHTML = words("page_card_official_failed");
      return;
    }
    const total = audio.duration;
    const share = Number.isFinite(total) && total > 0 ? audio.currentTime / total : 0;
    played.style.width = `${Math.min(100, 100 * share)}%`;
    status.innerHTML = state === "idle" || state === "loading" ? ""
      : words("page_card_official_playing", {
        played: seconds(audio.currentTime), total: seconds(total),
      });
  }

  // Media events do not bubble: listen in the capture phase, for every card's recording.
  const STATES = {
    playing: "playing", timeupdate: null, pause: "paused", ended: "ended", error: "failed",
  };
  for (const [type, state] of Object.entries(STATES)) {
    document.addEventListener(type, (event) => {
      const audio = event.target;
      if (!(audio instanceof HTMLMediaElement) || !audio.closest(".card-official")) return;
      const now = card(audio).querySelector(".card-progress").dataset.state;
      if (now === "failed" && type !== "playing") return;
      show(audio, state || (audio.paused ? now : "playing"));
    }, true);
  }

  // Share: the page's address with what the editor holds, copied if the browser lets us.
  // `takes` says per model whether it takes a language and instructions (ui/share.py).
  async function share([text, model, voice, language, instructions], takes) {
    const [language_ok, instructions_ok] = takes[model] || [false, false];
    const query = new URLSearchParams();
    if (voice) query.set("voice", voice);
    if (model) query.set("model", model);
    if (language_ok && language && language !== "Auto") query.set("language", language);
    if (instructions_ok && (instructions || "").trim()) query.set("instructions", instructions);
    if ((text || "").trim()) query.set("text", text);
    const link = `${location.origin}${location.pathname}?${query}`;
    let copied = false;
    try {
      await navigator.clipboard.writeText(link);
      copied = true;
    } catch (_) { /* no clipboard here: the link is shown to copy by hand */ }
    const escape = (value) => value.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return `<div class="share-made" data-copied="${copied}">` +
      words(copied ? "page_share_copied" : "page_share_copy_this") +
      ` <input class="share-url" readonly value="${escape(link)}"></div>`;
  }

  window.qwenTtsCards = { action: null, clicked, afterFill, share };
})();
