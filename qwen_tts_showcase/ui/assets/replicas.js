// Behind a load balancer (README, "Running more than one process"), the replica holding a
// visitor's page may stop mid-request. Gradio's client then shows its own English
// words ("Connection to the server was lost. Attempting reconnection...", or "Connection errored
// out."); say instead, in both languages (the browser's first), what happened
// and that reloading and pressing again works: the load balancer sends the new page to a
// replica alive (Gradio's client cannot carry on a session the dead replica held).
(() => {
  const GRADIO_LOST = ["Connection to the server was lost", "Connection errored out"];
  const TOAST_TEXT = '[data-testid="toast-text"]';
  const MESSAGES = window.qwenTtsMessages || {};
  const LOST = "page_server_lost";

  function explain(text) {
    if (!GRADIO_LOST.some((words) => text.textContent.includes(words)) || !MESSAGES[LOST]) return;
    const chineseFirst = navigator.language.toLowerCase().startsWith("zh");
    const order = chineseFirst ? ["zh", "en"] : ["en", "zh"];
    text.textContent = order.map((language) => MESSAGES[LOST][language]).join("\n");
  }

  new MutationObserver((mutations) => {
    for (const { addedNodes } of mutations) {
      for (const node of addedNodes) {
        const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
        if (element?.matches(TOAST_TEXT)) explain(element);
        else if (element === node) element.querySelectorAll(TOAST_TEXT).forEach(explain);
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
