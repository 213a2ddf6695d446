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


  // The live player: the synthesis streamed as raw 16-bit 24 kHz PCM from the app's own route
  // (qwen_tts_showcase/live.py), read with fetch() and played with Web Audio, each piece an
  // AudioBufferSourceNode started exactly where the previous one ends (frames counted as
  // integers, so pieces join without a gap or an overlap), LEAD_S ahead of the clock when the
  // stream starts or falls behind (less when its first piece is long). Where the browser lacks any of it (or the page is told
  // window.qwenTtsPlayer = "stream"), Generate runs the streamed gr.Audio as before.
  const live = (() => {
    const RATE = 24000;
    // The jitter buffer: how far ahead of the clock a stream starts (or restarts after falling
    // behind), so the next piece has that long to arrive. A first piece that is itself long
    // enough covers the wait (a cache hit is one piece): then it starts at once.
    const LEAD_S = 0.04;
    const MIN_LEAD_S = 0.01;
    // Compare's players take turns: each streams at once, and is heard after the one before
    // it ends, with this pause between two voices.
    const TURN_GAP_S = 0.3;
    // The waveform of what has arrived: the loudest sample of every PEAK_FRAMES (20 ms).
    const PEAK_FRAMES = 480;
    let audio = null;  // {context, output}: one AudioContext for the page, made on first use
    let run = null;  // the Studio's stream, or null
    let group = [];  // Compare's streams, in slot order
    let aimed = null;  // where the next Generate shows its progress (a gallery card's box)
    let target = "#live_player";  // where the Studio's stream shows it
    const runs = new Set();  // every stream that may still sound, for Stop and Esc

    function supported() {
      return window.qwenTtsPlayer !== "stream" && typeof window.AudioContext === "function" &&
        typeof window.ReadableStream === "function" &&
        typeof window.AbortController === "function" && "body" in Response.prototype;
    }

    // Made or resumed inside the click (browsers let audio start only from a gesture).
    function context() {
      if (!audio) {
        // The smallest output buffer the device allows: in Chromium half of "interactive"'s
        // (16 ms of output latency instead of 32), heard in every first sound; the jitter
        // buffer above is what absorbs the network.
        const made = new AudioContext({ sampleRate: RATE, latencyHint: 0 });
        const output = made.createGain();
        output.connect(made.destination);
        audio = { context: made, output };
      }
      if (audio.context.state !== "running") audio.context.resume().catch(() => {});
      return audio;
    }

    function liveUrl(ticket, tail = "") {
      const root = (window.gradio_config && window.gradio_config.root) || location.origin;
      return `${root.replace(/\/$/, "")}/live/${encodeURIComponent(ticket)}${tail}`;
    }

    // A ticket asked for ahead (studio.py's wire_live_ahead), so that Generate is one request:
    // every change of the Studio's inputs bumps `edits` (and voids the ticket); once they have
    // been still for ASK_DELAY_MS the page asks, stamped with `edits`, and keeps the answer only
    // while the stamp is still current. A ticket lives TICKET_TTL_S on the server (live.py):
    // one older than READY_FOR_MS is asked for again.
    const ASK_DELAY_MS = 300;
    const READY_FOR_MS = 45000;
    const KEEP_EVERY_MS = 1000;
    let edits = 0;
    let ready = null;  // {ticket, at, values}: the inputs it was asked for, as JSON
    const asked = new Map();  // stamp: the inputs sent with it, as JSON
    let askTimer = null;
    let askedAt = 0;

    function changed() {
      edits += 1;
      ready = null;
      clearTimeout(askTimer);
      askTimer = setTimeout(ask, ASK_DELAY_MS);
    }

    function ask() {
      clearTimeout(askTimer);
      askTimer = null;
      const button = document.querySelector("#live_ahead");
      if (!button || !supported()) return;
      askedAt = performance.now();
      button.click();
    }

    // The ahead event's inputs as sent: the Studio's inputs (studio.py), then the stamp.
    function asking(values) {
      const sent = [...values.slice(0, -1), String(edits)];
      asked.clear();  // only the latest answer is kept
      asked.set(String(edits), JSON.stringify(values.slice(0, -1)));
      return sent;
    }

    function prepared(answer) {
      const [stamp, ticket] = String(answer || "").split(" ");
      if (ticket && Number(stamp) === edits && asked.has(stamp)) {
        ready = { ticket, at: performance.now(), values: asked.get(stamp) };
      }
    }

    function fresh() { return ready !== null && performance.now() - ready.at < READY_FOR_MS; }

    // Keep a ticket ready while the page is open and quiet: after loading, after a ticket was
    // used, and before one expires (nothing is asked while a stream plays or the tab is hidden).
    setInterval(() => {
      if (fresh() || askTimer !== null || document.hidden || !supported()) return;
      if (performance.now() - askedAt < 2 * KEEP_EVERY_MS || (run && sounding(run))) return;
      ask();
    }, KEEP_EVERY_MS);

    // The next Studio stream plays where the visitor clicked (cards.js): its progress there.
    function aim(box) { aimed = box; }

    // Generate pressed: stop what plays, then let go() see the inputs as Gradio holds them
    // (a picker's change event may come a moment after it shows the new value).
    function start() {
      context();
      stop();
      target = aimed || "#live_player";
      aimed = null;
      show(claim({
        state: "waiting", box: target, sources: new Set(), pending: [], after: null,
      }));
      document.querySelector("#live_go").click();
    }

    // Stream the ticket ready for exactly these inputs, or ask the server for one first.
    let lastPress = null;  // "ready" or "asked": how the last press got its ticket

    function go(values) {
      if (fresh() && JSON.stringify(values) === ready.values) {
        const { ticket } = ready;
        ready = null;
        lastPress = "ready";
        play(ticket, true);  // sets `run` before its first await; live_use comes with its sound
        return;
      }
      ready = null;
      lastPress = "asked";
      document.querySelector("#generate_live").click();
    }

    // A ticket it had ahead becomes the page's ticket (live_use: the previous results go) once
    // its first audio is scheduled, or its stream ended without any: at the click, the event's
    // answer (eight outputs redrawn) held the page's thread before the first sound. The finish
    // waits for it (studio.py tells used()), so the two never cross; never for ever.
    // Nothing to clear, no event: until a finish has shown results (a page's first press).
    const USE_WAIT_MS = 5000;
    const using = [];  // the runs whose live_use is on its way, in order
    let resultsShown = false;  // a finish has filled the Studio's results since the last clear

    function use(current) {
      if (!current.ahead || current.using) return;
      if (!resultsShown) { current.using = Promise.resolve(); return; }
      resultsShown = false;
      current.using = new Promise((resolve) => {
        current.used = resolve;
        setTimeout(resolve, USE_WAIT_MS);
      });
      using.push(current);
      document.querySelector("#live_use")?.click();
    }

    function used() { using.shift()?.used(); }

    // Compare pressed: the same, for every slot's ticket at once (compare.py).
    function startCompare() {
      context();
      stop();
      document.querySelector("#compare_live").click();
    }

    function newRun(ticket, box) {
      return {
        ticket, box, abort: new AbortController(), sources: new Set(), carry: null, nextFrame: 0,
        firstFrame: null, receivedFrames: 0, underruns: 0, state: "waiting", error: null,
        after: null, pending: [], done: false, next: null, checksum: 0, note: null, gaps: [],
        told: null, words: false, peaks: [], peak: 0, peakFrames: 0,
      };
    }

    // A Compare slot's samples wait until every slot before it has arrived whole: the one
    // before being done is not enough while that one still waits its own turn (a third slot
    // done before the second would let the fourth play over the first).
    function queued(current) {
      const before = current.after;
      return before !== null && (!before.done || queued(before));
    }

    // Samples in, a source node scheduled right after the previous one.
    function schedule(current, bytes) {
      if (queued(current)) { current.pending.push(bytes); return; }
      let data = bytes;
      if (current.carry) {
        data = new Uint8Array(current.carry.length + bytes.length);
        data.set(current.carry);
        data.set(bytes, current.carry.length);
        current.carry = null;
      }
      const frames = data.length >> 1;
      if (data.length & 1) current.carry = data.slice(data.length - 1);
      if (!frames) return;
      const { context: ctx, output } = audio;
      const buffer = ctx.createBuffer(1, frames, RATE);
      const channel = buffer.getChannelData(0);
      const view = new DataView(data.buffer, data.byteOffset, frames * 2);
      let sum = current.checksum;  // what this player got, for the tests: a hash of its samples
      let { peak, peakFrames } = current;
      for (let i = 0; i < frames; i++) {
        const sample = view.getInt16(2 * i, true);
        channel[i] = sample / 32768;
        sum = (Math.imul(sum, 31) + (sample & 0xffff)) >>> 0;
        const level = sample < 0 ? -sample : sample;
        if (level > peak) peak = level;
        if (++peakFrames === PEAK_FRAMES) {
          current.peaks.push(peak / 32768);
          peak = peakFrames = 0;
        }
      }
      current.checksum = sum;
      current.peak = peak;
      current.peakFrames = peakFrames;
      const now = Math.ceil(ctx.currentTime * RATE);
      if (current.nextFrame < now + 1) {  // the first piece, or the stream fell behind
        const lead = Math.max(MIN_LEAD_S, LEAD_S - frames / RATE);
        const behind = current.nextFrame;
        current.nextFrame = now + Math.round(lead * RATE);
        if (current.firstFrame !== null) {  // a silence in the audio's timeline (realtime.js)
          current.underruns += 1;
          current.gaps.push([current.receivedFrames, current.nextFrame - behind]);
        }
      }
      if (current.firstFrame === null) {
        current.firstFrame = current.nextFrame;
        setTimeout(() => use(current), 0);  // once this read is done: the sound is on its way
      }
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(output);
      source.start(current.nextFrame / RATE);
      source.onended = () => current.sources.delete(source);
      current.sources.add(source);
      current.nextFrame += frames;
      current.receivedFrames += frames;
    }

    function silence(current) {
      for (const source of current.sources) {
        try { source.stop(); } catch (_) { /* not started yet */ }
      }
      current.sources.clear();
    }

    async function play(ticket, ahead = false) {
      if (!ticket || !supported()) return;
      stop();
      const current = newRun(ticket, target);
      current.ahead = ahead;
      run = current;
      await listen(current);
      if (run !== current) return;
      if (current.forgotten) {  // a ticket asked for ahead the server no longer keeps
        show(claim({
          state: "waiting", box: target, sources: new Set(), pending: [], after: null,
        }));
        document.querySelector("#generate_live").click();
        return;
      }
      use(current);  // the stream ended before any audio (nothing if its audio did it)
      await current.using;
      // A complete stream's recording comes outside the queue; any other end is queued, for
      // the toast a failure shows (studio.py's wire_live).
      const finish = current.state === "complete" ? "#live_done" : "#live_finish";
      if (run !== current) return;
      resultsShown = true;
      document.querySelector(finish)?.click();
    }

    // A finished recording played at once (a History row): the same player, nothing made.
    async function replay(ticket, box) {
      if (!ticket || !supported()) return;
      stop();
      await listen(newRun(ticket, box));
    }

    // Compare's slots: all streamed at once, heard one after another in slot order.
    async function compare(tickets) {
      if (!tickets.length || !supported()) return;
      stop();
      const mine = tickets.map((ticket, index) => newRun(ticket, `#compare_live_${index}`));
      mine.forEach((current, index) => {
        if (index) { current.after = mine[index - 1]; mine[index - 1].next = current; }
      });
      group = mine;
      await Promise.all(mine.map(listen));
      if (group === mine) document.querySelector("#compare_finish")?.click();
    }

    // The one before is done: this slot starts where it ends (after a pause), or now.
    function takeTurn(current) {
      const before = current.after;
      if (before.state === "complete" && before.nextFrame) {
        current.nextFrame = before.nextFrame + Math.round(TURN_GAP_S * RATE);
      }
      for (const bytes of current.pending.splice(0)) schedule(current, bytes);
      if (current.done && current.next) takeTurn(current.next);
      show(current);
    }

    // What the stream says while it plays ("part 2 of 3", a retry), asked for twice a second
    // once it has run NOTICE_FIRST_MS: most streams are whole by then, and /end tells the rest.
    const NOTICE_FIRST_MS = 1500, NOTICE_POLL_MS = 500;

    async function heedOnce(current) {
      const answer = await fetch(liveUrl(current.ticket, "/notices"), { cache: "no-store" })
        .then((response) => (response.ok ? response.json() : null)).catch(() => null);
      heard(current, answer && answer.notices);
    }

    // While the stream arrives (/end brings what was said last).
    async function heed(current) {
      for (let wait = NOTICE_FIRST_MS; !current.done; wait = NOTICE_POLL_MS) {
        await new Promise((resolve) => setTimeout(resolve, wait));
        if (!current.done) await heedOnce(current);
      }
    }

    function heard(current, notices) {
      if (notices && notices.length) { current.note = notices[notices.length - 1]; show(current); }
    }

    // The player a run shows itself in is its own until a newer run takes it (an older run
    // still ending or fading out must not paint over the new one's state).
    function claim(current) {
      const box = document.querySelector(current.box);
      if (box) box.liveRun = current;
      return current;
    }

    async function listen(current) {
      claim(current);
      runs.add(current);
      context();
      show(current);
      tick(current);
      heed(current);
      let state = "complete";
      try {
        const response = await fetch(liveUrl(current.ticket), {
          signal: current.abort.signal, cache: "no-store",
        });
        if (!response.ok) {
          current.error = await response.json().catch(() => null);
          state = "failed";
          // Tickets are bounded per session and address: one kept ahead may have been let go.
          current.forgotten = current.ahead && response.status === 403;
        } else {
          current.state = "playing";
          current.words = response.headers.get("X-Live-Words") === "1";  // realtime.js lights them
          const reader = response.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            schedule(current, value);
          }
          // A failure part-way ends the body like a whole one: ask how it ended.
          const end = await fetch(liveUrl(current.ticket, "/end"), { cache: "no-store" });
          const told = current.told = await end.json().catch(() => ({}));
          if (!end.ok) { current.error = told; state = "broken"; }
          else state = told.state === "complete" ? "complete" : "stopped";
          heard(current, told.notices);
        }
      } catch (_) {
        state = current.abort.signal.aborted ? "stopped" : "broken";
      }
      if (current.abort.signal.aborted && state === "complete") state = "stopped";
      if (state !== "complete") { silence(current); current.pending = []; }
      current.state = state;
      current.done = true;
      show(current);
      if (!queued(current) && current.next) takeTurn(current.next);
    }

    // Stop (and Esc, and leaving): every stream is aborted and silenced.
    function stop() {
      for (const current of runs) {
        current.abort.abort();
        silence(current);
        current.pending = [];
        if (current.state !== "complete") current.state = "stopped";  // a whole one stays whole
        show(current);
      }
      runs.clear();
    }

    function seconds(frames) { return (frames / RATE).toFixed(1); }

    function playedFrames(current) {
      if (!audio || current.firstFrame === null) return 0;
      const now = Math.floor(audio.context.currentTime * RATE) - current.firstFrame;
      return Math.max(0, Math.min(now, current.nextFrame - current.firstFrame));
    }

    // The player's line: Stop, a bar of what has played against what has arrived, in words.
    function show(current) {
      const box = document.querySelector(current.box);
      if (!box || (box.liveRun && box.liveRun !== current)) return;
      let panel = box.querySelector(".live-panel");
      if (!panel) {
        box.innerHTML = `<div class="live-panel" data-state="idle">` +
          `<button type="button" class="live-stop">${words("page_live_stop")}</button>` +
          `<div class="live-bar"><div class="live-received"></div>` +
          `<div class="live-played"></div><canvas class="live-wave"></canvas></div>` +
          `<div class="live-status"></div>` +
          `<div class="live-note"></div></div>`;
        panel = box.querySelector(".live-panel");
        panel.querySelector(".live-stop").addEventListener("click", stop);
      }
      const state = current.state;
      panel.dataset.state = state;
      const played = current.receivedFrames ? playedFrames(current) : 0;
      const total = Math.max(current.receivedFrames || 0, 1);
      panel.querySelector(".live-played").style.width = `${(100 * played) / total}%`;
      panel.querySelector(".live-received").style.width = current.receivedFrames ? "100%" : "0";
      drawWave(panel.querySelector(".live-wave"), current);
      const status = panel.querySelector(".live-status");
      if (state === "waiting" || (sounding(current) && current.pending.length)) {
        status.innerHTML = words("page_live_waiting");
      }
      else if (state === "playing" || (state === "complete" && current.sources.size > 0)) {
        status.innerHTML = words("page_live_playing", {
          played: seconds(played), received: seconds(current.receivedFrames),
        });
      } else if (state === "complete") {
        status.innerHTML = words("page_live_done", { seconds: seconds(current.receivedFrames) });
      } else if (state === "stopped") status.innerHTML = words("page_live_stopped");
      else if (current.error && current.error.en) {
        const escape = (text) => text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
        status.innerHTML = `<span class="lang-en">${escape(current.error.en)}</span>` +
          `<span class="lang-zh">${escape(current.error.zh)}</span>`;
      } else status.innerHTML = words("page_live_broken");
      panel.querySelector(".live-stop").disabled = !sounding(current);
      const note = panel.querySelector(".live-note");
      const escaped = (text) => text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
      note.innerHTML = current.note && sounding(current)
        ? `<span class="lang-en">${escaped(current.note.en)}</span>` +
          `<span class="lang-zh">${escaped(current.note.zh)}</span>`
        : "";
    }

    // A column per pixel, as high as the loudest 20 ms under it (against the loudest so far);
    // drawn again only when more has arrived or the bar changed size (the played part is the
    // bar under it).
    function drawWave(canvas, current) {
      const peaks = current.peaks || [];
      const scale = window.devicePixelRatio || 1;
      const width = Math.round(canvas.clientWidth * scale);
      const height = Math.round(canvas.clientHeight * scale);
      const drawn = `${current.ticket} ${peaks.length} ${width}x${height}`;
      if (canvas.dataset.drawn === drawn) return;
      canvas.dataset.drawn = drawn;
      canvas.width = width;
      canvas.height = height;
      const pen = canvas.getContext("2d");
      if (!pen || !peaks.length) return;
      pen.fillStyle = getComputedStyle(canvas).color;
      const middle = height / 2;
      const top = peaks.reduce((a, b) => Math.max(a, b), 0) || 1;  // the loudest fills the bar
      for (let x = 0; x < width; x++) {
        const from = Math.floor((x * peaks.length) / width);
        const to = Math.max(from + 1, Math.floor(((x + 1) * peaks.length) / width));
        let loudest = 0;
        for (let i = from; i < to; i++) loudest = Math.max(loudest, peaks[i]);
        const half = Math.max(0.5, (loudest / top) * middle);
        pen.fillRect(x, middle - half, 1, 2 * half);
      }
    }

    // Waiting for sound, or some of it still to be heard.
    function sounding(current) {
      return current.state === "waiting" || current.state === "playing" ||
        (current.state === "complete" && (current.sources.size > 0 || queued(current)));
    }

    // The bar follows the clock while something plays.
    function tick(current) {
      show(current);
      if (sounding(current)) requestAnimationFrame(() => tick(current));
    }

    // Generate (and Ctrl+Enter, and a gallery card) go to the live player when it can play, and
    // so does Compare.
    document.addEventListener("click", (event) => {
      const button = event.target.closest && event.target.closest("#generate, #compare_run");
      if (!button || button.disabled || !supported()) return;
      event.stopImmediatePropagation();
      event.preventDefault();
      if (button.id === "compare_run") startCompare(); else start();
    }, true);
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && [...runs].some(sounding)) stop();
    });
    window.addEventListener("pagehide", stop);
    // One voice at a time: a recording that starts playing silences the live players.
    document.addEventListener("play", () => { for (const current of runs) silence(current); }, true);
    document.documentElement.classList.add(supported() ? "live-player" : "stream-player");

    return {
      supported, context, aim, target: () => target, start, go, play, compare, replay, stop, changed, asking, prepared, used,
      ready: fresh, pressed: () => lastPress, current: () => run, compared: () => group,
      clock: () => audio && audio.context, liveUrl,
    };
  })();

  followChineseBrowser().catch(() => {});  // a Gradio without that module keeps its choice

  window.qwenTts = {
    cleanText, estimatedTokens, measure, counter, instructionCounter, words, live,
  };
})();
