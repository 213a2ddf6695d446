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

// Speak as it is written: while the model is sent the text word by word, the page writes it out
// at the same pace (realtime.py's WRITTEN_PACE, carried by the box's data-pace), so the visitor
// sees the "chatbot" write as the voice follows.
(() => {
  const PACE = 4; // pieces a second: qwen_tts_showcase/realtime.py WRITTEN_PACE
  const PIECE = /[\u3400-\u9fff][^\w\u3400-\u9fff]*|[^\s\u3400-\u9fff]+[^\w\u3400-\u9fff]*\s*|\s+/gu;
  let timer = null;

  function preview() {
    let box = document.getElementById("written_preview");
    const anchor = document.getElementById("spoken_words");
    if (!box && anchor) {
      box = document.createElement("div");
      box.id = "written_preview";
      box.className = "written-preview";
      anchor.parentNode.insertBefore(box, anchor);
    }
    return box;
  }

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
