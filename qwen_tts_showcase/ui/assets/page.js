// Client-side help for the Qwen-TTS Showcase page, loaded through launch(head=...).
// measure() is a twin of qwen_tts_showcase/text.py (clean_text, estimated_tokens, input_size),
// built from the pieces text.py writes into the page head (window.qwenTtsMeasure); the tests run
// one list of hard strings (tests/data/hard_strings.json) through both.
(() => {
  const { han: HAN, lineBreaks, invisibleCategories } = window.qwenTtsMeasure;
  const HAN_CHAR = new RegExp(`[${HAN}]`, "gu");
  // Python's \w is a letter, a number or "_"; a word here is a run of those that are not Han.
  const WORD = new RegExp(`(?:(?![${HAN}])[\\p{L}\\p{N}_])+`, "gu");
  const SYMBOL = /[^\p{L}\p{N}_\s]/gu;
  const LINE_BREAKS = new RegExp(lineBreaks, "gu");
  // Python's unicodedata.category, as Unicode property escapes; line breaks and tabs stay.
  const INVISIBLE = new RegExp(
    `(?![\\n\\t])[${invisibleCategories.map((category) => `\\p{${category}}`).join("")}]`, "gu");
  // Where Ctrl/Cmd+Enter goes: typing in the first element presses the second.
  const SHORTCUTS = [["#text", "#generate"], ["#compare_text", "#compare_run"]];

  // Gradio picks the UI language among its own locales only, so a browser set to plain "zh",
  // "zh-HK" or "zh-SG" gets English. Switch those to the page's Chinese with the function
  // Gradio's own Settings panel calls (this script runs after Gradio has chosen).
  function chineseLocale(tag) {
    const lower = (tag || "").toLowerCase();
    if (!lower.startsWith("zh") || lower === "zh-cn" || lower === "zh-tw") return null;
    return /^zh-(hant|hk|mo)/.test(lower) ? "zh-TW" : "zh-CN";
  }

  async function followChineseBrowser() {
    const wanted = chineseLocale(navigator.language);
    if (!wanted) return;
    const core = performance.getEntriesByType("resource").map((entry) => entry.name)
      .find((name) => /\/assets\/core-[\w-]+\.js$/.test(name));
    if (core) (await import(core)).changeLocale?.(wanted);
  }

  function cleanText(text) {
    return text
      .normalize("NFC")
      .replace(LINE_BREAKS, "\n")
      .replace(INVISIBLE, "")
      .trim();
  }

  function estimatedTokens(text) {
    const han = (text.match(HAN_CHAR) || []).length;
    const words = (text.match(WORD) || [])
      .reduce((sum, word) => sum + Math.ceil([...word].length / 4), 0);
    return han + words + (text.match(SYMBOL) || []).length;
  }

  function measure(text, unit) {
    const clean = cleanText(text || "");
    return unit === "tokens" ? estimatedTokens(clean) : [...clean].length;
  }

  // The page's words come from the server's message catalogue (the keys starting "page_"), put
  // into the head by ui/theme.py's page_head(): {key: {en, zh}}, with {field} placeholders.
  const MESSAGES = window.qwenTtsMessages || {};

  function say(key, language, fields = {}) {
    return MESSAGES[key][language].replace(/\{(\w+)\}/g, (_, name) => String(fields[name]));
  }

  // Both languages as twin spans; the page's CSS shows the one of <html lang> (ui/i18n.py).
  function words(key, fields) {
    return `<span class="lang-en">${say(key, "en", fields)}</span>` +
      `<span class="lang-zh">${say(key, "zh", fields)}</span>`;
  }

  // The counter under the text box: the text against the selected model's limit per request
  // ({max, unit}); a longer text is split at sentence ends, up to the page's cap in characters.
  function counter(text, limit, cap) {
    const size = measure(text, limit.unit);
    const chars = measure(text, "characters");
    const state = chars > cap ? "over" : size > limit.max ? "split"
      : size > 0.9 * limit.max ? "near" : "ok";
    const unit = words(limit.unit === "tokens" ? "page_tokens_estimated" : "page_characters");
    const notes = {
      over: words("page_text_too_long", { cap }),
      split: words("page_text_split"),
    };
    const shortcut = words("page_shortcut");
    return `<div class="input-counter ${state}" data-size="${size}" data-max="${limit.max}">` +
      `<span class="count">${size} / ${limit.max}</span> ${unit}` +
      (notes[state] ? ` <span class="note">· ${notes[state]}</span>` : "") +
      `<span class="shortcut">${shortcut}</span></div>`;
  }

  // The length of the instructions against the instruct models' limit, in estimated tokens.
  function instructionCounter(text, max) {
    const size = measure(text, "tokens");
    const state = size > max ? "over" : size > 0.9 * max ? "near" : "ok";
    const note = state === "over"
      ? ` <span class="note">· ${words("page_instructions_too_long")}</span>`
      : "";
    return `<div class="input-counter ${state}" data-size="${size}" data-max="${max}">` +
      `<span class="count">${size} / ${max}</span> ` +
      words("page_tokens_estimated") + note + "</div>";
  }

  // Bring an element into view when it is off screen (on a phone the player is far above).
  function reveal(selector) {
    const element = document.querySelector(selector);
    if (!element) return;
    const box = element.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) {
      element.scrollIntoView({ behavior: "smooth", block: "center" });
    }
  }

  // Play the blog's recording a card just put on the page.
  function playOfficial() {
    requestAnimationFrame(() => {  // the new player is in the page after this frame
      const audio = document.querySelector("#official_audio audio");
      if (!audio) return;
      reveal("#official_audio");
      audio.currentTime = 0;
      audio.play().catch(() => {});  // the browser may refuse autoplay; the controls still work
    });
  }

  // After a card filled the editor: what its button asked for (the gallery sets cardAction).
  function afterCard() {
    if (window.qwenTts.cardAction === "official") return playOfficial();
    reveal("#live_audio");
    document.querySelector("#generate").click();  // one way to synthesize: the Generate button
  }

  // One voice at a time: starting a player pauses the others (play does not bubble: capture).
  document.addEventListener("play", (event) => {
    for (const audio of document.querySelectorAll("audio")) {
      if (audio !== event.target) audio.pause();
    }
  }, true);

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.isComposing) return;
    const pair = SHORTCUTS.find(([field]) => event.target.closest && event.target.closest(field));
    if (!pair) return;
    event.preventDefault();
    const button = document.querySelector(pair[1]);
    if (button && !button.disabled) button.click();
  });

  // Gradio's client says a full queue in English only, with words of its own (matched here, not
  // shown); say it in both languages, the browser's first, as the server's toasts do.
  const GRADIO_BUSY = "This application is currently busy";
  const TOAST_TEXT = '[data-testid="toast-text"]';

  function translateBusyToast(text) {
    if (!text.textContent.includes(GRADIO_BUSY)) return;
    const chineseFirst = navigator.language.toLowerCase().startsWith("zh");
    const order = chineseFirst ? ["zh", "en"] : ["en", "zh"];
    text.textContent = order.map((language) => say("page_queue_full", language)).join("\n");
  }

  // Only what was added is looked at (the live player changes the page many times a second).
  new MutationObserver((mutations) => {
    for (const { addedNodes } of mutations) {
      for (const node of addedNodes) {
        const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
        if (element?.matches(TOAST_TEXT)) translateBusyToast(element);
        else if (element === node) element.querySelectorAll(TOAST_TEXT).forEach(translateBusyToast);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  followChineseBrowser().catch(() => {});  // a Gradio without that module keeps its choice

  window.qwenTts = {
    cleanText, estimatedTokens, measure, counter, instructionCounter, reveal, afterCard,
  };
})();
