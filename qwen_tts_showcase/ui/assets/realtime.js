// Words lit as they are spoken (issue 13): a realtime result's words (Qwen-Audio's word times)
// or sentences (laid on the audio's own timeline) light up in step with the finished
// recording's clock. Read on every animation frame, so the lit word is at most a frame (~16 ms)
// behind the audio element's currentTime.
(() => {
  const PLAYERS = ["#result_audio", "#live_audio"];

  function audios(root) {
    // Gradio's waveform keeps its <audio> in a shadow root: look inside those too
    const found = [...root.querySelectorAll("audio")];
    for (const element of root.querySelectorAll("*")) {
      if (element.shadowRoot) found.push(...audios(element.shadowRoot));
    }
    return found;
  }

  function clock() {
    // the recording that holds the result: the live player's finished one, else the streamed one
    for (const selector of PLAYERS) {
      const player = document.querySelector(selector);
      const audio = player && audios(player).find((a) => a.currentSrc);
      if (audio) return audio;
    }
    return null;
  }

  function light() {
    const box = document.querySelector("#spoken_words .spoken-words");
    const audio = box && clock();
    if (box && audio) {
      const ms = audio.currentTime * 1000;
      const started = ms > 0 || !audio.paused;
      for (const span of box.querySelectorAll(".spoken")) {
        const on = started && ms >= +span.dataset.begin && ms < +span.dataset.end;
        if (span.classList.contains("lit") !== on) span.classList.toggle("lit", on);
      }
    }
    requestAnimationFrame(light);
  }

  requestAnimationFrame(light);
})();

// The realtime panels' boxes sit just above the finished words (#spoken_words), made on first
// use: the written preview, the live player's words, the typing status.
function boxBeforeSpokenWords(id, className = "", role = "") {
  let box = document.getElementById(id);
  const anchor = document.getElementById("spoken_words");
  if (!box && anchor) {
    box = document.createElement("div");
    box.id = id;
    if (className) box.className = className;
    if (role) box.setAttribute("role", role);
    anchor.parentNode.insertBefore(box, anchor);
  }
  return box;
}

// Speak as it is written: while the model is sent the text word by word, the page writes it out
// at the same pace (realtime.py's WRITTEN_PACE, carried by the box's data-pace), so the visitor
// sees the "chatbot" write as the voice follows.
(() => {
  const PACE = 4; // pieces a second: qwen_tts_showcase/realtime.py WRITTEN_PACE
  const PIECE = /[\u3400-\u9fff][^\w\u3400-\u9fff]*|[^\s\u3400-\u9fff]+[^\w\u3400-\u9fff]*\s*|\s+/gu;
  let timer = null;

  const preview = () => boxBeforeSpokenWords("written_preview", "written-preview");

  function write(text) {
    const box = preview();
    if (!box) return;
    clearInterval(timer);
    const pieces = text.match(PIECE) || [];
    let shown = 0;
    box.textContent = "";
    box.dataset.state = "writing";
    timer = setInterval(() => {
      if (shown >= pieces.length) {
        clearInterval(timer);
        box.dataset.state = "written";
        return;
      }
      box.textContent += pieces[shown++];
    }, 1000 / PACE);
  }

  // pointerdown: page.js takes over Generate's click for the live player (and stops it there)
  window.addEventListener(
    "pointerdown",
    (event) => {
      if (!event.target.closest || !event.target.closest("#generate")) return;
      const controls = document.getElementById("realtime_controls");
      const written = document.querySelector("#speak_as_written input[type=checkbox]");
      const box = preview();
      if (controls && controls.offsetParent !== null && written && written.checked) {
        write(document.querySelector("#text textarea").value);
      } else if (box) {
        clearInterval(timer);
        box.textContent = "";
        delete box.dataset.state;
      }
    },
    true,
  );
})();

