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
