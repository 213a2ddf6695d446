// The Studio's busy state, its calm input checks, and the page's calm toasts (loaded after
// page.js by ui/theme.py; it uses window.qwenTts and the catalogue's "page_" words).
(() => {
  const tts = window.qwenTts;
  const live = tts.live;
  const MESSAGES = window.qwenTtsMessages || {};
  const SYNC_MS = 200;  // how often the button, the progress line and the hints are brought up to date
  // What a long text costs in time, measured on DashScope (issue 11: 5,000 characters made
  // 10 requests, about 1,060 s of audio in 318 s): seconds of audio per Han character and per
  // other character, and wall seconds per second of audio. Rough on purpose: it says "about".
  const AUDIO_S_PER_HAN = 0.21;
  const AUDIO_S_PER_OTHER = 0.07;
  const WALL_S_PER_AUDIO_S = 0.3;
  const AUDIO_TOKENS_PER_S = 50;  // qwen-tts bills its audio at 50 tokens a second
  const HAN_CHAR = new RegExp(`[${window.qwenTtsMeasure.han}]`, "gu");

  function language() {
    return (document.documentElement.lang || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  }

  function say(key, fields = {}, lang = language()) {
    return MESSAGES[key][lang].replace(/\{(\w+)\}/g, (_, name) => String(fields[name]));
  }

  // Both languages as twin spans (the page's CSS shows one), as page.js writes them.
  function words(key, fields) {
    return `<span class="lang-en">${say(key, fields, "en")}</span>` +
      `<span class="lang-zh">${say(key, fields, "zh")}</span>`;
  }

  // One sentence per language, its pieces in the same language, as twin spans.
  function inEach(render) {
    return `<span class="lang-en">${render("en")}</span><span class="lang-zh">${render("zh")}</span>`;
  }

  function duration(seconds, lang) {
    const whole = Math.max(1, Math.round(seconds));
    return whole < 90 ? say("page_span_s", { seconds: whole }, lang)
      : say("page_span_min", { minutes: Math.round(whole / 60) }, lang);
  }

  // --- Before a long text starts: how many requests, what it costs, how long it takes --------

  function estimate(text, limit, size) {
    const clean = tts.cleanText(text || "");
    const han = (clean.match(HAN_CHAR) || []).length;
    const audioS = han * AUDIO_S_PER_HAN + ([...clean].length - han) * AUDIO_S_PER_OTHER;
    const wallS = audioS * WALL_S_PER_AUDIO_S;
    const parts = Math.ceil(size / limit.max);
    const billed = limit.unit === "tokens"
      ? size + Math.ceil(audioS) * AUDIO_TOKENS_PER_S : size;
    const unit = limit.unit === "tokens" ? "page_unit_tokens" : "page_unit_characters";
    const sentence = (lang) => say("page_studio_estimate", {
      parts, billed: billed.toLocaleString("en-US"), unit: say(unit, {}, lang),
      time: duration(wallS, lang), audio: duration(audioS, lang),
    }, lang);
    return `<div class="studio-estimate" data-parts="${parts}" data-billed="${billed}"` +
      ` data-seconds="${Math.round(wallS)}">${inEach(sentence)}</div>`;
  }

  // The counter under the text box (page.js), an empty text's hint, and a long text's estimate.
  function counter(text, limit, cap) {
    const html = tts.counter(text, limit, cap);
    if (!tts.cleanText(text || "")) {
      return html.replace('class="input-counter ok"', 'class="input-counter empty"') +
        `<div class="input-hint" role="status">${words("page_hint_empty")}</div>`;
    }
    const size = tts.measure(text, limit.unit);
    if (tts.measure(text, "characters") > cap) {
      return html + `<div class="input-hint over" role="status">${words("page_hint_too_long")}</div>`;
    }
    return size > limit.max ? html + estimate(text, limit, size) : html;
  }

  // --- Generate while idle, Stop while speaking --------------------------------------------

  let stopped = false;  // Stop pressed before the ticket came back: that stream never plays
  let started = 0;  // when the running synthesis was asked for (ms), for "seconds so far"

  // The Studio's stream shows in the player, or in the gallery card that started it.
  function panel() { return document.querySelector(`${live.target()} .live-panel`); }

  function panelState() { return panel()?.dataset.state || "idle"; }

  // Where the browser plays Gradio's streamed player instead: from the press until its
  // Generate event ends (studio.py calls streamEnded), Stop or not.
  let streaming = false;

  function streamEnded() { streaming = false; sync(); }

  // After Stop, what the streamed player had buffered stays silent until the next press (it
  // would resume itself on its next piece). Media events do not bubble: capture.
  let hushed = false;
  document.addEventListener("play", (event) => {
    if (hushed && event.target.closest && event.target.closest("#live_audio")) event.target.pause();
  }, true);

  // Waiting for sound, receiving it, or still playing what came.
  function speaking() {
    if (!live.supported()) return streaming;
    const state = panelState();
    if (state === "waiting" || state === "playing") return true;
    const run = live.current();
    return state === "complete" && !!run && run.sources.size > 0;
  }

  function stop() {
    stopped = true;
    if (!live.supported()) {  // the streamed player: the server ends the event, and it is silent
      document.querySelector("#stream_stop")?.click();
      hushed = true;
      for (const audio of document.querySelectorAll("#live_audio audio")) audio.pause();
      return;
    }
    live.stop();
    const waiting = panel();
    if (waiting && waiting.dataset.state === "waiting") {  // no stream yet: nothing else to stop
      waiting.dataset.state = "stopped";
      waiting.querySelector(".live-status").innerHTML = words("page_live_stopped");
      waiting.querySelector(".live-stop").disabled = true;
    }
    sync();
  }

  // The ticket is back (studio.py): play it, unless Stop came first.
  function play(ticket) {
    if (stopped) return;
    live.play(ticket);
  }

  // Runs before page.js's own listener (the window sees a click before the document does).
  window.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#generate");
    if (!button) return;
    if (speaking()) {
      event.stopImmediatePropagation();
      event.preventDefault();
      stop();
    } else if (!button.disabled) {
      stopped = false;
      started = performance.now();
      streaming = !live.supported();
      hushed = false;
    }
  }, true);

  window.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && speaking()) stop();
  }, true);

  // "Part 2 of 10": the stream's latest notice says which part is being spoken.
  function part() {
    const note = live.current()?.note;
    const found = note && /(\d+)\D+(\d+)/.exec(note.en);
    return found ? { number: Number(found[1]), count: Number(found[2]) } : null;
  }

  function progressHtml() {
    const seconds = Math.floor((performance.now() - started) / 1000);
    const where = part();
    return where
      ? words("page_studio_progress_part", { ...where, seconds })
      : words("page_studio_progress", { seconds });
  }

  function progressBox(button) {
    let box = document.querySelector("#studio_progress");
    if (!box) {
      box = document.createElement("div");
      box.id = "studio_progress";
      box.setAttribute("role", "status");
      button.insertAdjacentElement("afterend", box);
    }
    return box;
  }

  function stopLabel(button) {
    let label = button.querySelector(".studio-stop-label");
    if (!label) {
      label = document.createElement("span");
      label.className = "studio-stop-label";
      button.append(label);
    }
    return label;
  }

  // --- Input problems beside the field, Generate unavailable until they are fixed ----------

  const HINTS = {
    empty: "page_hint_empty", over: "page_hint_too_long", instructions: "page_hint_instructions",
  };

  function inputProblem() {
    const text = document.querySelector("#text textarea");
    if (text && !tts.cleanText(text.value || "")) return "empty";
    if (document.querySelector("#input_counter .input-counter.over")) return "over";
    const instructions = document.querySelector("#instructions_counter .input-counter.over");
    if (instructions && instructions.offsetParent !== null) return "instructions";
    return null;
  }

  function setText(element, html) {
    if (element.dataset.shown !== html) { element.innerHTML = html; element.dataset.shown = html; }
  }

  // --- No key: say what the visitor can do, and let the live buttons look unavailable -------

  function keyless() {
    const notice = document.querySelector("#key_notice");
    const key = document.querySelector("#api_key input");
    return !!notice && notice.offsetParent !== null && !(key && key.value.trim());
  }

  // Open the Connection section and put the cursor in the key field.
  function openConnection() {
    const section = document.querySelector("#connection");
    if (!section) return;
    const field = () => section.querySelector("#api_key input");
    if (!field() || field().offsetParent === null) section.querySelector("button")?.click();
    requestAnimationFrame(() => requestAnimationFrame(() => {
      section.scrollIntoView({ behavior: "smooth", block: "center" });
      field()?.focus();
    }));
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href='#connection']");
    if (!link) return;
    event.preventDefault();
    openConnection();
  });

  // --- Everything above, brought up to date ----------------------------------------------

  function sync() {
    const button = document.querySelector("#generate");
    if (!button) return;
    const busy = speaking();
    const problem = busy ? null : inputProblem();
    button.classList.toggle("studio-busy", busy);
    setText(stopLabel(button), busy ? words("page_live_stop") : "");
    if (busy) button.setAttribute("aria-label", say("page_live_stop"));
    else button.removeAttribute("aria-label");
    if (button.disabled !== !!problem) button.disabled = !!problem;
    button.title = problem ? say(HINTS[problem]) : "";
    const box = progressBox(button);
    setText(box, busy && started ? progressHtml() : "");
    const noKey = keyless();
    document.documentElement.classList.toggle("no-key", noKey);
    for (const card of document.querySelectorAll(".card-button.primary")) {
      if (card.classList.contains("keyless") !== noKey) {
        card.classList.toggle("keyless", noKey);
        card.title = noKey ? say("page_card_needs_key") : "";
      }
    }
  }

  // A gallery card filled the editor and presses Generate next (cards.js): what speaks stops,
  // and the button learns the new text, so that press starts the card's line.
  function beforeCard() {
    if (speaking()) stop();
    sync();
  }

  // A failure's red line in the player goes with the next change the visitor makes.
  function calmPlayer(event) {
    if (!event.target.closest || !event.target.closest("#editor")) return;
    const shown = panel();
    if (shown && ["failed", "broken"].includes(shown.dataset.state)) shown.dataset.state = "idle";
  }

  setInterval(sync, SYNC_MS);
  document.addEventListener("input", (event) => { calmPlayer(event); sync(); }, true);

  // --- Calm toasts ------------------------------------------------------------------------

  // Gradio groups toasts by type (one body, a list of messages) and titles the group with the
  // type's English name. A message just shown hides every older one with the same words (they
  // never stack), and a newer error hides an older error (one at a time, not a wall).
  const ITEM = ".toast-message-item";
  const TITLES = {
    error: "page_toast_error", warning: "page_toast_warning", info: "page_toast_info",
    success: "page_toast_success",
  };

  function itemText(item) {
    return item.querySelector('[data-testid="toast-text"]')?.textContent || "";
  }

  function calmToast(added) {
    const isError = added.classList.contains("error");
    for (const other of document.querySelectorAll(ITEM)) {
      if (other === added || other.hidden) continue;
      if (itemText(other) === itemText(added) || (isError && other.classList.contains("error"))) {
        other.hidden = true;
      }
    }
    const body = added.closest('[data-testid="toast-body"]');
    const title = body?.querySelector(".toast-title");
    const type = Object.keys(TITLES).find((name) => body.classList.contains(name));
    const words = title && type && [...title.childNodes].find((node) => node.nodeType === 3);
    if (words) words.data = say(TITLES[type]);
  }

  new MutationObserver((mutations) => {
    for (const { addedNodes } of mutations) {
      for (const node of addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        const items = node.matches(ITEM) ? [node] : [...node.querySelectorAll(ITEM)];
        items.forEach(calmToast);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.qwenTtsStudio = {
    counter, play, stop, speaking, openConnection, sync, beforeCard, streamEnded,
  };
})();