// Words lit DURING the live stream: the Studio's live run (page.js) is asked for its words or
// sentences (/live/<ticket>/words) while its audio arrives, and has the whole timeline from its
// /end answer. On every animation frame the span holding the played position is lit: the
// AudioContext's clock minus the run's first frame, less the silences the player put in where
// the stream fell behind (run.gaps), so the lit word follows what is heard, not what arrived.
(() => {
  const RATE = 24000; // the live player's rate (page.js)
  const POLL_MS = 200; // sentences: where the next one starts comes with its audio
  const MIN_ASK_MS = 40; // words: asked for as soon as audio arrives past the last one known
  let asking = null; // the ticket whose words are being fetched
  let drawn = ""; // what the box shows, as JSON
  let known = { ticket: null, at: 0, until: 0, timing: "" }; // the last answer

  const live = () => window.qwenTts && window.qwenTts.live;

  // ms of the run's audio heard by now (null before its first sample), from the page's clock.
  function heardMs(run) {
    const ctx = live().clock();
    if (!ctx || run.firstFrame === null) return null;
    const t = Math.floor(ctx.currentTime * RATE) - run.firstFrame;
    if (t < 0) return null;
    let shift = 0;
    for (const [at, frames] of run.gaps || []) {
      if (t < at + shift) break;
      if (t < at + shift + frames) return (at * 1000) / RATE; // inside a silence
      shift += frames;
    }
    return (Math.min(t - shift, run.receivedFrames) * 1000) / RATE;
  }

  const box = () => boxBeforeSpokenWords("live_words", "spoken-words");

  const escape = (text) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

  function draw(run, told) {
    const target = box();
    const json = run.ticket + JSON.stringify(told);
    if (!target || json === drawn) return;
    drawn = json;
    target.dataset.ticket = run.ticket;
    target.dataset.timing = told.timing || "";
    const spans = told.spans || [];
    target.innerHTML = spans.map((span, index) => {
      const next = spans[index + 1];
      const end = span.end ?? (next && next.begin !== null ? next.begin : "");
      const gap = told.timing === "words" && !/[\u3400-\u9fff]$/.test(span.text) ? " " : "";
      return `<span class="spoken" data-begin="${span.begin ?? ""}" data-end="${end}">` +
        `${escape(span.text)}</span>${gap}`;
    }).join("");
    lightBox(run, target); // drawn anew: the word playing stays lit, no frame without it
  }

  function lightBox(run, target) {
    const ms = heardMs(run);
    target.dataset.heard = ms === null ? "" : ms; // the position this lighting was for
    for (const span of target.querySelectorAll(".spoken")) {
      const { begin, end } = span.dataset;
      const on = ms !== null && begin !== "" && ms >= +begin && (end === "" || ms < +end);
      if (span.classList.contains("lit") !== on) span.classList.toggle("lit", on);
    }
  }

  async function ask(run) {
    asking = run.ticket;
    known = known.ticket === run.ticket ? { ...known, at: performance.now() }
      : { ticket: run.ticket, at: performance.now(), until: 0, timing: "" };
    try {
      const answer = await fetch(live().liveUrl(run.ticket, "/words"), { cache: "no-store" });
      if (answer.ok) {
        const told = await answer.json();
        const ends = (told.spans || []).map((span) => span.end ?? 0);
        known = { ...known, timing: told.timing, until: Math.max(0, ...ends) };
        draw(run, told);
      }
    } catch (_) { /* asked again soon */ }
    asking = null;
  }

  // Ask when the stream starts, when audio has arrived past the last word known (its words
  // came before its audio, or come with it), and every POLL_MS for sentences.
  function askIfDue(run) {
    if (!run || asking) return;
    if (run.told && run.told.timeline) { draw(run, run.told.timeline); return; }
    if (run.state !== "playing" || run.done || !run.words) return; // !words: an HTTP model
    const since = performance.now() - known.at;
    if (known.ticket !== run.ticket) ask(run);
    else if (known.timing === "words") {
      const arrived = (run.receivedFrames * 1000) / RATE;
      if (arrived > known.until && since > MIN_ASK_MS) ask(run);
    } else if (since > POLL_MS) ask(run);
  }

  setInterval(() => askIfDue(live() && live().current()), POLL_MS / 4);

  function light() {
    const run = live() && live().current();
    askIfDue(run);
    const target = document.getElementById("live_words");
    const sounding = run && (run.state === "playing" ||
      (run.state === "complete" && run.sources.size > 0));
    const mine = sounding && target && target.dataset.ticket === run.ticket &&
      target.dataset.timing;
    document.documentElement.classList.toggle("live-words", Boolean(mine));
    if (mine) lightBox(run, target);
    requestAnimationFrame(light);
  }

  requestAnimationFrame(light);
  window.qwenTtsWords = { heardMs };
})();

// Speak as I type (issue 13): with "Speak as I type" ticked for a realtime model, the first
// keystroke in the text box opens a session (studio.py's hidden #typed_live asks for its ticket,
// the live player plays it), and what is typed goes to /live/<ticket>/text word by word, in
// order, one request at a time; the model speaks it a sentence behind (server_commit). A pause
// of PAUSE_MS (or Ctrl+Enter) finishes it; Stop (studio.js) closes it. Only text added after
// what was sent is sent: an edit of what was already spoken is not spoken again.
(() => {
  const PAUSE_MS = 3000; // realtime.py's TYPED_IDLE_S ends a session the page lost, later
  const WORD_WAIT_MS = 600; // a word still being typed is sent after this wait
  const PIECE_END = /[\s.,!?;:\u3002\uff0c\uff01\uff1f\uff1b\uff1a\u3001\u3400-\u9fff]/u;
  let session = null; // {ticket, sent, queue, posting, finished, firstKeyAt, timers}
  const live = () => window.qwenTts.live;
  const textBox = () => document.querySelector("#text textarea");

  function ticked() {
    const controls = document.getElementById("realtime_controls");
    const typed = document.querySelector("#speak_as_typed input[type=checkbox]");
    return Boolean(controls && controls.offsetParent !== null && typed && typed.checked &&
      live().supported());
  }

  // Still open: its ticket not yet back, or its run still streaming.
  function active() {
    if (!session) return false;
    const run = live().current();
    if (session.ticket && (!run || run.ticket !== session.ticket || run.done)) {
      end();
      return false;
    }
    return !session.finished;
  }

  function note(html) {
    const box = boxBeforeSpokenWords("typed_status", "", "status");
    if (box) box.innerHTML = html;
  }

  function begin() {
    live().context(); // inside the keystroke: the audio may start
    live().stop();
    session = {
      ticket: null, sent: "", queue: [], posting: false, finished: false,
      firstKeyAt: performance.now(), word: null, pause: null,
    };
    note(window.qwenTts.words("page_typed_listening"));
    document.querySelector("#typed_live").click();
  }

  // The session's ticket is back (studio.py): play it and send what was typed meanwhile.
  function opened(ticket) {
    if (!session || session.ticket || !ticket) return;
    session.ticket = ticket;
    live().play(ticket);
    follow();
  }

  function end() {
    if (!session) return;
    clearTimeout(session.word);
    clearTimeout(session.pause);
    session.finished = true;
    if (document.getElementById("typed_status")?.dataset.error !== "1") note("");
  }

  // The text added since the last piece: whole words now, a word being typed after a wait.
  function follow(all = false) {
    if (!session || !session.ticket || session.finished) return;
    const value = textBox().value;
    if (!value.startsWith(session.sent)) session.sent = value; // an edit: not spoken again
    const tail = value.slice(session.sent.length);
    let cut = all ? tail.length : 0;
    for (let i = tail.length - 1; !all && i >= 0; i--) {
      if (PIECE_END.test(tail[i])) { cut = i + 1; break; }
    }
    if (cut) send({ text: tail.slice(0, cut) });
    session.sent += tail.slice(0, cut);
    clearTimeout(session.word);
    if (cut < tail.length) session.word = setTimeout(() => follow(true), WORD_WAIT_MS);
  }

  function finish() {
    if (!session || session.finished) return;
    follow(true);
    send({ text: "", finish: true });
    session.finished = true;
    clearTimeout(session.pause);
  }

  function send(body) {
    session.queue.push(body);
    pump(session);
  }

  async function pump(mine) {
    if (mine.posting) return;
    mine.posting = true;
    while (mine.queue.length) {
      const body = mine.queue.shift();
      const answer = await fetch(live().liveUrl(mine.ticket, "/text"), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body), cache: "no-store",
      }).catch(() => null);
      if (answer && !answer.ok) { // over the cap, or ended: say so, and end it
        const told = await answer.json().catch(() => null);
        mine.queue = body.finish ? [] : [{ text: "", finish: true }];
        mine.finished = true;
        const box = document.getElementById("typed_status");
        if (told && told.en && box) {
          const esc = (text) => text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
          note(`<span class="lang-en">${esc(told.en)}</span>` +
            `<span class="lang-zh">${esc(told.zh)}</span>`);
          box.dataset.error = "1";
        }
      }
    }
    mine.posting = false;
  }

  document.addEventListener("input", (event) => {
    if (!event.target.closest || !event.target.closest("#text textarea") || !ticked()) return;
    const status = document.getElementById("typed_status");
    if (!active()) {
      if (status) delete status.dataset.error;
      begin();
    }
    follow();
    clearTimeout(session.pause);
    session.pause = setTimeout(finish, PAUSE_MS);
  }, true);

  // Ctrl+Enter finishes the session (page.js would press Generate, which is Stop now).
  window.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || !active()) return;
    if (!event.target.closest || !event.target.closest("#text")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    finish();
  }, true);

  window.qwenTtsTyping = { opened, state: () => session && { ...session } };
})();
